// npm run bench:scheduler — time from a period's freeze instant to `5d_precalc:completed` received
// by a subscriber, with a real `fived scheduler` process on a redis-server this benchmark starts:
//   precalc_0_ms     no bets in the period
//   precalc_10k_ms   10,000 bets   (bulk-loaded with bench/lib/loader.ts before the freeze)
//   precalc_1m_ms    1,000,000 bets
// The interval covers the scheduler's freeze timer, the worker's freeze + snapshot on its own
// Redis connection, draw + settlement + exposure, saving the plan, SET NX of the result, the
// publish and the subscriber's receipt. Medians of repeated periods (4 s rooms, freeze 1 s).
// Targets: <= 20, <= 60, <= 1000 ms. Final line `RESULT {json}`, also bench/results/scheduler.json.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
// the compiled code from dist/ (npm run bench:scheduler builds first): what production runs
import { loadBets } from './lib/loader.js';
import { RedisStore } from '../dist/store/redis.js';
import { CHANNELS } from '../dist/store/keys.js';
import { commitPeriod } from '../dist/runtime/commit.js';
import { loadConfig } from '../dist/config.js';
import { nextWindow, roomsOf, windowAt, type Room } from '../dist/runtime/rooms.js';
import type { PeriodWindow } from '../dist/core/types.js';
import { startRedis } from '../test/support/redis.js';
import { startFived } from '../test/support/fived.js';
import { runMain, stopAll, stopAllOnExit } from '../test/support/procs.js';
import { medianOf } from './lib/stats.js';

const DURATION = 4;
const FREEZE_MS = 1000;
const PLAN: Array<{ key: 'precalc_0_ms' | 'precalc_10k_ms' | 'precalc_1m_ms'; bets: number; repeats: number; leadMs: number }> = [
  { key: 'precalc_0_ms', bets: 0, repeats: 7, leadMs: 300 },
  { key: 'precalc_10k_ms', bets: 10_000, repeats: 7, leadMs: 1000 },
  { key: 'precalc_1m_ms', bets: 1_000_000, repeats: 5, leadMs: 9000 },
];
const log = (msg: string) => console.log(`[bench:scheduler] ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

interface Notice { periodId: string; tracking?: { computeMs?: number; betCount?: number } }

/** The scheduler's own split of each pre-calculation (from its `Pre-calculation completed` log lines). */
function breakdown(logFile: string, periods: Set<string>): Array<{ snapshotMs: number; workerMs: number; saveMs: number }> {
  const out: Array<{ snapshotMs: number; workerMs: number; saveMs: number }> = [];
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('Pre-calculation completed')) continue;
    try {
      const l = JSON.parse(line) as { periodId?: string; snapshotMs?: number; workerMs?: number; saveMs?: number };
      if (l.periodId && periods.has(l.periodId)) out.push({ snapshotMs: l.snapshotMs ?? NaN, workerMs: l.workerMs ?? NaN, saveMs: l.saveMs ?? NaN });
    } catch {
      /* not a log line */
    }
  }
  return out;
}

async function main(): Promise<void> {
  stopAllOnExit('bench');
  const redis = await startRedis();
  const prefix = `bench-sched:${process.pid}:`;
  const env = {
    ...process.env,
    FIVED_REDIS_URL: redis.url,
    FIVED_SEED_KEY: randomBytes(32).toString('hex'),
    FIVED_KEY_PREFIX: prefix,
    FIVED_DURATIONS: String(DURATION),
    FIVED_FREEZE_MS: String(FREEZE_MS),
    FIVED_SCHEDULER_PORT: '0',
    FIVED_INSTANCE: 'bench-scheduler',
    FIVED_LOG_LEVEL: 'info',
  };
  const cfg = loadConfig(env);
  const room: Room = roomsOf(cfg)[0]!;
  const store = new RedisStore({ redisUrl: redis.url, keyPrefix: prefix, instance: 'bench', seedKey: env.FIVED_SEED_KEY });
  await store.init();
  const waiting = new Map<string, (n: Notice, at: number) => void>();
  await store.subscribe(CHANNELS.completed, (_ch, msg) => {
    const at = Date.now();
    const n = msg as Notice;
    waiting.get(n.periodId)?.(n, at);
  });

  const logFile = path.join(os.tmpdir(), `fived-bench-scheduler-${process.pid}.log`);
  const sched = startFived('scheduler', ['scheduler'], { env, logFile, group: true });
  log(`scheduler pid ${sched.pid} (log ${logFile}); warming up for two periods`);
  // warm-up: the worker threads open their own Redis connection on their first period
  await sleep(2 * DURATION * 1000 + 500);

  const result: Record<string, unknown> = { duration_s: DURATION, freeze_ms: FREEZE_MS, cpus: os.cpus().length, loadavg_start: os.loadavg().map((x) => Math.round(x * 100) / 100) };
  let user = 0;
  try {
    for (const step of PLAN) {
      const samples: number[] = [];
      const computeMs: number[] = [];
      const periods = new Set<string>();
      let attempts = 0;
      while (samples.length < step.repeats && attempts < step.repeats * 3) {
        attempts++;
        // a period far enough ahead to commit it before it opens and load its bets before its freeze
        let w: PeriodWindow = nextWindow(room, windowAt(room, Date.now()));
        while (w.startsAt - Date.now() < step.leadMs) w = nextWindow(room, w);
        await commitPeriod(store, w, Date.now());
        if (step.bets > 0) {
          const t0 = performance.now();
          await loadBets(store, w, step.bets, { users: Math.min(step.bets, 100_000), userPrefix: `b${user++}-`, random: attempts, paytable: cfg.paytable });
          log(`${step.key}: loaded ${step.bets} bets into ${w.periodId} in ${Math.round(performance.now() - t0)} ms`);
        }
        if (Date.now() > w.freezeAt - 200) {
          log(`${step.key}: loading overran the freeze of ${w.periodId}; sample discarded`);
          continue;
        }
        const got = new Promise<{ n: Notice; at: number }>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`no completion for ${w.periodId}`)), w.endsAt - Date.now() + 5000);
          waiting.set(w.periodId, (n, at) => { clearTimeout(t); resolve({ n, at }); });
        });
        const { n, at } = await got;
        waiting.delete(w.periodId);
        const ms = at - w.freezeAt;
        if (n.tracking?.betCount !== undefined && n.tracking.betCount !== step.bets) throw new Error(`period ${w.periodId}: snapshot had ${n.tracking.betCount} bets, loaded ${step.bets}`);
        samples.push(ms);
        periods.add(w.periodId);
        if (typeof n.tracking?.computeMs === 'number') computeMs.push(n.tracking.computeMs);
        log(`${step.key}: period ${w.periodId} freeze → completed ${ms} ms (scheduler compute ${n.tracking?.computeMs} ms)`);
        await sleep(w.endsAt - Date.now() + 100); // let the settlement at the end pass before the next load
      }
      const m = medianOf(samples);
      const parts = breakdown(logFile, periods);
      result[step.key] = m.median;
      result[`${step.key.replace('_ms', '')}_runs`] = {
        ...m,
        compute_ms_median: medianOf(computeMs).median,
        worker_snapshot_ms_median: medianOf(parts.map((x) => x.snapshotMs)).median,
        worker_compute_ms_median: medianOf(parts.map((x) => x.workerMs)).median,
        worker_save_ms_median: medianOf(parts.map((x) => x.saveMs)).median,
      };
    }
  } finally {
    await sched.stop(8000);
    await store.close();
    await redis.stop();
    await stopAll();
  }
  result.loadavg_end = os.loadavg().map((x) => Math.round(x * 100) / 100);
  result.targets = { precalc_0_ms: 20, precalc_10k_ms: 60, precalc_1m_ms: 1000 };
  result.node = process.version;
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/scheduler.json', JSON.stringify(result, null, 2) + '\n');
  console.log(`RESULT ${JSON.stringify(result)}`);
}

runMain(main);
