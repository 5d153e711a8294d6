// bench:archive (issue 14): does the archiver keep up with 20,000 bets/s?
//
// Its own Redis and PostgreSQL (test/support), a real `fived scheduler` and a real `fived archiver`
// (separate processes, as in production). Every period of a 5 s room gets RATE × 5 bets (the bulk
// loader, with the per-bet entries the archiver reads), so bets arrive at RATE per second for
// FIVED_BENCH_ARCHIVE_S seconds; the scheduler settles each period at its end and the archiver
// copies it. Measured:
//   lag_p99_s   per period: archived_at (PostgreSQL's now() at the commit of its row, after all
//               its bets) minus the period's end; p99 over the periods loaded
//   rows_per_s  rows written / time the archiver spent in passes that wrote rows (its metrics
//               fived_archive_rows_total and fived_archive_busy_seconds_total): its capacity
// Targets: rows_per_s >= 20,000 and lag_p99_s < 5. Ends with `RESULT {json}`; bench/results/archive.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { loadBets } from './lib/loader.js';
import { RedisStore } from '../dist/store/redis.js';
import { commitPeriod } from '../dist/runtime/commit.js';
import { loadConfig } from '../dist/config.js';
import { migrate, openPool } from '../dist/archive/db.js';
import { nextWindow, roomsOf, windowAt, type Room } from '../dist/runtime/rooms.js';
import type { PeriodWindow } from '../dist/core/types.js';
import { startRedis } from '../test/support/redis.js';
import { startPostgres } from '../test/support/postgres.js';
import { freePort } from '../test/support/ports.js';
import { startFived } from '../test/support/fived.js';
import { runMain, stopAll, stopAllOnExit } from '../test/support/procs.js';
import { pct, r2 } from './lib/stats.js';

const DURATION = 5;
const FREEZE_MS = 1000;
const RATE = Number(process.env.FIVED_BENCH_ARCHIVE_RATE ?? 20_000);
const SECONDS = Number(process.env.FIVED_BENCH_ARCHIVE_S ?? 60);
const log = (msg: string) => console.log(`[bench:archive] ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** The sum of a metric's samples in a Prometheus text exposition. */
function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name) && /^[a-z_]+(\{[^}]*\})? /.test(line)) sum += Number(line.split(' ').pop());
  return sum;
}

async function main(): Promise<void> {
  stopAllOnExit('bench');
  const [redis, pg] = await Promise.all([startRedis(), startPostgres()]);
  const pool = openPool(pg.url, 2);
  await migrate(pool);
  const prefix = `bench-archive:${process.pid}:`;
  const metricsPort = await freePort();
  const env = {
    ...process.env,
    FIVED_REDIS_URL: redis.url, FIVED_SEED_KEY: randomBytes(32).toString('hex'), FIVED_KEY_PREFIX: prefix,
    FIVED_DURATIONS: String(DURATION), FIVED_FREEZE_MS: String(FREEZE_MS), FIVED_SCHEDULER_PORT: '0', FIVED_LOG_LEVEL: 'info',
    FIVED_ARCHIVE_URL: pg.url, FIVED_ARCHIVER_PORT: String(metricsPort), // default poll: the settled notice wakes it
  };
  const cfg = loadConfig(env);
  const room: Room = roomsOf(cfg)[0]!;
  const store = new RedisStore({ redisUrl: redis.url, keyPrefix: prefix, instance: 'bench', seedKey: env.FIVED_SEED_KEY });
  await store.init();
  const logDir = path.join(os.tmpdir(), `fived-bench-archive-${process.pid}`);
  const sched = startFived('scheduler', ['scheduler'], { env: { ...env, FIVED_INSTANCE: 'bench-scheduler' }, logFile: path.join(logDir, 'scheduler.log'), group: true });
  const arch = startFived('archiver', ['archiver'], { env: { ...env, FIVED_INSTANCE: 'bench-archiver' }, logFile: path.join(logDir, 'archiver.log'), group: true });
  log(`scheduler pid ${sched.pid}, archiver pid ${arch.pid} (logs in ${logDir}); ${RATE} bets/s for ${SECONDS} s in a ${DURATION} s room`);
  await sleep(2 * DURATION * 1000);

  const perPeriod = RATE * DURATION;
  const loaded: PeriodWindow[] = [];
  const t0 = Date.now();
  const result: Record<string, unknown> = { cpus: os.cpus().length, loadavg_start: os.loadavg().map(r2), bets_per_s_offered: RATE, duration_s: DURATION };
  try {
    while (Date.now() - t0 < SECONDS * 1000) {
      let w = nextWindow(room, windowAt(room, Date.now()));
      while (w.startsAt - Date.now() < 300) w = nextWindow(room, w);
      await commitPeriod(store, w, Date.now());
      const l = await loadBets(store, w, perPeriod, { users: 20_000, userPrefix: `a${loaded.length}-`, random: loaded.length + 1, paytable: cfg.paytable, idem: true });
      if (Date.now() > w.freezeAt) throw new Error(`loading ${perPeriod} bets overran the freeze of ${w.periodId}`);
      loaded.push(w);
      log(`period ${w.periodId}: ${perPeriod} bets loaded in ${l.ms} ms`);
      await sleep(w.startsAt - Date.now() + 50); // the next load goes into the period after this one
    }
    const last = loaded[loaded.length - 1]!;
    const deadline = last.endsAt + 120_000;
    for (;;) {
      const r = await pool.query<{ position: string }>('SELECT position FROM archive_cursor WHERE stream = $1', [`period:${room.timeline}:${room.duration}`]);
      if ((r.rows[0]?.position ?? '') >= last.periodId) break;
      if (Date.now() > deadline) throw new Error('the archive did not catch up within 120 s of the last period');
      await sleep(250);
    }
    const ids = loaded.map((w) => w.periodId);
    const rows = await pool.query<{ period_id: string; lag: number; bet_count: number }>(
      'SELECT period_id, extract(epoch FROM archived_at - ends_at)::float8 AS lag, bet_count FROM periods WHERE duration = $1 AND period_id = ANY($2)', [DURATION, ids]);
    const bets = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM bets WHERE duration = $1 AND period_id = ANY($2)', [DURATION, ids]);
    if (rows.rows.length !== ids.length || bets.rows[0]!.n !== perPeriod * ids.length) {
      throw new Error(`archive incomplete: ${rows.rows.length}/${ids.length} periods, ${bets.rows[0]!.n}/${perPeriod * ids.length} bets`);
    }
    const lags = rows.rows.map((r) => r.lag).sort((a, b) => a - b);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const written = metricSum(metrics, 'fived_archive_rows_total');
    const busy = metricSum(metrics, 'fived_archive_busy_seconds_total');
    Object.assign(result, {
      rows_per_s: Math.round(written / busy),
      lag_p99_s: r2(pct(lags, 99)),
      lag_p50_s: r2(pct(lags, 50)),
      lag_max_s: r2(lags[lags.length - 1]!),
      periods: ids.length,
      bets: bets.rows[0]!.n,
      rows_written: written,
      busy_s: r2(busy),
      loadavg_end: os.loadavg().map(r2),
      targets: { rows_per_s: RATE, lag_p99_s: 5 },
      node: process.version,
    });
  } finally {
    await Promise.all([sched.stop(8000), arch.stop(8000)]);
    await store.close();
    await pool.end();
    await Promise.all([redis.stop(), pg.stop()]);
    await stopAll();
  }
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/archive.json', JSON.stringify(result, null, 2) + '\n');
  console.log(`RESULT ${JSON.stringify({ rows_per_s: result.rows_per_s, lag_p99_s: result.lag_p99_s, ...result })}`);
}

runMain(main);
