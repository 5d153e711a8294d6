// `fived scheduler`: the pre-calculating scheduler (active, or standby while another holds the
// lease). Metrics on FIVED_SCHEDULER_PORT. SIGTERM/SIGINT: finish in-flight work, release the
// lease (a standby takes over at once), close the pool and the store.
import type { Command } from '../cli.js';
import { describeConfig } from '../config.js';
import { createStore } from '../store/index.js';
import { systemClock } from '../runtime/clock.js';
import { createLogger } from '../runtime/log.js';
import { createRegistry } from '../runtime/metrics.js';
import { createPool, storeOptionsOf } from '../runtime/pool.js';
import { onShutdown } from '../runtime/shutdown.js';
import { noArguments, reportUsage, type UsageError } from './args.js';
import { loadConfigOrReport, usesRedis, warnUnknownSettings } from './common.js';
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
    await store.init();
    // the scheduler has the host's cores to itself more than a gateway does: at least 2 threads
    const pool = await createPool(cfg, Math.max(cfg.poolThreads, 2));
    const registry = createRegistry();
    const scheduler = await startScheduler(cfg, { store, pool, registry, logger: log, clock: systemClock(cfg.clockOffsetMs) });
    return onShutdown(
      log,
      async () => {
        await scheduler.stop();
        await pool.close();
        await store.close();
        log.info('fived scheduler stopped');
      },
      cfg.drainMs + 5000,
    );
  },
};
