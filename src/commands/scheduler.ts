// `fived scheduler`: the pre-calculating scheduler (active, or standby while another holds the
// lease). Metrics on FIVED_SCHEDULER_PORT. SIGTERM/SIGINT: finish in-flight work, release the
// lease (a standby takes over at once), close the pool and the store (commands/assemble.ts).
import { startScheduler } from '../scheduler/index.js';
import { assemble } from './assemble.js';
import { usesRedis } from './common.js';
import type { Command } from './args.js';

const usage = 'fived scheduler   (configured by FIVED_* environment variables; see fived check-config)';

export const command: Command = {
  summary: 'run the pre-calculating scheduler (one active, others standby)',
  usage,
  run: (args: string[]) =>
    assemble({
      name: 'scheduler',
      usage,
      warn: (cfg, log) => {
        if (!usesRedis(cfg)) log.warn('FIVED_REDIS_URL is empty: an in-memory store is private to this process (use `fived all` for one process)');
      },
      // the scheduler has the host's cores to itself more than a gateway does: at least 2 threads
      threads: (cfg) => Math.max(cfg.poolThreads, 2),
      start: ({ cfg, store, pool, registry, log, clock }) => startScheduler(cfg, { store, pool, registry, logger: log, clock }),
    }, args),
};
