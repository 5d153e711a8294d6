// npm run bench:store — the Redis store on a redis-server this benchmark starts itself:
//   bets_per_s, bet_p99_ms             placeBet (bets of one event-loop turn batched into one Lua call) from CONCURRENCY concurrent
//                                      callers on one auto-pipelined connection, persistence off
//   bets_per_s_fsync, bet_p99_ms_fsync the same with appendonly yes + appendfsync always
//   bets_per_s_wait, bet_p99_ms_wait   the same (durable) on a primary with one replica: each bet
//                                      acknowledged only after WAIT 1 confirms the replica holds it
//                                      (FIVED_REDIS_MIN_REPLICAS=1, min-replicas-to-write 1; issue 13)
//   snapshot_1m_ms                     snapshot of 1,000,000 bets written by the bulk loader
//                                      (freeze + records blob + user list, decoded to BetSnapshot)
//   settle_100k_ms                     applySettlement of a plan with 100,000 winners (journaled chunks)
// Medians of repeated runs. Final line `RESULT {json}`, also written to bench/results/store.json.

import { mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
// the compiled store from dist/ (npm run bench:store builds first): what production runs
import { recordCount, readRecord } from '../dist/core/betbuf.js';
import { DEFAULT_PAYTABLE, type PeriodWindow } from '../dist/core/types.js';
import { loadBets } from './lib/loader.js';
import { RedisStore } from '../dist/store/redis.js';
import type { BetLimits, SettlementPlan, StoreOptions } from '../dist/store/types.js';
import { runMain } from '../test/support/procs.js';
import { startRedis, TEST_REDIS_USER, type TestRedis } from '../test/support/redis.js';
import { waitForSync } from '../test/support/sentinel.js';

const CONCURRENCY = 64;
const BET_SECONDS = 4;
const REPEATS = 3;
const USERS = 2000;
const LIMITS: BetLimits = { minStake: 2, maxStake: 10_000_000, maxUserStakePerPeriod: Number.MAX_SAFE_INTEGER, maxLiability: 0, maxBetsPerUserPerPeriod: 0 };
/** the seed key the bench's stores seal under (a RedisStore needs one to commit) */
const SEED_KEY = randomBytes(32).toString('hex');

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const log = (msg: string) => console.log(`[bench:store] ${msg}`);

let periodSeq = 0;
function period(now: number, startOffset = -1000, endOffset = 3_600_000): PeriodWindow {
  periodSeq += 1;
  return { duration: 60, timeline: 'default', periodId: `20250731${String(periodSeq).padStart(9, '0')}`, startsAt: now + startOffset, freezeAt: now + endOffset - 5000, endsAt: now + endOffset };
}

async function betRun(store: RedisStore, tag: string): Promise<{ perS: number; p99: number }> {
  const w = period(Date.now());
  await store.commit(w, '5d'.repeat(32), w.startsAt - 1);
  const lat: number[] = [];
  let n = 0;
  const deadline = performance.now() + BET_SECONDS * 1000;
  const t0 = performance.now();
  const client = async (c: number) => {
    while (performance.now() < deadline) {
      const i = n++;
      const s = performance.now();
      await store.placeBet({ period: w, userId: `b${(i * 7 + c) % USERS}`, clientBetId: `${tag}-${i}`, kind: 'A', pick: i % 10, amount: 2 + (i % 100) }, LIMITS, DEFAULT_PAYTABLE, Date.now());
      lat.push(performance.now() - s);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, c) => client(c)));
  const secs = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return { perS: lat.length / secs, p99: lat[Math.floor(lat.length * 0.99)]! };
}

async function betBench(redis: TestRedis, label: string, extra: Partial<StoreOptions> = {}): Promise<{ perS: number; p99: number }> {
  const store = new RedisStore({ redisUrl: redis.url, keyPrefix: `bench:${label}:`, instance: 'bench', seedKey: SEED_KEY, ...extra });
  await store.init();
  for (let u = 0; u < USERS; u++) await store.credit(`b${u}`, 1e11, `dep-${u}`);
  const runs: Array<{ perS: number; p99: number }> = [];
  for (let r = 0; r < REPEATS; r++) {
    const x = await betRun(store, `${label}${r}`);
    log(`${label} run ${r + 1}: ${Math.round(x.perS)} bets/s, p99 ${round(x.p99, 2)} ms`);
    runs.push(x);
  }
  const t = await store.walletTotals();
  if (!t.balanced) throw new Error('wallet invariant broken');
  await store.close();
  return { perS: median(runs.map((x) => x.perS)), p99: median(runs.map((x) => x.p99)) };
}

async function main(): Promise<void> {
  const result: Record<string, number | string> = {};
  const load0 = os.loadavg()[0]!;

  log('redis-server, persistence off');
  const plain = await startRedis();
  try {
    const b = await betBench(plain, 'plain');
    result.bets_per_s = Math.round(b.perS);
    result.bet_p99_ms = round(b.p99, 2);

    const store = new RedisStore({ redisUrl: plain.url, keyPrefix: 'bench:snap:', instance: 'bench', commandTimeoutMs: 60_000, seedKey: SEED_KEY });
    await store.init();
    log('loading 1,000,000 bets (bulk loader, real layout)');
    const w = period(Date.now());
    const loaded = await loadBets(store, w, 1_000_000, { users: 100_000 });
    log(`loaded in ${loaded.ms} ms`);
    const snaps: number[] = [];
    for (let r = 0; r < REPEATS + 2; r++) {
      const t0 = performance.now();
      const snap = await store.snapshot(w);
      const ms = performance.now() - t0;
      if (recordCount(snap.records) !== 1_000_000 || snap.users.length !== 100_000) throw new Error('snapshot incomplete');
      snaps.push(ms);
      log(`snapshot 1M run ${r + 1}: ${round(ms)} ms`);
    }
    result.snapshot_1m_ms = round(median(snaps));

    const settles: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      const sw = period(Date.now(), -10_000, -1);
      await loadBets(store, sw, 100_000, { users: 100_000, userPrefix: `s${r}-` });
      const snap = await store.snapshot(sw);
      const n = recordCount(snap.records);
      const payouts = new Float64Array(n);
      const userPayouts = new Float64Array(snap.users.length);
      for (let i = 0; i < n; i++) {
        const rec = readRecord(snap.records, i);
        payouts[i] = rec.amount * 2;
        userPayouts[rec.userIdx]! += rec.amount * 2;
      }
      const plan: SettlementPlan = { period: sw, betCount: n, payouts, users: snap.users, userPayouts, totalPayout: payouts.reduce((a, b) => a + b, 0) };
      await store.saveSettlement(plan);
      const t0 = performance.now();
      const out = await store.applySettlement(sw, Date.now());
      const ms = performance.now() - t0;
      if (out.credited !== plan.totalPayout) throw new Error(`credited ${out.credited} of ${plan.totalPayout}`);
      settles.push(ms);
      log(`settle 100k winners run ${r + 1}: ${round(ms)} ms`);
    }
    result.settle_100k_ms = round(median(settles));
    await store.close();
  } finally {
    await plain.stop();
  }

  log('redis-server, appendonly yes + appendfsync always');
  const durable = await startRedis({ persistent: true });
  try {
    const b = await betBench(durable, 'fsync');
    result.bets_per_s_fsync = Math.round(b.perS);
    result.bet_p99_ms_fsync = round(b.p99, 2);
  } finally {
    await durable.stop();
  }

  log('primary + one replica (both appendonly yes + appendfsync always), WAIT 1 per bet batch');
  Object.assign(result, await waitBench());

  result.concurrency = CONCURRENCY;
  // other processes on this 2-core machine inflate every figure: record the load they ran under
  result.loadavg_start = round(load0, 2);
  result.loadavg_end = round(os.loadavg()[0]!, 2);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/store.json', JSON.stringify(result, null, 2) + '\n');
  console.log(`RESULT ${JSON.stringify(result)}`);
}

/** bets_per_s_wait: a durable primary with min-replicas-to-write 1 and one replica logged in as the ACL user. */
async function waitBench(): Promise<Record<string, number>> {
  const password = randomBytes(12).toString('hex');
  const common = ['--masteruser', TEST_REDIS_USER, '--masterauth', password, '--min-replicas-to-write', '1', '--min-replicas-max-lag', '10'];
  const primary = await startRedis({ persistent: true, password, extraArgs: common });
  const replica = await startRedis({ persistent: true, password, extraArgs: [...common, '--replicaof', '127.0.0.1', String(primary.port)] });
  try {
    await waitForSync(replica);
    const b = await betBench(primary, 'wait', { minReplicas: 1, waitTimeoutMs: 1000 });
    return { bets_per_s_wait: Math.round(b.perS), bet_p99_ms_wait: round(b.p99, 2) };
  } finally {
    await replica.stop();
    await primary.stop();
  }
}

runMain(main);
