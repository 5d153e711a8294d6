// Bulk bet loader for tests and benchmarks (and `tsx bench/load-bets.ts`): writes `count` bets of one
// period straight into the real layout, fast (1,000,000 bets in a few seconds). Not production code:
// its Redis writes skip the Lua rules, on purpose.
//
// RedisStore: the records blob, the user list, user indexes, per-pattern gross and net totals,
// per-user stakes and the bet count are written directly (big SET/HSET commands, not one script
// per bet). Bench-only shortcuts, on purpose:
//   - the money side is a matching deposit: every loaded user deposits exactly what they stake
//     (wallet totals deposits += total and stakes += total, balances unchanged), so the invariant
//     deposits + payouts + refunds = balances + stakes still holds to the unit;
//   - no per-bet idempotency entries are written, so userBets() does not list loaded bets.
// MemoryStore: real credits and placeBet calls (it is fast enough in-process).
//
// The period must have no bets yet; it is committed first (with opts.seed) when it is not.

import type { Redis } from 'ioredis';
import { netStake, patternOf } from '../../src/core/rules.js';
import { BET_RECORD_BYTES, DEFAULT_PAYTABLE, PATTERN_COUNT, type Paytable, type PeriodWindow } from '../../src/core/types.js';
import { ErrorCode, FivedError } from '../../src/errors.js';
import { formatEntry } from '../../src/store/acks.js';
import { type Keys, PERIOD_TTL_S } from '../../src/store/keys.js';
import type { Store } from '../../src/store/types.js';
import { validateWindow } from '../../src/store/validate.js';

/** What the loader needs of a RedisStore (from src/ or dist/ alike: no instanceof across the two). */
interface RedisLike extends Store {
  readonly kind: 'redis';
  readonly client: Redis;
  readonly keys: Keys;
}

export interface LoadOptions {
  /** distinct users (default min(count, 100,000)); user i is `${userPrefix}${i}` */
  users?: number;
  userPrefix?: string;
  /** seed used to commit the period if it has no commitment (default: a fixed test seed) */
  seed?: string;
  /** amounts are drawn uniformly from minAmount..maxAmount (defaults 2..1000) */
  minAmount?: number;
  maxAmount?: number;
  /** PRNG seed: the same options give the same bets */
  random?: number;
  paytable?: Paytable;
  /** Redis: also write each bet's idempotency entry (clientBetId `L${i}`, placed at the period's
   *  start), so the archiver (Store.periodBets) sees the bets: bench:archive (issue 14) */
  idem?: boolean;
}

export interface LoadResult {
  count: number;
  users: number;
  totalStake: number;
  ms: number;
}

const DEFAULT_SEED = '5d'.repeat(32);

/** xorshift32: deterministic, fast, good enough for synthetic bets. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

export async function loadBets(store: Store, period: PeriodWindow, count: number, opts: LoadOptions = {}): Promise<LoadResult> {
  validateWindow(period);
  if (!Number.isSafeInteger(count) || count < 1 || count > 50_000_000) throw new FivedError(ErrorCode.BAD_REQUEST, 'count must be an integer from 1 to 50,000,000');
  const t0 = performance.now();
  const userCount = Math.max(1, Math.min(opts.users ?? Math.min(count, 100_000), count));
  const prefix = opts.userPrefix ?? 'load-';
  const minA = opts.minAmount ?? 2;
  const maxA = opts.maxAmount ?? 1000;
  const pay = opts.paytable ?? DEFAULT_PAYTABLE;
  const rand = rng(opts.random ?? 1);
  if (!(await store.getCommitment(period))) await store.commit(period, opts.seed ?? DEFAULT_SEED, period.startsAt - 1);

  const users = Array.from({ length: userCount }, (_, i) => `${prefix}${i}`);
  const records = new Uint8Array(count * BET_RECORD_BYTES);
  const view = new DataView(records.buffer);
  const gross = new Float64Array(PATTERN_COUNT);
  const net = new Float64Array(PATTERN_COUNT);
  const ustake = new Float64Array(userCount);
  let total = 0;
  for (let i = 0; i < count; i++) {
    // the first `userCount` bets introduce the users in index order, like real first bets do
    const u = i < userCount ? i : Math.floor(rand() * userCount);
    const pattern = Math.floor(rand() * PATTERN_COUNT);
    const amount = minA + Math.floor(rand() * (maxA - minA + 1));
    const o = i * BET_RECORD_BYTES;
    view.setUint32(o, u, true);
    view.setUint8(o + 4, pattern);
    view.setFloat64(o + 8, amount, true);
    gross[pattern] = gross[pattern]! + amount;
    net[pattern] = net[pattern]! + netStake(amount, pay.feeBps);
    ustake[u] = ustake[u]! + amount;
    total += amount;
  }

  if (store.kind === 'redis') {
    const r = store as RedisLike;
    await loadRedis(r, period, { records, users, gross, net, ustake, total, count });
    if (opts.idem) await loadIdem(r, period, records, users);
  } else {
    for (let u = 0; u < userCount; u++) await store.credit(users[u]!, ustake[u]!, `load-${period.periodId}-${u}`);
    const limits = { minStake: 1, maxStake: Number.MAX_SAFE_INTEGER, maxUserStakePerPeriod: Number.MAX_SAFE_INTEGER, maxLiability: 0, maxBetsPerUserPerPeriod: 0 };
    for (let i = 0; i < count; i++) {
      const o = i * BET_RECORD_BYTES;
      const { kind, pick } = patternOf(view.getUint8(o + 4));
      await store.placeBet({ period, userId: users[view.getUint32(o, true)]!, clientBetId: `L${i}`, kind, pick, amount: view.getFloat64(o + 8, true) }, limits, pay, period.startsAt);
    }
  }
  return { count, users: userCount, totalStake: total, ms: Math.round(performance.now() - t0) };
}

interface Loaded {
  records: Uint8Array;
  users: string[];
  gross: Float64Array;
  net: Float64Array;
  ustake: Float64Array;
  total: number;
  count: number;
}

async function loadRedis(store: RedisLike, period: PeriodWindow, d: Loaded): Promise<void> {
  const r = store.client;
  const k = store.keys.period(period);
  if ((await r.exists(k.recs)) === 1) throw new FivedError(ErrorCode.BAD_REQUEST, `period ${period.periodId} already has bets; the loader only fills empty periods`);
  const ttl = PERIOD_TTL_S;
  const BATCH = 20_000;
  const jobs: Array<Promise<unknown>> = [];
  jobs.push(r.set(k.users, d.users.join('\n') + '\n', 'EX', ttl));
  for (let i = 0; i < d.users.length; i += BATCH) {
    const uidx: Array<string | number> = [];
    const ust: Array<string | number> = [];
    for (let u = i; u < Math.min(i + BATCH, d.users.length); u++) {
      uidx.push(d.users[u]!, u);
      if (d.ustake[u]! > 0) ust.push(d.users[u]!, d.ustake[u]!);
    }
    jobs.push(r.hset(k.uidx, ...uidx));
    if (ust.length > 0) jobs.push(r.hset(k.ustake, ...ust));
  }
  const g: Array<string | number> = [];
  const n: Array<string | number> = [];
  for (let p = 0; p < PATTERN_COUNT; p++) {
    if (d.gross[p]! > 0) { g.push(p, d.gross[p]!); n.push(p, d.net[p]!); }
  }
  if (g.length > 0) { jobs.push(r.hset(k.gross, ...g)); jobs.push(r.hset(k.net, ...n)); }
  jobs.push(r.hincrby(store.keys.totals, 'deposits', d.total));
  jobs.push(r.hincrby(store.keys.totals, 'stakes', d.total));
  await Promise.all(jobs);
  await Promise.all([k.uidx, k.ustake, k.gross, k.net].map((key) => r.expire(key, ttl)));
  // the records last: their length is the bet count, so until then the period looks empty
  await r.set(k.recs, Buffer.from(d.records.buffer, d.records.byteOffset, d.records.byteLength), 'EX', ttl);
}

/** The idempotency entries of loaded bets (`user\nL${i}` → seq|pattern|amount|placedAt|balance), in big HSETs. */
async function loadIdem(store: RedisLike, period: PeriodWindow, records: Uint8Array, users: string[]): Promise<void> {
  const k = store.keys.period(period);
  const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
  const count = records.byteLength / BET_RECORD_BYTES;
  const jobs: Array<Promise<unknown>> = [];
  for (let i = 0; i < count; i += 10_000) {
    const args: string[] = [];
    for (let j = i; j < Math.min(i + 10_000, count); j++) {
      const o = j * BET_RECORD_BYTES;
      args.push(`${users[view.getUint32(o, true)]!}\nL${j}`, formatEntry({ seq: j, pattern: view.getUint8(o + 4), amount: view.getFloat64(o + 8, true), placedAt: period.startsAt, balance: 0 }));
    }
    jobs.push(store.client.hset(k.idem, ...args));
  }
  await Promise.all(jobs);
  await store.client.expire(k.idem, PERIOD_TTL_S);
}
