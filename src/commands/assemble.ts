// The one assembly of the serving commands (all, gateway, scheduler): strict (empty) command line,
// the configuration, the logger, the store, the worker pool, one metrics registry and the clock;
// then the command's own services; then SIGTERM/SIGINT: the services stop (a gateway drains, a
// scheduler releases its lease), the pool and the store close, within drainMs + a bound.
// A start that fails (a port in use, a store that refuses us) exits non-zero at once, whatever it
// opened (systemd's Restart=on-failure takes over; issue 13).
import { describeConfig, type Config } from '../config.js';
import { isFivedError } from '../errors.js';
import { systemClock, type Clock } from '../runtime/clock.js';
import { createLogger, type Logger } from '../runtime/log.js';
import { createRegistry, type Registry } from '../runtime/metrics.js';
import { createPool, storeOptionsOf } from '../runtime/pool.js';
import { onShutdown } from '../runtime/shutdown.js';
import { createStore } from '../store/index.js';
import type { Store } from '../store/types.js';
import type { ComputePool } from '../worker/pool.js';
import { noArguments, reportUsage, type UsageError } from './args.js';
import { exitSoon, loadConfigOrReport, warnUnknownSettings } from './common.js';

/** What a serving command's services are started with. */
export interface Assembly {
  cfg: Readonly<Config>;
  log: Logger;
  store: Store;
  pool: ComputePool;
  registry: Registry;
  clock: Clock;
  /** the unknown FIVED_* names, one message each (already logged as a warning) */
  unknown: string[];
}

/** What a serving command started: stopped first on SIGTERM/SIGINT, before the pool and the store. */
export interface Services {
  stop(): Promise<void>;
}

export interface ServingCommand {
  /** the command's name: `fived NAME`, the logger's component, the start and stop lines */
  name: 'all' | 'gateway' | 'scheduler';
  usage: string;
  /** a configuration this command cannot serve: the message (printed, exit 2) before anything opens */
  refuse?(cfg: Readonly<Config>): string | null;
  /** extra fields of the start line */
  describe?(cfg: Readonly<Config>): Record<string, unknown>;
  /** warnings about a configuration this command serves, once the logger exists */
  warn?(cfg: Readonly<Config>, log: Logger): void;
  /** worker threads (default FIVED_POOL_THREADS) */
  threads?(cfg: Readonly<Config>): number;
  start(a: Assembly): Promise<Services>;
  /** after the stop: end the process within this bound even if something still holds the loop */
  exitAfterStopMs?: number;
}

const messageOf = (err: unknown) => `${isFivedError(err) ? `${err.code}: ` : ''}${err instanceof Error ? err.message : String(err)}`;

/** Runs a serving command to its end; resolves to the exit code. */
export async function assemble(c: ServingCommand, args: string[]): Promise<number> {
  try { noArguments(args, c.name, c.usage); } catch (err) { return reportUsage(err as UsageError, c.name); }
  const cfg = loadConfigOrReport();
  if (!cfg) return 2;
  const refusal = c.refuse?.(cfg) ?? null;
  if (refusal !== null) {
    console.error(refusal);
    return 2;
  }
  const log = createLogger(cfg, c.name);
  log.info({ config: describeConfig(cfg), ...c.describe?.(cfg) }, `starting fived ${c.name}`);
  const unknown = warnUnknownSettings(log);
  c.warn?.(cfg, log);
  const store = createStore(storeOptionsOf(cfg));
  let pool: ComputePool | null = null;
  let services: Services;
  try {
    await store.init();
    pool = await createPool(cfg, c.threads?.(cfg));
    services = await c.start({ cfg, log, store, pool, registry: createRegistry(), clock: systemClock(cfg.clockOffsetMs), unknown });
  } catch (err) {
    log.error({ err, code: isFivedError(err) ? err.code : undefined }, `${c.name} failed to start: ${err instanceof Error ? err.message : String(err)}`);
    console.error(`fived ${c.name}: ${messageOf(err)}`);
    await pool?.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    exitSoon(1);
    return 1;
  }
  const running = { services, pool };
  const code = await onShutdown(log, async () => {
    await running.services.stop();
    await running.pool.close();
    await store.close();
    log.info(`fived ${c.name} stopped`);
  }, cfg.drainMs + 5000);
  if (c.exitAfterStopMs !== undefined) setTimeout(() => process.exit(code), c.exitAfterStopMs).unref();
  return code;
}
