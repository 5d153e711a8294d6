// `fived gateway`: one uWebSockets.js gateway on FIVED_PORT against Redis. Redis is required: a
// gateway on the in-memory store would be an island (its own bets, commitments and results,
// invisible to every other process) — `fived all` is the one-process mode.
// SIGTERM/SIGINT: drain (ready → 503, GOING_AWAY to clients, in-flight work), then close the
// pool and the store, within drainMs + a bound.
import type { Command } from './types.js';
import { describeConfig } from '../config.js';
import { isFivedError } from '../errors.js';
import { startGateway } from '../gateway/index.js';
import { systemClock } from '../runtime/clock.js';
import { createLogger } from '../runtime/log.js';
import { createRegistry } from '../runtime/metrics.js';
import { createPool, storeOptionsOf } from '../runtime/pool.js';
import { onShutdown } from '../runtime/shutdown.js';
import { noArguments, reportUsage, type UsageError } from './args.js';
import { exitSoon, loadConfigOrReport, usesRedis, warnUnknownSettings } from './common.js';
import { createStore } from '../store/index.js';

export const command: Command = {
  summary: 'run one WebSocket/HTTP gateway (requires FIVED_REDIS_URL)',
  usage: 'fived gateway   (configured by FIVED_* environment variables; see fived check-config)',
  async run(args: string[]): Promise<number> {
    try { noArguments(args, 'gateway', this.usage); } catch (err) { return reportUsage(err as UsageError, 'gateway'); }
    const cfg = loadConfigOrReport();
    if (!cfg) return 2;
    if (!usesRedis(cfg)) {
      console.error(
        'fived gateway: FIVED_REDIS_URL (or FIVED_REDIS_SENTINELS) must be set. A gateway on the in-memory store would be ' +
          'a lone island: its commitments, bets and results invisible to every other gateway and to the scheduler. ' +
          'For a single process use `fived all` (npm start), which runs a gateway and the scheduler on one in-memory store.',
      );
      return 2;
    }
    const log = createLogger(cfg, 'gateway');
    log.info({ config: describeConfig(cfg) }, 'starting fived gateway');
    warnUnknownSettings(log);
    const store = createStore(storeOptionsOf(cfg));
    let pool: Awaited<ReturnType<typeof createPool>> | null = null;
    let gateway: Awaited<ReturnType<typeof startGateway>>;
    try {
      await store.init();
      pool = await createPool(cfg);
      gateway = await startGateway(cfg, { store, pool, registry: createRegistry(), logger: log, clock: systemClock(cfg.clockOffsetMs) });
    } catch (err) {
      log.error({ err, code: isFivedError(err) ? err.code : undefined }, `gateway failed to start: ${err instanceof Error ? err.message : String(err)}`);
      console.error(`fived gateway: ${isFivedError(err) ? `${err.code}: ` : ''}${err instanceof Error ? err.message : String(err)}`);
      await pool?.close().catch(() => undefined);
      await store.close().catch(() => undefined);
      exitSoon(1);
      return 1;
    }
    const code = await onShutdown(
      log,
      async () => {
        await gateway.stop();
        await pool?.close();
        await store.close();
        log.info('fived gateway stopped');
      },
      cfg.drainMs + 5000,
    );
    // whatever still holds the loop (a stuck connection), the process ends within a bound
    setTimeout(() => process.exit(code), 2000).unref();
    return code;
  },
};
