// `fived scheduler`: the pre-calculating scheduler (active, or standby while another holds the
// lease). Metrics on FIVED_SCHEDULER_PORT. SIGTERM/SIGINT: finish in-flight work, release the
// lease (a standby takes over at once), close the pool and the store.
import type { Command } from './types.js';
import { describeConfig } from '../config.js';
import { isFivedError } from '../errors.js';
import { createStore } from '../store/index.js';
import { systemClock } from '../runtime/clock.js';
import { createLogger } from '../runtime/log.js';
import { createRegistry } from '../runtime/metrics.js';
import { createPool, storeOptionsOf } from '../runtime/pool.js';
import { onShutdown } from '../runtime/shutdown.js';
import { noArguments, reportUsage, type UsageError } from './args.js';
import { exitSoon, loadConfigOrReport, usesRedis, warnUnknownSettings } from './common.js';
import { startScheduler } from '../scheduler/index.js';

export const command: Command = {
  summary: 'run the pre-calculating scheduler (one active, others standby)',
  usage: 'fived scheduler   (configured by FIVED_* environment variables; see fived check-config)',
  async run(args: string[]): Promise<number> {
    try { noArguments(args, 'scheduler', this.usage); } catch (err) { return reportUsage(err as UsageError, 'scheduler'); }
    const cfg = loadConfigOrReport();
    if (!cfg) return 2;
    const log = createLogger(cfg, 'scheduler');
    log.info({ config: describeConfig(cfg) }, 'starting fived scheduler');
    warnUnknownSettings(log);
    if (!usesRedis(cfg)) {
      log.warn('FIVED_REDIS_URL is empty: an in-memory store is private to this process (use `fived all` for one process)');
    }
    const store = createStore(storeOptionsOf(cfg));
    let pool: Awaited<ReturnType<typeof createPool>> | null = null;
    let scheduler: Awaited<ReturnType<typeof startScheduler>>;
    try {
      await store.init();
      // the scheduler has the host's cores to itself more than a gateway does: at least 2 threads
      pool = await createPool(cfg, Math.max(cfg.poolThreads, 2));
      scheduler = await startScheduler(cfg, { store, pool, registry: createRegistry(), logger: log, clock: systemClock(cfg.clockOffsetMs) });
    } catch (err) {
      // a port in use, a store that refuses us: exit non-zero now (systemd's Restart=on-failure), issue 13
      log.error({ err, code: isFivedError(err) ? err.code : undefined }, `scheduler failed to start: ${err instanceof Error ? err.message : String(err)}`);
      console.error(`fived scheduler: ${isFivedError(err) ? `${err.code}: ` : ''}${err instanceof Error ? err.message : String(err)}`);
      await pool?.close().catch(() => undefined);
      await store.close().catch(() => undefined);
      exitSoon(1);
      return 1;
    }
    const running = { scheduler, pool };
    return onShutdown(
      log,
      async () => {
        await running.scheduler.stop();
        await running.pool.close();
        await store.close();
        log.info('fived scheduler stopped');
      },
      cfg.drainMs + 5000,
    );
  },
};
