// `fived archiver`: copies ended periods, bets and ledger entries from Redis into PostgreSQL
// (FIVED_ARCHIVE_URL), exactly once (src/archive/archiver.ts). Its own service rather than part of
// the scheduler: PostgreSQL being slow or down never delays a freeze or a settlement, and it can be
// restarted, scaled to a standby or stopped alone (docs/operations.md). Metrics on FIVED_ARCHIVER_PORT.
import { describeConfig, type Config } from '../config.js';
import { ErrorCode, FivedError } from '../errors.js';
import { Archiver } from '../archive/archiver.js';
import { openPool, readMigrations, schemaVersion } from '../archive/db.js';
import { createStore } from '../store/index.js';
import { createLogger, type Logger } from '../runtime/log.js';
import { createRegistry, type Registry } from '../runtime/metrics.js';
import { storeOptionsOf } from '../runtime/pool.js';
import { roomsOf } from '../runtime/rooms.js';
import { CHANNELS } from '../store/keys.js';
import { onShutdown } from '../runtime/shutdown.js';
import { serveSchedulerHttp } from '../scheduler/http.js';
import type { Store } from '../store/types.js';
import { type Command, noArguments, reportUsage, type UsageError } from './args.js';
import { loadConfigOrReport, usesRedis, warnUnknownSettings } from './common.js';

/** An archiver on this store and FIVED_ARCHIVE_URL (also used by `fived all`). Refuses an unmigrated schema. */
export async function startArchiver(cfg: Readonly<Config>, store: Store, log: Logger, registry: Registry): Promise<{ archiver: Archiver; close(): Promise<void> }> {
  const pool = openPool(cfg.archiveUrl, 5, (err) => log.warn({ err: err.message }, 'archive connection error'), true);
  const want = readMigrations().at(-1)?.version ?? 0;
  const have = await schemaVersion(pool);
  if (have < want) {
    await pool.end();
    throw new FivedError(ErrorCode.CONFIG_INVALID, `the archive schema is at version ${have}, this fived needs ${want}: run \`fived archive migrate\``);
  }
  const archiver = new Archiver(pool, store, roomsOf(cfg), log, registry, {
    batchRows: cfg.archiveBatchRows, pollMs: cfg.archivePollMs, alertLagS: cfg.archiveAlertLagS,
    staleMs: 10 * 60_000, startBackMs: 2 * 86_400_000,
  });
  archiver.start();
  // at-most-once notices: a missed one only leaves the period to the next poll
  for (const ch of [CHANNELS.settled, CHANNELS.void]) await store.subscribe(ch, () => archiver.nudge()).catch(() => undefined);
  return { archiver, close: async () => { await archiver.stop(); await pool.end(); } };
}

export const command: Command = {
  summary: 'copy ended periods, bets and ledger entries into PostgreSQL (FIVED_ARCHIVE_URL)',
  usage: 'fived archiver   (FIVED_REDIS_URL and FIVED_ARCHIVE_URL; one works, others stand by)',
  async run(args: string[]): Promise<number> {
    try { noArguments(args, 'archiver', this.usage); } catch (err) { return reportUsage(err as UsageError, 'archiver'); }
    const cfg = loadConfigOrReport();
    if (!cfg) return 2;
    const log = createLogger(cfg, 'archiver');
    warnUnknownSettings(log);
    if (cfg.archiveUrl === '' || !usesRedis(cfg)) {
      log.error('fived archiver needs FIVED_ARCHIVE_URL and FIVED_REDIS_URL (or sentinels): it copies from Redis into PostgreSQL');
      return 2;
    }
    log.info({ config: describeConfig(cfg) }, 'starting fived archiver');
    const store = createStore(storeOptionsOf(cfg));
    await store.init();
    const registry = createRegistry();
    let running: Awaited<ReturnType<typeof startArchiver>>;
    try {
      running = await startArchiver(cfg, store, log, registry);
    } catch (err) {
      log.error({ err }, (err as Error).message);
      await store.close();
      return 1;
    }
    const a = running.archiver;
    const http = cfg.archiverPort === 0 ? null : await serveSchedulerHttp({ ...cfg, schedulerPort: cfg.archiverPort }, registry, () => ({
      ready: store.healthy(), reasons: store.healthy() ? [] : ['store unavailable'], role: a.isActive() ? 'active' : 'standby', skewMs: null,
    }));
    return onShutdown(log, async () => {
      await running.close();
      await http?.close();
      await store.close();
      log.info('fived archiver stopped');
    }, cfg.drainMs + 5000);
  },
};
