// The store contract: the SAME test functions run against MemoryStore and against RedisStore on a
// redis-server this file starts itself (its own port, every test its own key prefix).
import { entryIdOf } from '../src/core/ledger.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readRecord, recordCount } from '../src/core/betbuf.js';
import { commitmentOf } from '../src/core/draw.js';
import { patternIndex } from '../src/core/rules.js';
import type { BetKind, BetPick } from '../src/core/types.js';
import { ErrorCode, isFivedError } from '../src/errors.js';
import { CHANNELS } from '../src/store/keys.js';
import { MemoryStore } from '../src/store/memory.js';
import { RedisStore } from '../src/store/redis.js';
import type { HeldInfo, PlaceBetInput, Store, StoreOptions } from '../src/store/types.js';
import { reconcileLedger } from '../src/runtime/ledger-check.js';
import { startRedis, testPrefix, TEST_SEED_KEY, type TestRedis } from './support/redis.js';
import { LIMITS, PAY, atRest, digest, invariant, openPeriod, planFor, resultOf, seedOf, windowAt } from './support/store-harness.js';

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return isFivedError(err) ? err.code : `not coded: ${String(err)}`;
  }
}

let redis: TestRedis;
const opened: Store[] = [];
beforeAll(async () => { redis = await startRedis(); });
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await redis?.stop();
});

type Factory = (opts?: Partial<StoreOptions>) => Promise<Store>;
const factories: Array<[string, Factory]> = [
  ['MemoryStore', async (opts = {}) => { const s = new MemoryStore({ ...opts }); await s.init(); opened.push(s); return s; }],
  ['RedisStore', async (opts = {}) => { const s = new RedisStore({ redisUrl: redis.url, keyPrefix: testPrefix('contract'), instance: 'test', seedKey: TEST_SEED_KEY, ...opts }); await s.init(); opened.push(s); return s; }],
];

/** A balance written outside fived (a migration, a hand edit), as the store holds it: raw text in Redis. */
async function writeBalanceRaw(s: Store, userId: string, raw: string): Promise<void> {
  if (s instanceof RedisStore) await s.client.hset(s.keys.balances, userId, raw);
  else (s as MemoryStore).state.balances.set(userId, Number(raw));
}

/** The stored balance exactly as held (Redis text; the memory store's number as text). */
async function readBalanceRaw(s: Store, userId: string): Promise<string | null> {
  if (s instanceof RedisStore) return s.client.hget(s.keys.balances, userId);
  const v = (s as MemoryStore).state.balances.get(userId);
  return v === undefined ? null : BigInt(v).toString();
}

function bet(w: PlaceBetInput['period'], userId: string, clientBetId: string, kind: BetKind, pick: BetPick, amount: number): PlaceBetInput {
  return { period: w, userId, clientBetId, kind, pick, amount };
}

describe.each(factories)('store contract: %s', (_name, make) => {
  it("says where a period's bets are read for its computation: Redis in the worker, memory by the caller (docs/design.md rule 3)", async () => {
    const s = await make();
    expect(s.computeSource()).toBe(s instanceof RedisStore ? 'worker' : 'caller');
    expect(s.label).toBe(s instanceof RedisStore ? 'Redis' : 'the store');
  });

  it('commit: first writer wins, 50 concurrent callers all see the winner; the seed stays out of getCommitment', async () => {
    const s = await make();
    const w = windowAt(Date.now(), { start: 10_000, freeze: 60_000, end: 65_000 });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => s.commit(w, seedOf(1000 + i), Date.now())));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const winner = results.find((r) => r.created)!.commitment;
    expect(new Set(results.map((r) => r.commitment))).toEqual(new Set([winner]));
    expect(await s.getCommitment(w)).toBe(winner);
    const seed = await s.getSeed(w);
    expect(commitmentOf(seed!)).toBe(winner);
    expect((await s.getPeriod(w)).status).toBe('open');
  });

  it('commit stores the seed only sealed: nothing the store holds contains it, getSeed unseals it', async () => {
    const s = await make();
    const seed = 'c3'.repeat(16) + '5a'.repeat(16);
    const w = windowAt(Date.now(), { start: 10_000, freeze: 60_000, end: 65_000 });
    await s.commit(w, seed, Date.now());
    const all = await atRest(s);
    expect(all).toContain(commitmentOf(seed)); // the reading sees the period's values
    expect(all).not.toContain(seed);
    expect(all).not.toContain(Buffer.from(seed, 'hex').toString('hex').toUpperCase());
    expect(all).not.toContain(Buffer.from(seed, 'hex').toString('base64'));
    expect(JSON.stringify(await s.getPeriod(w))).not.toContain(seed);
    expect(await s.getSeed(w)).toBe(seed);
  });

  it('commit after the period opened but before its freeze opens it late: bets from then on', async () => {
    const s = await make();
    const w = windowAt(Date.now()); // started a second ago, freezes in a minute
    await s.credit('u1', 1000, 'd1');
    // no bet can predate the commitment: refused before it exists
    expect(await codeOf(s.placeBet(bet(w, 'u1', 'b0', 'A', 1, 100), LIMITS, PAY, Date.now()))).toBe(ErrorCode.NOT_COMMITTED);
    const c = await s.commit(w, seedOf(1), Date.now());
    expect(c).toEqual({ commitment: commitmentOf(seedOf(1)), created: true });
    expect((await s.placeBet(bet(w, 'u1', 'b1', 'A', 1, 100), LIMITS, PAY, Date.now())).balance).toBe(900);
    expect((await s.getPeriod(w)).status).not.toBe('void');
  });

  it('commit at or after the freeze is refused and the period is void', async () => {
    const s = await make();
    const w = windowAt(Date.now(), { start: -10_000, freeze: -1000, end: 5000 });
    expect(await codeOf(s.commit(w, seedOf(1), Date.now()))).toBe(ErrorCode.COMMIT_TOO_LATE);
    const p = await s.getPeriod(w);
    expect(p.status).toBe('void');
    expect(p.commitment).toBeNull();
    await s.credit('u1', 1000, 'd1');
    expect(await codeOf(s.placeBet(bet(w, 'u1', 'b1', 'A', 1, 100), LIMITS, PAY, Date.now()))).toBe(ErrorCode.PERIOD_VOID);
    expect(await codeOf(s.storeResult(resultOf(w, seedOf(1))))).toBe(ErrorCode.PERIOD_VOID);
  });

  it('placeBet debits, records the compact layout, pattern totals, and acks with a bet id', async () => {
    const s = await make();
    const w = await openPeriod(s);
    await s.credit('alice', 10_000, 'dep-a');
    await s.credit('bob', 10_000, 'dep-b');
    const a1 = await s.placeBet(bet(w, 'alice', 'c1', 'A', 7, 100), LIMITS, PAY, Date.now());
    const b1 = await s.placeBet(bet(w, 'bob', 'c1', 'SUM', 'big', 300), LIMITS, PAY, Date.now());
    const a2 = await s.placeBet(bet(w, 'alice', 'c2', 'E', 'odd', 1_000_000 / 1000), LIMITS, PAY, Date.now());
    expect([a1.seq, b1.seq, a2.seq]).toEqual([0, 1, 2]);
    expect(a1).toMatchObject({ betId: `${w.periodId}:0`, userId: 'alice', kind: 'A', pick: 7, amount: 100, balance: 9900, duplicate: false, periodId: w.periodId, duration: 60, timeline: 'default' });
    expect(a2.balance).toBe(8900);
    expect(await s.balance('alice')).toBe(8900);
    expect(await s.balance('bob')).toBe(9700);
    const totals = await s.patternTotals(w);
    expect(totals[patternIndex('A', 7)]).toBe(100);
    expect(totals[patternIndex('SUM', 'big')]).toBe(300);
    expect(totals.reduce((a, b) => a + b, 0)).toBe(1400);
    const snap = await s.snapshot(w);
    expect(snap.users).toEqual(['alice', 'bob']);
    expect(recordCount(snap.records)).toBe(3);
    expect(readRecord(snap.records, 1)).toEqual({ userIdx: 1, pattern: patternIndex('SUM', 'big'), amount: 300 });
    expect(readRecord(snap.records, 2)).toEqual({ userIdx: 0, pattern: patternIndex('E', 'odd'), amount: 1000 });
    const bets = await s.userBets('alice', w);
    expect(bets.map((b) => [b.clientBetId, b.seq, b.state, b.payout])).toEqual([['c2', 2, 'pending', 0], ['c1', 0, 'pending', 0]]);
    expect((await s.userBets('alice')).length).toBe(2);
    const inv = await invariant(s);
    expect(inv.left).toBe(inv.right);
  });

  it('a retried bet returns the first ack and debits once; other content under the same id conflicts', async () => {
    const s = await make();
    const w = await openPeriod(s);
    await s.credit('u', 1000, 'd');
    const first = await s.placeBet(bet(w, 'u', 'x', 'B', 'big', 200), LIMITS, PAY, Date.now());
    const again = await s.placeBet(bet(w, 'u', 'x', 'B', 'big', 200), LIMITS, PAY, Date.now() + 5);
    expect(again).toEqual({ ...first, duplicate: true });
    expect(await s.balance('u')).toBe(800);
    expect(await codeOf(s.placeBet(bet(w, 'u', 'x', 'B', 'big', 300), LIMITS, PAY, Date.now()))).toBe(ErrorCode.DUPLICATE_CONFLICT);
    expect(await codeOf(s.placeBet(bet(w, 'u', 'x', 'B', 'small', 200), LIMITS, PAY, Date.now()))).toBe(ErrorCode.DUPLICATE_CONFLICT);
    expect(await s.balance('u')).toBe(800);
  });

  it('the 101st bet of a user in a period is refused with E_TOO_MANY_BETS; duplicates still get their first ack (issue 12, row 7)', async () => {
    const s = await make();
    const w = await openPeriod(s);
    await s.credit('u', 1_000_000, 'd');
    await s.credit('other', 1_000, 'd2');
    const lim = { ...LIMITS, maxBetsPerUserPerPeriod: 100 };
    // 100 at once: the Redis store sends them in one batch, so the count is also kept within a batch
    const acks = await Promise.all(Array.from({ length: 100 }, (_, i) => s.placeBet(bet(w, 'u', `b${i}`, 'B', 'big', 10), lim, PAY, Date.now())));
    expect(acks.every((a) => !a.duplicate)).toBe(true);
    const before = await digest(s);
    expect(await codeOf(s.placeBet(bet(w, 'u', 'b100', 'B', 'big', 10), lim, PAY, Date.now()))).toBe(ErrorCode.TOO_MANY_BETS);
    expect(await digest(s)).toBe(before); // refused: nothing written
    expect(await s.balance('u')).toBe(1_000_000 - 100 * 10);
    // a retry of an acknowledged bet is still answered with its first ack
    expect(await s.placeBet(bet(w, 'u', 'b7', 'B', 'big', 10), lim, PAY, Date.now())).toEqual({ ...acks[7], duplicate: true });
    // in one batch across the limit: the 101st and later of the same turn are refused too
    const w2 = await openPeriod(s);
    const codes = await Promise.all(Array.from({ length: 105 }, (_, i) => codeOf(s.placeBet(bet(w2, 'u', `c${i}`, 'B', 'big', 10), lim, PAY, Date.now()))));
    expect(codes.filter((c) => c === 'ok')).toHaveLength(100);
    expect(codes.slice(100)).toEqual(Array(5).fill(ErrorCode.TOO_MANY_BETS));
    // another user and another period are not affected; 0 = no cap
    expect(await codeOf(s.placeBet(bet(w, 'other', 'x', 'B', 'big', 10), lim, PAY, Date.now()))).toBe('ok');
    expect(await codeOf(s.placeBet(bet(w, 'u', 'b101', 'B', 'big', 10), { ...lim, maxBetsPerUserPerPeriod: 0 }, PAY, Date.now()))).toBe('ok');
  });

  it('refuses bets by period state and limits, with coded errors and nothing written', async () => {
    const s = await make();
    await s.credit('u', 1_000_000, 'd');
    const w = await openPeriod(s);
    const now = Date.now();
    const before = await digest(s);
    // thunks: each call starts only when checked (no rejection waits unobserved)
    const cases: Array<[string, () => Promise<unknown>]> = [
      [ErrorCode.NOT_COMMITTED, () => s.placeBet(bet(windowAt(now), 'u', 'a', 'A', 1, 100), LIMITS, PAY, now)],
      [ErrorCode.PERIOD_NOT_OPEN, () => s.placeBet(bet(w, 'u', 'b', 'A', 1, 100), LIMITS, PAY, w.startsAt - 1)],
      [ErrorCode.PERIOD_FROZEN, () => s.placeBet(bet(w, 'u', 'c', 'A', 1, 100), LIMITS, PAY, w.freezeAt)],
      [ErrorCode.PERIOD_CLOSED, () => s.placeBet(bet(w, 'u', 'd', 'A', 1, 100), LIMITS, PAY, w.endsAt)],
      [ErrorCode.STAKE_TOO_LOW, () => s.placeBet(bet(w, 'u', 'e', 'A', 1, 1), LIMITS, PAY, now)],
      [ErrorCode.STAKE_TOO_HIGH, () => s.placeBet(bet(w, 'u', 'f', 'A', 1, 1_000_001), LIMITS, PAY, now)],
      [ErrorCode.USER_LIMIT, () => s.placeBet(bet(w, 'u', 'g', 'A', 1, 600), { ...LIMITS, maxUserStakePerPeriod: 500 }, PAY, now)],
      [ErrorCode.LIABILITY_LIMIT, () => s.placeBet(bet(w, 'u', 'h', 'A', 1, 1000), { ...LIMITS, maxLiability: 5000 }, PAY, now)],
      [ErrorCode.INSUFFICIENT_FUNDS, () => s.placeBet(bet(w, 'poor', 'i', 'A', 1, 100), LIMITS, PAY, now)],
      // malformed input
      [ErrorCode.INVALID_KIND, () => s.placeBet(bet(w, 'u', 'j', 'F' as BetKind, 1, 100), LIMITS, PAY, now)],
      [ErrorCode.INVALID_PICK, () => s.placeBet(bet(w, 'u', 'k', 'A', 10, 100), LIMITS, PAY, now)],
      [ErrorCode.INVALID_PICK, () => s.placeBet(bet(w, 'u', 'k2', 'SUM', 3, 100), LIMITS, PAY, now)],
      [ErrorCode.INVALID_AMOUNT, () => s.placeBet(bet(w, 'u', 'l', 'A', 1, 0), LIMITS, PAY, now)],
      [ErrorCode.INVALID_AMOUNT, () => s.placeBet(bet(w, 'u', 'm', 'A', 1, -5), LIMITS, PAY, now)],
      [ErrorCode.INVALID_AMOUNT, () => s.placeBet(bet(w, 'u', 'n', 'A', 1, 10.5), LIMITS, PAY, now)],
      [ErrorCode.INVALID_AMOUNT, () => s.placeBet(bet(w, 'u', 'o', 'A', 1, 1e15), LIMITS, PAY, now)],
      [ErrorCode.INVALID_AMOUNT, () => s.placeBet(bet(w, 'u', 'o2', 'A', 1, '100' as unknown as number), LIMITS, PAY, now)],
      [ErrorCode.INVALID_ID, () => s.placeBet(bet(w, '', 'p', 'A', 1, 100), LIMITS, PAY, now)],
      [ErrorCode.INVALID_ID, () => s.placeBet(bet(w, 'u', 'has space', 'A', 1, 100), LIMITS, PAY, now)],
      [ErrorCode.INVALID_ID, () => s.placeBet(bet(w, 'u\n', 'q', 'A', 1, 100), LIMITS, PAY, now)],
      [ErrorCode.INVALID_PERIOD, () => s.placeBet(bet({ ...w, periodId: '2025010100000001' }, 'u', 'r', 'A', 1, 100), LIMITS, PAY, now)],
      // biome-ignore lint/correctness/noPrecisionLoss: a number where the id string belongs is the bad input
      [ErrorCode.INVALID_PERIOD, () => s.placeBet(bet({ ...w, periodId: 20250101000000001 as unknown as string }, 'u', 's', 'A', 1, 100), LIMITS, PAY, now)],
      [ErrorCode.INVALID_DURATION, () => s.placeBet(bet({ ...w, duration: 7 }, 'u', 't', 'A', 1, 100), LIMITS, PAY, now)],
      [ErrorCode.INVALID_ID, () => s.credit('u', 100, 'bad id')],
      [ErrorCode.INVALID_AMOUNT, () => s.credit('u', 0, 'dep0')],
      [ErrorCode.INVALID_SEED, () => s.commit(windowAt(now, { start: 5000 }), 'xyz', now)],
    ];
    for (const [code, call] of cases) expect(await codeOf(call())).toBe(code);
    expect(await digest(s)).toBe(before);
  });

  it('the frozen flag refuses bets whatever the caller clock says, and snapshot is stable', async () => {
    const s = await make();
    await s.credit('u', 10_000, 'd');
    const w = await openPeriod(s);
    await s.placeBet(bet(w, 'u', 'a', 'C', 3, 100), LIMITS, PAY, Date.now());
    expect(await s.freeze(w)).toEqual({ betCount: 1 });
    expect(await codeOf(s.placeBet(bet(w, 'u', 'b', 'C', 3, 100), LIMITS, PAY, w.startsAt))).toBe(ErrorCode.PERIOD_FROZEN);
    const a = await s.snapshot(w);
    const b = await s.snapshot(w);
    expect(Buffer.from(a.records).equals(Buffer.from(b.records))).toBe(true);
    expect(recordCount(a.records)).toBe(1);
    expect((await s.getPeriod(w)).status).toBe('frozen');
  });

  it('the store clock closes betting at the freeze even when no freeze flag is set and the caller clock is behind', async () => {
    const s = await make();
    await s.credit('u', 10_000, 'd');
    const now = Date.now();
    // frozen 50 ms ago by the store's clock; nobody has set the flag
    const w = windowAt(now, { start: -2000, freeze: -50, end: 5000 });
    await s.commit(w, seedOf(7), w.startsAt - 1);
    // a caller (a gateway) whose clock is 300 ms behind still believes betting is open
    expect(await codeOf(s.placeBet(bet(w, 'u', 'late', 'A', 1, 100), LIMITS, PAY, w.freezeAt - 300))).toBe(ErrorCode.PERIOD_FROZEN);
    expect(await s.balance('u')).toBe(10_000);
    expect(recordCount((await s.snapshot(w)).records)).toBe(0);
  });

  it('storeResult: 50 concurrent writers, one stored, all see the same; a foreign commitment is refused', async () => {
    const s = await make();
    const w = await openPeriod(s);
    const base = resultOf(w);
    const attempts = Array.from({ length: 50 }, (_, i) => s.storeResult({ ...base, tracking: { ...base.tracking, instance: `i${i}` } }));
    const out = await Promise.all(attempts);
    expect(out.filter((o) => o.stored)).toHaveLength(1);
    const winner = out.find((o) => o.stored)!.result.tracking.instance;
    expect(out.every((o) => o.result.tracking.instance === winner && o.result.digits.join() === base.digits.join())).toBe(true);
    expect((await s.getResult(w))?.tracking.instance).toBe(winner);
    expect((await s.getPeriod(w)).status).toBe('resulted');
    const w2 = await openPeriod(s);
    expect(await codeOf(s.storeResult(resultOf(w2, seedOf(99))))).toBe(ErrorCode.RESULT_MISMATCH);
    expect(await codeOf(s.storeResult(resultOf(windowAt(Date.now()))))).toBe(ErrorCode.NOT_COMMITTED);
    expect(await s.getResult(w2)).toBeNull();
  });

  it('lease: one holder, an epoch that only grows, renew compares the holder; stale fences are refused', async () => {
    const s = await make();
    const l1 = await s.acquireLease('sched-a', 5000);
    expect(l1).not.toBeNull();
    expect(await s.acquireLease('sched-b', 5000)).toBeNull();
    expect(await s.renewLease(l1!, 5000)).toBe(true);
    expect(await s.renewLease({ holder: 'sched-b', epoch: l1!.epoch }, 5000)).toBe(false);
    await s.releaseLease(l1!);
    const l2 = await s.acquireLease('sched-b', 5000);
    expect(l2!.epoch).toBeGreaterThan(l1!.epoch);
    expect(await s.currentEpoch()).toBe(l2!.epoch);
    expect(await s.renewLease(l1!, 5000)).toBe(false);
    const w = await openPeriod(s);
    expect(await codeOf(s.storeResult(resultOf(w), l1!))).toBe(ErrorCode.STALE_EPOCH);
    expect(await s.getResult(w)).toBeNull();
    expect((await s.storeResult(resultOf(w), l2!)).stored).toBe(true);
  });

  it('settlement: nothing visible before the end, credited once after; a second apply changes nothing', async () => {
    const s = await make();
    const w = await openPeriod(s, { start: -1000, freeze: 400, end: 900 });
    const users = ['u0', 'u1', 'u2', 'u3'];
    for (const u of users) await s.credit(u, 10_000, `dep-${u}`);
    // every digit of A, so exactly one of them wins 98 × 9, plus both sides of SUM big/small
    for (let d = 0; d <= 9; d++) await s.placeBet(bet(w, users[d % 4]!, `n${d}`, 'A', d, 100), LIMITS, PAY, Date.now());
    await s.placeBet(bet(w, 'u0', 'sb', 'SUM', 'big', 1000), LIMITS, PAY, Date.now());
    await s.placeBet(bet(w, 'u1', 'ss', 'SUM', 'small', 1000), LIMITS, PAY, Date.now());
    const plan = await planFor(s, w);
    expect(plan.totalPayout).toBe(882 + 1960);
    // the period owes a settlement from its first bet on; listed once it has ended by the given time
    expect(await s.unfinishedPeriods(w.endsAt, 10)).toEqual([w]);
    expect(await s.unfinishedPeriods(w.endsAt - 1, 10)).toEqual([]);
    const balancesBefore = await Promise.all(users.map((u) => s.balance(u)));
    await s.saveSettlement(plan);
    await s.saveSettlement({ ...plan, totalPayout: 0, userPayouts: new Float64Array(plan.users.length), payouts: new Float64Array(plan.betCount) }); // first plan wins
    expect((await s.pendingSettlements()).map((p) => p.periodId)).toContain(w.periodId);
    expect(await codeOf(s.applySettlement(w, Date.now()))).toBe(ErrorCode.TOO_EARLY);
    expect(await Promise.all(users.map((u) => s.balance(u)))).toEqual(balancesBefore);
    expect((await s.userBets('u0', w)).every((b) => b.state === 'pending' && b.payout === 0)).toBe(true);
    expect(await s.isSettled(w)).toBe(false);
    await new Promise((r) => setTimeout(r, Math.max(0, w.endsAt - Date.now() + 5)));
    const first = await s.applySettlement(w, Date.now());
    expect(first).toEqual({ applied: true, credited: 2842, held: 0 });
    const after = await Promise.all(users.map((u) => s.balance(u)));
    expect(after.reduce((a, b) => a + b, 0) - balancesBefore.reduce((a, b) => a + b, 0)).toBe(2842);
    expect(await s.applySettlement(w, Date.now())).toEqual({ applied: false, credited: 0, held: 0 });
    expect(await Promise.all(users.map((u) => s.balance(u)))).toEqual(after);
    expect(await s.isSettled(w)).toBe(true);
    expect((await s.pendingSettlements()).map((p) => p.periodId)).not.toContain(w.periodId);
    expect(await s.unfinishedPeriods(Date.now(), 10)).toEqual([]);
    const outcomes = [...(await s.userBets('u0', w)), ...(await s.userBets('u1', w)), ...(await s.userBets('u2', w)), ...(await s.userBets('u3', w))];
    expect(outcomes.filter((b) => b.state === 'won').reduce((a, b) => a + b.payout, 0)).toBe(2842);
    expect(outcomes.every((b) => b.state === 'won' || b.state === 'lost')).toBe(true);
    expect((await s.getPeriod(w)).status).toBe('settled');
    expect(await codeOf(s.voidPeriod(w, 'late'))).toBe(ErrorCode.ALREADY_SETTLED);
    const inv = await invariant(s);
    expect(inv.left).toBe(inv.right);
  });

  it('a settlement is refused before the end by the store\'s own clock, whatever the caller\'s now says (issue 12 row 3)', async () => {
    const s = await make();
    const w = await openPeriod(s, { start: -1000, freeze: 300, end: 600 });
    await s.credit('early', 10_000, 'dep-early');
    for (let d = 0; d <= 9; d++) await s.placeBet(bet(w, 'early', `e${d}`, 'A', d, 100), LIMITS, PAY, Date.now());
    await s.saveSettlement(await planFor(s, w));
    const before = await s.balance('early');
    // a caller whose clock runs 1.5 s ahead believes the period ended: the store's clock says no
    expect(await codeOf(s.applySettlement(w, w.endsAt + 1500))).toBe(ErrorCode.TOO_EARLY);
    expect(await codeOf(s.applySettlement(w, Date.now() + 1500))).toBe(ErrorCode.TOO_EARLY);
    expect(await s.balance('early')).toBe(before);
    expect(await s.isSettled(w)).toBe(false);
    expect((await s.userBets('early', w)).every((b) => b.state === 'pending' && b.payout === 0)).toBe(true);
    // the caller's clock is still an extra check: behind the end, refused too
    await new Promise((r) => setTimeout(r, Math.max(0, w.endsAt - Date.now() + 5)));
    expect(await codeOf(s.applySettlement(w, w.endsAt - 1))).toBe(ErrorCode.TOO_EARLY);
    const applied = await s.applySettlement(w, Date.now());
    expect(applied).toEqual({ applied: true, credited: 98 * 9, held: 0 });
    expect(await s.balance('early')).toBe(before + 98 * 9);
  });

  it('periodBets lists every bet of a period by seq as userBets shows it, pending until settled; periodPayouts is the plan (issue 14: the archiver)', async () => {
    const s = await make();
    const w = await openPeriod(s, { start: -1000, freeze: 300, end: 700 });
    for (const u of ['pa', 'pb']) await s.credit(u, 10_000, `dep-${u}`);
    // number bets on position B: the first on its drawn digit (won), the others on other digits (lost)
    const drawnB = resultOf(w).digits[1]!;
    for (let d = 0; d < 6; d++) await s.placeBet(bet(w, d % 2 ? 'pb' : 'pa', `x${d}`, 'B', (drawnB + d) % 10, 100 + d), LIMITS, PAY, Date.now());
    const all = async () => [...(await s.userBets('pa', w)), ...(await s.userBets('pb', w))].sort((a, b) => a.seq - b.seq);
    const early = await s.periodBets(w);
    expect(early.map((b) => b.seq)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(early).toEqual(await all());
    expect(early.every((b) => b.state === 'pending' && b.payout === 0)).toBe(true);
    expect(await s.periodPayouts(w)).toBeNull();
    const plan = await planFor(s, w);
    await s.saveSettlement(plan);
    await new Promise((r) => setTimeout(r, Math.max(0, w.endsAt - Date.now() + 5)));
    await s.applySettlement(w, Date.now());
    const done = await s.periodBets(w);
    expect(done).toEqual(await all());
    expect(done.map((b) => b.payout)).toEqual([...plan.payouts]);
    expect(done.some((b) => b.state === 'won') && done.some((b) => b.state === 'lost')).toBe(true);
    expect([...(await s.periodPayouts(w))!]).toEqual([...plan.payouts]);
    // a void period: every bet refunded; an unknown period: nothing
    const v = await openPeriod(s, { start: -1000, freeze: 60_000, end: 65_000 });
    await s.placeBet(bet(v, 'pa', 'v0', 'SUM', 'odd', 300), LIMITS, PAY, Date.now());
    await s.voidPeriod(v, 'test');
    expect((await s.periodBets(v)).map((b) => [b.clientBetId, b.state, b.payout])).toEqual([['v0', 'refunded', 300]]);
    expect(await s.periodBets(windowAt(Date.now()))).toEqual([]);
  });

  it('settlement plans are checked and fenced', async () => {
    const s = await make();
    const lease = (await s.acquireLease('sched', 10_000))!;
    const w = await openPeriod(s, { start: -1000, freeze: 300, end: 400 });
    await s.credit('u', 1000, 'd');
    await s.placeBet(bet(w, 'u', 'a', 'A', 1, 100), LIMITS, PAY, Date.now());
    const plan = await planFor(s, w);
    expect(await codeOf(s.saveSettlement({ ...plan, totalPayout: plan.totalPayout + 1 }))).toBe(ErrorCode.INVALID_BETS);
    expect(await codeOf(s.saveSettlement({ ...plan, betCount: 2, payouts: new Float64Array(2) }))).toBe(ErrorCode.INVALID_BETS);
    expect(await codeOf(s.saveSettlement(plan, { holder: 'old', epoch: lease.epoch + 5 }))).toBe(ErrorCode.STALE_EPOCH);
    expect(await s.pendingSettlements()).toEqual([]);
    await s.saveSettlement(plan, lease);
    expect(await s.pendingSettlements()).toEqual([w]);
    expect(await codeOf(s.applySettlement(w, w.endsAt, { holder: 'old', epoch: lease.epoch + 5 }))).toBe(ErrorCode.STALE_EPOCH);
    await new Promise((r) => setTimeout(r, Math.max(0, w.endsAt - Date.now() + 5)));
    expect((await s.applySettlement(w, w.endsAt, lease)).applied).toBe(true);
    expect(await codeOf(s.applySettlement(windowAt(Date.now()), Date.now()))).toBe(ErrorCode.NOT_SETTLED);
  });

  it('void refunds every bet exactly once and accepts no bets and no result', async () => {
    const s = await make();
    const w = await openPeriod(s);
    for (let i = 0; i < 5; i++) await s.credit(`v${i}`, 1000, `dv${i}`);
    for (let i = 0; i < 12; i++) await s.placeBet(bet(w, `v${i % 5}`, `b${i}`, 'D', i % 10, 10 + i), LIMITS, PAY, Date.now());
    const staked = Array.from({ length: 12 }, (_, i) => 10 + i).reduce((a, b) => a + b, 0);
    const plan = await planFor(s, w);
    await s.saveSettlement(plan);
    expect(await s.unfinishedPeriods(w.endsAt, 10)).toEqual([w]);
    const first = await s.voidPeriod(w, 'operator action');
    expect(await s.unfinishedPeriods(w.endsAt, 10)).toEqual([]); // refunded: nothing owed
    expect(first.refunded).toBe(staked);
    expect(await s.voidPeriod(w, 'again')).toEqual({ refunded: 0, held: 0 });
    for (let i = 0; i < 5; i++) expect(await s.balance(`v${i}`)).toBe(1000);
    const p = await s.getPeriod(w);
    expect(p).toMatchObject({ status: 'void', voidReason: 'operator action' });
    expect(await s.pendingSettlements()).toEqual([]);
    expect(await codeOf(s.placeBet(bet(w, 'v0', 'late', 'D', 1, 10), LIMITS, PAY, Date.now()))).toBe(ErrorCode.PERIOD_VOID);
    expect(await codeOf(s.storeResult(resultOf(w)))).toBe(ErrorCode.PERIOD_VOID);
    expect(await codeOf(s.applySettlement(w, w.endsAt))).toBe(ErrorCode.PERIOD_VOID);
    expect((await s.userBets('v1', w)).every((b) => b.state === 'refunded')).toBe(true);
    const inv = await invariant(s);
    expect(inv.left).toBe(inv.right);
  });

  it('a period with a stored result is never voided: one result or void, never both', async () => {
    const s = await make();
    await s.credit('r', 1000, 'dr');
    const w = await openPeriod(s);
    await s.placeBet(bet(w, 'r', 'x', 'A', 1, 100), LIMITS, PAY, Date.now());
    await s.freeze(w);
    await s.storeResult(resultOf(w, seedOf(7)));
    expect(await codeOf(s.voidPeriod(w, 'operator'))).toBe(ErrorCode.ALREADY_RESULTED);
    const rec = await s.getPeriod(w);
    expect(rec.status).not.toBe('void');
    expect(rec.result).not.toBeNull();
    expect(await s.balance('r')).toBe(900); // no refund
  });

  it('a stored result that does not verify voids the period with refunds; one that verifies never (issue 12 row 10)', async () => {
    const s = await make();
    await s.credit('m', 1000, 'dm');
    // a result that verifies: the narrow exception does not apply, the guard holds
    const good = await openPeriod(s);
    await s.placeBet(bet(good, 'm', 'g', 'A', 1, 100), LIMITS, PAY, Date.now());
    await s.storeResult(resultOf(good, seedOf(7)));
    expect(await codeOf(s.voidUnverifiedResult(good, 'result does not verify'))).toBe(ErrorCode.ALREADY_RESULTED);
    expect(await codeOf(s.voidPeriod(good, 'operator'))).toBe(ErrorCode.ALREADY_RESULTED);
    expect((await s.getResult(good))?.digits).toEqual(resultOf(good, seedOf(7)).digits);
    expect(await s.balance('m')).toBe(900);
    // a result with the period's commitment but digits its seed does not give (the store's result
    // script only compares the commitment, so it is accepted as written)
    const bad = await openPeriod(s);
    await s.placeBet(bet(bad, 'm', 'b1', 'A', 2, 100), LIMITS, PAY, Date.now());
    await s.placeBet(bet(bad, 'm', 'b2', 'B', 3, 50), LIMITS, PAY, Date.now());
    const r = resultOf(bad, seedOf(7));
    const wrong = r.digits.map((d) => (d + 1) % 10) as typeof r.digits;
    await s.storeResult({ ...r, digits: wrong, sum: wrong.reduce((a, b) => a + b, 0) });
    expect(await codeOf(s.voidPeriod(bad, 'operator'))).toBe(ErrorCode.ALREADY_RESULTED); // the guard stays for everything else
    expect(await s.voidUnverifiedResult(bad, 'result does not verify')).toEqual({ refunded: 150, held: 0 });
    expect(await s.balance('m')).toBe(900);
    const rec = await s.getPeriod(bad);
    expect(rec).toMatchObject({ status: 'void', voidReason: 'result does not verify', result: null });
    expect(await s.getResult(bad)).toBeNull(); // moved aside: never served
    expect(await s.voidUnverifiedResult(bad, 'again')).toEqual({ refunded: 0, held: 0 }); // idempotent
    expect(await codeOf(s.storeResult(r))).toBe(ErrorCode.PERIOD_VOID);
    expect((await s.userBets('m', bad)).every((b) => b.state === 'refunded')).toBe(true);
    expect(await s.unfinishedPeriods(bad.endsAt, 10)).not.toContainEqual(bad);
    const inv = await invariant(s);
    expect(inv.left).toBe(inv.right);
  });

  it('a settled period is never voided, even for a result that does not verify (issue 12 row 10)', async () => {
    const s = await make();
    await s.credit('q', 1000, 'dq');
    const w = await openPeriod(s, { start: -1000, freeze: 200, end: 300 });
    await s.placeBet(bet(w, 'q', 'x', 'A', 1, 100), LIMITS, PAY, Date.now());
    await s.saveSettlement(await planFor(s, w));
    const r = resultOf(w, seedOf(7));
    await s.storeResult({ ...r, seed: seedOf(8) }); // the right commitment beside another seed
    await new Promise((res) => setTimeout(res, Math.max(0, w.endsAt - Date.now() + 5)));
    await s.applySettlement(w, Date.now());
    const balance = await s.balance('q');
    expect(await codeOf(s.voidUnverifiedResult(w, 'result does not verify'))).toBe(ErrorCode.ALREADY_SETTLED);
    expect(await s.balance('q')).toBe(balance);
    expect((await s.getPeriod(w)).status).toBe('settled');
  });

  it('history: explicit ids from the period, a second append fails, latest N and from a period on', async () => {
    const s = await make();
    const ids = [1, 2, 3, 4, 5].map((i) => `20250102${String(i).padStart(9, '0')}`);
    const entry = (periodId: string) => ({ duration: 60, timeline: 'default', periodId, digits: [1, 2, 3, 4, 5] as [number, number, number, number, number], sum: 15, seed: seedOf(1), commitment: commitmentOf(seedOf(1)) });
    for (const id of ids) expect(await s.appendHistory(entry(id))).toBe(true);
    expect(await s.appendHistory(entry(ids[2]!))).toBe(false);
    expect(await s.appendHistory(entry(ids[4]!))).toBe(false);
    expect((await s.history(60, 'default', { limit: 2 })).map((e) => e.periodId)).toEqual(ids.slice(3));
    expect((await s.history(60, 'default', { afterPeriodId: ids[1], limit: 10 })).map((e) => e.periodId)).toEqual(ids.slice(2));
    expect((await s.history(60, 'default', { limit: 1 }))[0]).toEqual(entry(ids[4]!));
    expect(await s.history(180, 'default', { limit: 5 })).toEqual([]);
  });

  it('bus: msgpack messages on 5d_precalc: channels', async () => {
    const s = await make();
    const got = new Promise<[string, unknown]>((resolve) => { void s.subscribe(CHANNELS.completed, (ch, m) => resolve([ch, m])); });
    await new Promise((r) => setTimeout(r, 50)); // the SUBSCRIBE reaches Redis on its own connection
    await s.publish(CHANNELS.completed, { periodId: '20250101000000001', digits: [1, 2, 3, 4, 5] });
    expect(await got).toEqual([CHANNELS.completed, { periodId: '20250101000000001', digits: [1, 2, 3, 4, 5] }]);
    expect(await codeOf(s.publish('other', {}))).toBe(ErrorCode.BAD_REQUEST);
  });

  it('wallet: credit is idempotent by deposit id; the settings schedule is compare-and-set; a claim has one holder at a time', async () => {
    const s = await make();
    expect(await s.credit('w', 500, 'dep-1')).toEqual({ balance: 500, duplicate: false });
    expect(await s.credit('w', 500, 'dep-1')).toEqual({ balance: 500, duplicate: true });
    expect(await codeOf(s.credit('w', 600, 'dep-1'))).toBe(ErrorCode.DUPLICATE_CONFLICT);
    expect(await codeOf(s.credit('other', 500, 'dep-1'))).toBe(ErrorCode.DUPLICATE_CONFLICT);
    expect(await s.balance('w')).toBe(500);
    expect(await s.balance('nobody')).toBe(0);
    // the settings schedule is a compare-and-set: first start writes it once, a stale writer loses
    expect(await s.getSettings()).toBeNull();
    expect(await s.swapSettings(null, 'sched-1')).toBe(true);
    expect(await s.swapSettings(null, 'sched-x')).toBe(false);
    expect(await s.swapSettings('sched-0', 'sched-x')).toBe(false);
    expect(await s.swapSettings('sched-1', 'sched-2')).toBe(true);
    expect(await s.getSettings()).toBe('sched-2');
    const w = windowAt(Date.now());
    expect(await s.claimSettlement(w, 'gw-1', 5000)).toBe(true);
    expect(await s.claimSettlement(w, 'gw-2', 5000)).toBe(false);
    expect(await s.claimSettlement(w, 'gw-1', 5000)).toBe(true); // re-entrant: the holder may retry
    expect(await s.claimSettlement(w, 'gw-2', 5000)).toBe(false);
    const short = windowAt(Date.now() + 1000);
    expect(await s.claimSettlement(short, 'gw-1', 30)).toBe(true);
    await new Promise((r) => setTimeout(r, 60));
    expect(await s.claimSettlement(short, 'gw-2', 5000)).toBe(true); // a lapsed claim is anyone's
    expect(Math.abs((await s.serverTime()) - Date.now())).toBeLessThan(1000);
    expect(s.healthy()).toBe(true);
  });

  it('one tick of bets from several users (one Redis batch): accepted, duplicate, conflict, limits and funds each get their own answer', async () => {
    const s = await make();
    const w = await openPeriod(s);
    await s.credit('alice', 1000, 'd-alice');
    await s.credit('bob', 250, 'd-bob');
    await s.credit('carol', 50_000, 'd-carol');
    await s.credit('frank', 50_000, 'd-frank');
    const lim = { ...LIMITS, maxUserStakePerPeriod: 30_000, maxLiability: 100_000 };
    const now = Date.now();
    // placed in this order, all before any answer comes back: each bet sees the effects of the earlier ones
    const plan: Array<[PlaceBetInput, string]> = [
      [bet(w, 'alice', 'a1', 'A', 7, 100), 'ok'],
      [bet(w, 'bob', 'b1', 'B', 'big', 200), 'ok'],
      [bet(w, 'dave', 'd1', 'C', 1, 100), ErrorCode.INSUFFICIENT_FUNDS], // never credited
      [bet(w, 'alice', 'a1', 'A', 7, 100), 'duplicate'], // retry inside the batch: the first ack
      [bet(w, 'alice', 'a1', 'A', 7, 300), ErrorCode.DUPLICATE_CONFLICT],
      [bet(w, 'bob', 'b2', 'C', 'odd', 100), ErrorCode.INSUFFICIENT_FUNDS], // 50 left
      [bet(w, 'carol', 'c1', 'SUM', 'big', 20_000), 'ok'],
      [bet(w, 'frank', 'f1', 'B', 3, 20_000), ErrorCode.LIABILITY_LIMIT], // 19,600 net × 9 alone is over the cap
      [bet(w, 'carol', 'c2', 'D', 2, 15_000), ErrorCode.USER_LIMIT], // 35,000 > 30,000
      [bet(w, 'bob', 'b3', 'B', 'small', 50), 'ok'], // exactly the rest of the balance
      [bet(w, 'bob', 'b2', 'C', 'odd', 100), ErrorCode.INSUFFICIENT_FUNDS], // a refused bet left nothing behind
      [bet(w, 'carol', 'c3', 'SUM', 'big', 10_000), 'ok'], // exactly the user limit
      [bet(w, 'frank', 'f2', 'B', 3, 100), 'ok'], // the refused f1 did not count towards the liability
      [bet(w, 'alice', 'a2', 'E', 'even', 300), 'ok'],
      [bet(w, 'bob', 'b3', 'B', 'small', 50), 'duplicate'],
    ];
    const settled = await Promise.allSettled(plan.map(([b]) => s.placeBet(b, lim, PAY, now)));
    const outcome = settled.map((r) => r.status === 'rejected'
      ? (isFivedError(r.reason) ? r.reason.code : String(r.reason))
      : r.value.duplicate ? 'duplicate' : 'ok');
    expect(outcome).toEqual(plan.map(([, want]) => want));
    const acks = settled.map((r) => (r.status === 'fulfilled' ? r.value : null));
    // accepted bets get consecutive seqs in placement order, with the balance after each
    expect(acks.filter((a) => a && !a.duplicate).map((a) => [a!.userId, a!.clientBetId, a!.seq, a!.balance])).toEqual([
      ['alice', 'a1', 0, 900], ['bob', 'b1', 1, 50], ['carol', 'c1', 2, 30_000], ['bob', 'b3', 3, 0],
      ['carol', 'c3', 4, 20_000], ['frank', 'f2', 5, 49_900], ['alice', 'a2', 6, 600],
    ]);
    expect(acks[3]).toEqual({ ...acks[0], duplicate: true });
    expect(acks[14]).toEqual({ ...acks[9], duplicate: true });
    const balances = await Promise.all(['alice', 'bob', 'carol', 'dave', 'frank'].map((u) => s.balance(u)));
    expect(balances).toEqual([600, 0, 20_000, 0, 49_900]);
    const totals = new Array<number>(74).fill(0);
    totals[patternIndex('A', 7)] = 100;
    totals[patternIndex('B', 'big')] = 200;
    totals[patternIndex('B', 'small')] = 50;
    totals[patternIndex('B', 3)] = 100;
    totals[patternIndex('SUM', 'big')] = 30_000;
    totals[patternIndex('E', 'even')] = 300;
    expect(Array.from(await s.patternTotals(w))).toEqual(totals);
    expect((await s.userBets('bob', w)).map((r) => r.clientBetId)).toEqual(['b3', 'b1']);
    expect(await s.userBets('dave', w)).toEqual([]);
    expect(await s.userBets('dave')).toEqual([]);
    const snap = await s.snapshot(w);
    expect(recordCount(snap.records)).toBe(7);
    expect(snap.users).toEqual(['alice', 'bob', 'carol', 'frank']);
    expect(Array.from({ length: 7 }, (_, i) => snap.users[readRecord(snap.records, i).userIdx])).toEqual(['alice', 'bob', 'carol', 'bob', 'carol', 'frank', 'alice']);
    const inv = await invariant(s);
    expect(inv.left).toBe(inv.right);
    expect((await s.walletTotals!()).stakes).toBe(30_750);
  });

  it('1,000 concurrent bets with retries of the same client bet ids: exact balances and pattern totals', async () => {
    const s = await make();
    const users = Array.from({ length: 20 }, (_, i) => `r${i}`);
    for (const u of users) await s.credit(u, 1_000_000, `d-${u}`);
    const w = await openPeriod(s);
    const bets = Array.from({ length: 1000 }, (_, i) => bet(w, users[i % 20]!, `cb${i}`, (['A', 'B', 'C', 'D', 'E'] as const)[i % 5]!, i % 10, 2 + (i % 50)));
    // every bet is sent twice at once (a client retry), plus a third time later
    const acks = await Promise.all([...bets, ...bets].map((b) => s.placeBet(b, LIMITS, PAY, Date.now())));
    const retried = await Promise.all(bets.slice(0, 100).map((b) => s.placeBet(b, LIMITS, PAY, Date.now())));
    expect(retried.every((a) => a.duplicate)).toBe(true);
    expect(acks.filter((a) => !a.duplicate)).toHaveLength(1000);
    expect(new Set(acks.map((a) => a.seq)).size).toBe(1000);
    const expectedTotals = new Float64Array(74);
    const spent = new Map<string, number>();
    for (const b of bets) {
      expectedTotals[patternIndex(b.kind, b.pick)]! += b.amount;
      spent.set(b.userId, (spent.get(b.userId) ?? 0) + b.amount);
    }
    expect(Array.from(await s.patternTotals(w))).toEqual(Array.from(expectedTotals));
    for (const u of users) expect(await s.balance(u)).toBe(1_000_000 - spent.get(u)!);
    const snap = await s.snapshot(w);
    expect(recordCount(snap.records)).toBe(1000);
    const inv = await invariant(s);
    expect(inv.left).toBe(inv.right);
  });

  it('bets racing the snapshot from clocks a second behind: acknowledged and in the snapshot, or rejected', async () => {
    const s = await make();
    const users = Array.from({ length: 10 }, (_, i) => `z${i}`);
    for (const u of users) await s.credit(u, 10_000_000, `d-${u}`);
    const w = await openPeriod(s, { start: -1000, freeze: 300, end: 2000 });
    const acked: Array<{ seq: number; userId: string; amount: number }> = [];
    const rejected: string[] = [];
    let n = 0;
    let snapshotTaken = false;
    const client = async (u: string) => {
      for (;;) {
        const i = n++;
        const sentAfterSnapshot = snapshotTaken;
        if (i % 10 === 0) await new Promise((r) => setImmediate(r)); // let the snapshot's timer run (MemoryStore is synchronous)
        try {
          const a = await s.placeBet(bet(w, u, `k${i}`, 'B', i % 10, 2 + (i % 30)), LIMITS, PAY, Date.now() - 1000);
          expect(sentAfterSnapshot).toBe(false);
          acked.push({ seq: a.seq, userId: u, amount: a.amount });
        } catch (err) {
          rejected.push(isFivedError(err) ? err.code : String(err));
          if (sentAfterSnapshot) return;
        }
      }
    };
    const clients = users.map(client);
    await new Promise((r) => setTimeout(r, Math.max(0, w.freezeAt - Date.now())));
    const snap = await s.snapshot(w);
    snapshotTaken = true;
    await Promise.all(clients);
    expect(rejected.length).toBeGreaterThan(0);
    expect(new Set(rejected)).toEqual(new Set([ErrorCode.PERIOD_FROZEN]));
    expect(acked.length).toBeGreaterThan(0);
    const count = recordCount(snap.records);
    for (const a of acked) {
      expect(a.seq).toBeLessThan(count);
      const r = readRecord(snap.records, a.seq);
      expect(snap.users[r.userIdx]).toBe(a.userId);
      expect(r.amount).toBe(a.amount);
    }
    expect(count).toBe(acked.length);
  });

  // ---- maximum balance: money stays exact (issue 12, row 9) ----

  it('row 9: a balance of 2^53+1 written outside fived is refused, never rounded (was: set …993, bet 2, got …990)', async () => {
    const s = await make();
    const w = await openPeriod(s);
    await writeBalanceRaw(s, 'whale', '9007199254740993');
    const before = await readBalanceRaw(s, 'whale');
    const code = await codeOf(s.placeBet(bet(w, 'whale', 'b1', 'A', 1, 2), LIMITS, PAY, Date.now()));
    expect(await readBalanceRaw(s, 'whale')).toBe(before); // not …990: nothing written
    expect(code).toBe(ErrorCode.BALANCE_OUT_OF_RANGE);
    expect(await codeOf(s.balance('whale'))).toBe(ErrorCode.BALANCE_OUT_OF_RANGE); // never a rounded number
    expect(await codeOf(s.credit('whale', 1, 'dw'))).toBe(ErrorCode.BALANCE_OUT_OF_RANGE);
    expect(await readBalanceRaw(s, 'whale')).toBe(before);
    expect(await s.userBets('whale', w)).toEqual([]);
    expect(recordCount((await s.snapshot(w)).records)).toBe(0);
  });

  it('credit: up to exactly the maximum balance is accepted, one more is refused (E_BALANCE_LIMIT) and changes nothing', async () => {
    const s = await make(); // the default maximum: 10^15
    // 1,000 deposits of 10^12 (the largest amount) reach the default cap exactly
    await Promise.all(Array.from({ length: 1000 }, (_, i) => s.credit('top', 1e12, `top-${i}`)));
    expect(await s.balance('top')).toBe(1e15);
    const before = await digest(s);
    expect(await codeOf(s.credit('top', 1, 'top-over'))).toBe(ErrorCode.BALANCE_LIMIT);
    expect(await digest(s)).toBe(before); // not even the deposit id is recorded
    expect(await s.balance('top')).toBe(1e15);
    // a retry of the refused id is refused again (it was never recorded) ...
    expect(await codeOf(s.credit('top', 1, 'top-over'))).toBe(ErrorCode.BALANCE_LIMIT);
    // ... and a retry of an accepted one is still the duplicate it was
    expect(await s.credit('top', 1e12, 'top-0')).toEqual({ balance: 1e15, duplicate: true });
    const t = await s.walletTotals!();
    expect(t).toMatchObject({ deposits: 1e15, balances: 1e15, held: 0, balanced: true });
  });

  it('at the top of the exact range (maximum 2^53-1): credits, bets and reads stay exact to the unit', async () => {
    const MAX = Number.MAX_SAFE_INTEGER; // 9007199254740991
    const s = await make({ maxBalance: MAX });
    const w = await openPeriod(s);
    await writeBalanceRaw(s, 'edge', String(MAX - 7));
    expect(await s.balance('edge')).toBe(MAX - 7);
    expect((await s.placeBet(bet(w, 'edge', 'e1', 'A', 1, 2), LIMITS, PAY, Date.now())).balance).toBe(MAX - 9);
    expect(await readBalanceRaw(s, 'edge')).toBe('9007199254740982');
    expect(await s.credit('edge', 9, 'de1')).toEqual({ balance: MAX, duplicate: false });
    expect(await readBalanceRaw(s, 'edge')).toBe('9007199254740991');
    expect(await codeOf(s.credit('edge', 1, 'de2'))).toBe(ErrorCode.BALANCE_LIMIT);
    expect(await readBalanceRaw(s, 'edge')).toBe('9007199254740991');
    expect((await s.placeBet(bet(w, 'edge', 'e2', 'B', 3, 3), LIMITS, PAY, Date.now())).balance).toBe(MAX - 3);
    expect(await readBalanceRaw(s, 'edge')).toBe('9007199254740988');
  });

  it('the maximum balance is an integer 1..2^53-1', async () => {
    for (const maxBalance of [0, 2 ** 53, 1.5, -1]) {
      expect(await codeOf(make({ maxBalance }))).toBe(ErrorCode.CONFIG_INVALID);
    }
  });

  it('a payout that would pass the maximum balance is held (same step, invariant kept, reported), never rounded or lost', async () => {
    const s = await make({ maxBalance: 9_000 });
    const events: HeldInfo[] = [];
    s.on('held', (e) => events.push(e));
    const w = await openPeriod(s, { start: -1000, freeze: 400, end: 900 });
    await s.credit('capped', 9_000, 'dc1');
    await s.credit('plain', 5_000, 'dp1');
    // both sides of SUM big/small: exactly one wins 1960 for each user
    await s.placeBet(bet(w, 'capped', 'cb', 'SUM', 'big', 1000), LIMITS, PAY, Date.now());
    await s.placeBet(bet(w, 'capped', 'cs', 'SUM', 'small', 1000), LIMITS, PAY, Date.now());
    await s.placeBet(bet(w, 'plain', 'pb', 'SUM', 'big', 1000), LIMITS, PAY, Date.now());
    await s.placeBet(bet(w, 'plain', 'ps', 'SUM', 'small', 1000), LIMITS, PAY, Date.now());
    await s.credit('capped', 2_000, 'dc2'); // 7000 + 2000: exactly the cap
    expect(await s.balance('capped')).toBe(9_000);
    const plan = await planFor(s, w);
    expect(plan.totalPayout).toBe(2 * 1960);
    await s.saveSettlement(plan);
    await new Promise((r) => setTimeout(r, Math.max(0, w.endsAt - Date.now() + 5)));
    expect(await s.applySettlement(w, Date.now())).toEqual({ applied: true, credited: 1960, held: 1960 });
    expect(await s.balance('capped')).toBe(9_000); // unchanged: 9000 + 1960 would pass the cap
    expect(await s.balance('plain')).toBe(3_000 + 1960);
    const member = `${w.duration}:${w.timeline}:${w.periodId}`;
    expect(await s.heldCredits!()).toEqual({ byUser: { capped: 1960 }, recent: [{ member, kind: 'payout', userId: 'capped', amount: 1960 }] });
    expect(events).toEqual([{ kind: 'payout', period: { duration: w.duration, timeline: w.timeline, periodId: w.periodId }, amount: 1960, count: 1 }]);
    const t = await s.walletTotals!();
    expect(t).toMatchObject({ payouts: 3920, held: 1960, balanced: true });
    const inv = await invariant(s);
    expect(inv.left).toBe(inv.right);
    // settled once: a second apply holds nothing more
    expect(await s.applySettlement(w, Date.now())).toEqual({ applied: false, credited: 0, held: 0 });
    expect((await s.heldCredits!(['capped'])).byUser).toEqual({ capped: 1960 });
    expect(events).toHaveLength(1);
    expect((await s.walletTotals!()).held).toBe(1960);
  });

  it('a balance above the maximum (the maximum was lowered) still bets exactly; payouts to it are held', async () => {
    const s = await make(); // default 10^15
    const w = await openPeriod(s, { start: -1000, freeze: 400, end: 900 });
    const big = 2 ** 53 - 7; // above 10^15, still exact
    await writeBalanceRaw(s, 'old', String(big));
    await s.placeBet(bet(w, 'old', 'ob', 'SUM', 'big', 1000), LIMITS, PAY, Date.now());
    await s.placeBet(bet(w, 'old', 'os', 'SUM', 'small', 1000), LIMITS, PAY, Date.now());
    expect(await readBalanceRaw(s, 'old')).toBe(String(big - 2000));
    await s.saveSettlement(await planFor(s, w));
    await new Promise((r) => setTimeout(r, Math.max(0, w.endsAt - Date.now() + 5)));
    // nobody listens for 'held' here: the store logs it itself, tagged
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(await s.applySettlement(w, Date.now())).toEqual({ applied: true, credited: 0, held: 1960 });
      expect(logged.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('"tag":"5D_BALANCE_HELD"') && l.includes(w.periodId))).toHaveLength(1);
    } finally {
      logged.mockRestore();
    }
    expect(await readBalanceRaw(s, 'old')).toBe(String(big - 2000));
    expect((await s.heldCredits!(['old'])).byUser).toEqual({ old: 1960 });
  });

  it('a void refund that would pass the maximum balance is held, once; the others are refunded', async () => {
    const s = await make({ maxBalance: 5_000 });
    const events: HeldInfo[] = [];
    s.on('held', (e) => events.push(e));
    const w = await openPeriod(s);
    await s.credit('full', 5_000, 'df1');
    await s.credit('low', 1_000, 'dl1');
    await s.placeBet(bet(w, 'full', 'f1', 'C', 4, 700), LIMITS, PAY, Date.now());
    await s.placeBet(bet(w, 'low', 'l1', 'C', 5, 300), LIMITS, PAY, Date.now());
    await s.credit('full', 700, 'df2'); // back at the cap
    expect(await s.voidPeriod(w, 'operator action')).toEqual({ refunded: 300, held: 700 });
    expect(await s.voidPeriod(w, 'again')).toEqual({ refunded: 0, held: 0 });
    expect(await s.balance('full')).toBe(5_000);
    expect(await s.balance('low')).toBe(1_000);
    const member = `${w.duration}:${w.timeline}:${w.periodId}`;
    expect(await s.heldCredits!()).toEqual({ byUser: { full: 700 }, recent: [{ member, kind: 'refund', userId: 'full', amount: 700 }] });
    expect(events.map((e) => [e.kind, e.amount, e.count])).toEqual([['refund', 700, 1]]);
    const t = await s.walletTotals!();
    expect(t).toMatchObject({ refunds: 1000, held: 700, balanced: true });
  });
});

// ---- issue 14: withdrawals and the ledger, on both stores ----

describe.each(factories)('ledger contract: %s', (_name, make) => {
  it('debit: idempotent by withdrawalId (the first answer again), conflicts, insufficient funds and bad input change nothing', async () => {
    const s = await make();
    await s.credit('w1', 1000, 'dep-w1');
    expect(await s.debit('w1', 300, 'wd-1')).toEqual({ balance: 700, duplicate: false });
    await s.credit('w1', 50, 'dep-w2');
    expect(await s.debit('w1', 300, 'wd-1')).toEqual({ balance: 700, duplicate: true }); // the first answer, not today's balance
    expect(await s.balance('w1')).toBe(750);
    expect(await codeOf(s.debit('w1', 301, 'wd-1'))).toBe(ErrorCode.DUPLICATE_CONFLICT);
    expect(await codeOf(s.debit('w2', 300, 'wd-1'))).toBe(ErrorCode.DUPLICATE_CONFLICT);
    expect(await codeOf(s.debit('w1', 751, 'wd-2'))).toBe(ErrorCode.INSUFFICIENT_FUNDS);
    expect(await codeOf(s.debit('nobody', 1, 'wd-3'))).toBe(ErrorCode.INSUFFICIENT_FUNDS);
    expect(await codeOf(s.debit('w1', 0, 'wd-4'))).toBe(ErrorCode.INVALID_AMOUNT);
    expect(await codeOf(s.debit('w1', 1.5, 'wd-4'))).toBe(ErrorCode.INVALID_AMOUNT);
    expect(await codeOf(s.debit('w1', 10, 'bad id!'))).toBe(ErrorCode.INVALID_ID);
    expect(await codeOf(s.debit('bad user{', 10, 'wd-5'))).toBe(ErrorCode.INVALID_ID);
    expect(await s.balance('w1')).toBe(750);
    expect(await s.debit('w1', 750, 'wd-6')).toEqual({ balance: 0, duplicate: false }); // all of it
    const t = await s.walletTotals!();
    expect(t).toMatchObject({ deposits: 1050, withdrawals: 1050, balances: 0, balanced: true });
    const { entries } = await s.ledgerPage('w1', null, 100);
    expect(entries.map((e) => [e.kind, e.amount, e.balance, e.ref])).toEqual([
      ['withdrawal', -750, 0, 'wd-6'], ['deposit', 50, 750, 'dep-w2'], ['withdrawal', -300, 700, 'wd-1'], ['deposit', 1000, 1000, 'dep-w1'],
    ]);
  });

  it('every balance change is one ledger entry: deposit, stake, payout, refund, withdrawal; reconcile finds them whole', async () => {
    const s = await make();
    const t0 = await s.serverTime();
    const w = await openPeriod(s, { start: -1000, freeze: 400, end: 900 });
    const v = await openPeriod(s, { start: -1000, freeze: 60_000, end: 65_000 }, seedOf(8));
    await s.credit('la', 10_000, 'dep-la');
    await s.credit('lb', 10_000, 'dep-lb');
    await s.credit('lb', 10_000, 'dep-lb'); // a duplicate: no second entry
    for (let d = 0; d <= 9; d++) await s.placeBet(bet(w, d % 2 ? 'la' : 'lb', `n${d}`, 'A', d, 100), LIMITS, PAY, Date.now());
    await s.placeBet(bet(w, 'la', 'n1', 'A', 1, 100), LIMITS, PAY, Date.now()); // a retried bet: no second stake
    await s.placeBet(bet(v, 'la', 'v1', 'B', 3, 40), LIMITS, PAY, Date.now());
    await s.placeBet(bet(v, 'la', 'v2', 'B', 4, 60), LIMITS, PAY, Date.now());
    const plan = await planFor(s, w);
    await s.saveSettlement(plan);
    await new Promise((r) => setTimeout(r, Math.max(0, w.endsAt - Date.now() + 5)));
    await s.applySettlement(w, Date.now());
    await s.applySettlement(w, Date.now()); // settled once: no second payout entry
    await s.voidPeriod(v, 'operator action');
    await s.voidPeriod(v, 'again');
    await s.debit('la', 500, 'wd-la');
    const la = (await s.ledgerPage('la', null, 100)).entries;
    const member = (p: typeof w) => `${p.duration}:${p.timeline}:${p.periodId}`;
    const kinds = la.map((e) => e.kind);
    expect(kinds.filter((k) => k === 'stake')).toHaveLength(7);
    expect(kinds.filter((k) => k === 'deposit')).toHaveLength(1);
    expect(la[0]).toMatchObject({ kind: 'withdrawal', amount: -500, ref: 'wd-la', balance: await s.balance('la') });
    expect(la.filter((e) => e.kind === 'refund')).toEqual([expect.objectContaining({ amount: 100, ref: member(v) })]);
    const won = plan.userPayouts[plan.users.indexOf('la')]!;
    expect(la.filter((e) => e.kind === 'payout')).toEqual(won > 0 ? [expect.objectContaining({ amount: won, ref: member(w) })] : []);
    const stakeRefs = la.filter((e) => e.kind === 'stake').map((e) => e.ref);
    expect(new Set(stakeRefs).size).toBe(7);
    expect(stakeRefs.every((r) => r.startsWith(`${member(w)}:`) || r.startsWith(`${member(v)}:`))).toBe(true);
    for (const e of la) {
      expect(e.userId).toBe('la');
      expect(e.at).toBeGreaterThanOrEqual(t0 - 1000);
      expect(e.entryId).toMatch(/^\d{16}$/);
    }
    // newest first, ids strictly decreasing
    expect(la.map((e) => e.entryId)).toEqual([...la.map((e) => e.entryId)].sort().reverse());
    const report = await reconcileLedger(s, { complete: true });
    expect(report).toMatchObject({ ok: true, users: 2, problems: [] });
    expect(report.entries).toBe(la.length + (await s.ledgerPage('lb', null, 100)).entries.length);
  });

  it('ledgerPage pages newest first with before/next; ledgerFeed gives every user in commit order, resumable', async () => {
    const s = await make();
    for (let i = 0; i < 7; i++) await s.credit(i % 2 ? 'pa' : 'pb', 10 + i, `d${i}`);
    const p1 = await s.ledgerPage('pb', null, 2);
    expect(p1.entries.map((e) => e.amount)).toEqual([16, 14]);
    expect(p1.next).toBe(p1.entries[1]!.entryId);
    const p2 = await s.ledgerPage('pb', p1.next, 2);
    expect(p2.entries.map((e) => e.amount)).toEqual([12, 10]);
    expect(p2.next).toBeNull();
    expect(await s.ledgerPage('nobody', null, 10)).toEqual({ entries: [], next: null });
    const all = await s.ledgerFeed(null, 100);
    expect(all.map((e) => e.amount)).toEqual([10, 11, 12, 13, 14, 15, 16]);
    expect(all.map((e) => e.entryId)).toEqual([...all.map((e) => e.entryId)].sort());
    // contiguous numbers: a gap would mean entries lost from the hot window
    expect(all.map((e) => Number(e.entryId) - Number(all[0]!.entryId))).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const resumed = await s.ledgerFeed(all[2]!.entryId, 3);
    expect(resumed.map((e) => e.amount)).toEqual([13, 14, 15]);
    expect(await s.ledgerFeed(all[6]!.entryId, 10)).toEqual([]);
    for (const bad of ['12', 'x'.repeat(16), '-000000000000001']) {
      expect(await codeOf(s.ledgerPage('pb', bad, 10))).toBe(ErrorCode.BAD_REQUEST);
      expect(await codeOf(s.ledgerFeed(bad, 10))).toBe(ErrorCode.BAD_REQUEST);
    }
    for (const bad of [0, -1, 1.5, 1001, Number.NaN]) expect(await codeOf(s.ledgerPage('pb', null, bad))).toBe(ErrorCode.BAD_REQUEST);
    expect(await codeOf(s.ledgerPage('bad{', null, 10))).toBe(ErrorCode.INVALID_ID);
  });

  it('ledgerFloor raises the numbering above a floor (never lowers it); entries then continue above it', async () => {
    const s = await make();
    await s.credit('fl', 10, 'f1');
    const [first] = await s.ledgerFeed(null, 10);
    const floor = entryIdOf(Number(first!.entryId) + 5);
    expect(await s.ledgerFloor(floor)).toEqual({ before: first!.entryId, raised: true });
    await s.credit('fl', 11, 'f2');
    const next = await s.ledgerFeed(floor, 10);
    expect(next.map((e) => [Number(e.entryId) - Number(floor), e.amount])).toEqual([[1, 11]]);
    // at or above the floor already: nothing changes
    expect(await s.ledgerFloor(first!.entryId)).toEqual({ before: next[0]!.entryId, raised: false });
    expect(await s.ledgerFloor(next[0]!.entryId)).toEqual({ before: next[0]!.entryId, raised: false });
    for (const bad of ['12', 'x'.repeat(16)]) expect(await codeOf(s.ledgerFloor(bad))).toBe(ErrorCode.BAD_REQUEST);
    expect((await s.ledgerPage('fl', null, 10)).entries.map((e) => e.amount)).toEqual([11, 10]);
  });

  it('paging 101 entries of one user (among others) 7 at a time gives every entry once, in order', async () => {
    const s = await make();
    for (let i = 0; i < 101; i++) {
      await s.credit('many', 1 + i, `dm${i}`);
      if (i % 3 === 0) await s.credit('other', 1, `do${i}`);
    }
    const ids: string[] = [];
    let before: string | null = null;
    do {
      const page: { entries: Array<{ entryId: string; amount: number }>; next: string | null } = await s.ledgerPage('many', before, 7);
      expect(page.entries.length).toBeLessThanOrEqual(7);
      ids.push(...page.entries.map((e) => e.entryId));
      before = page.next;
    } while (before !== null);
    const all = (await s.ledgerPage('many', null, 1000)).entries;
    expect(all.map((e) => e.amount)).toEqual(Array.from({ length: 101 }, (_, i) => 101 - i));
    expect(ids).toEqual(all.map((e) => e.entryId));
    // a cursor that is not one of the user's ids still pages from there
    const mid = Number(all[50]!.entryId) + 1;
    expect((await s.ledgerPage('many', String(mid).padStart(16, '0'), 3)).entries.map((e) => e.entryId)).toEqual(all.slice(50, 53).map((e) => e.entryId));
  });

  it('the feed holds a whole settlement in commit order, one payout per winner (chunks of 3)', async () => {
    const s = await make({ settleChunk: 3 });
    const w = await openPeriod(s, { start: -1000, freeze: 400, end: 900 });
    const users = Array.from({ length: 10 }, (_, i) => `fs${i}`);
    for (const u of users) await s.credit(u, 1000, `d-${u}`);
    for (const u of users) {
      await s.placeBet(bet(w, u, `${u}-b`, 'SUM', 'big', 100), LIMITS, PAY, Date.now());
      await s.placeBet(bet(w, u, `${u}-s`, 'SUM', 'small', 100), LIMITS, PAY, Date.now());
    }
    const before = (await s.ledgerFeed(null, 1000)).at(-1)!.entryId;
    await s.saveSettlement(await planFor(s, w));
    await new Promise((r) => setTimeout(r, Math.max(0, w.endsAt - Date.now() + 5)));
    await s.applySettlement(w, Date.now());
    const payouts = await s.ledgerFeed(before, 1000);
    expect(payouts.map((e) => e.kind)).toEqual(users.map(() => 'payout'));
    expect(new Set(payouts.map((e) => e.userId))).toEqual(new Set(users));
    // read in small pieces, the feed gives the same entries
    const pieces: string[] = [];
    let after = before;
    for (;;) {
      const part = await s.ledgerFeed(after, 4);
      if (part.length === 0) break;
      pieces.push(...part.map((e) => e.entryId));
      after = part.at(-1)!.entryId;
    }
    expect(pieces).toEqual(payouts.map((e) => e.entryId));
    expect((await reconcileLedger(s, { complete: true })).problems).toEqual([]);
  });

  it('payouts and refunds read the same before and after the user\'s next change moves them (Redis: ledger:pending into the zset)', async () => {
    const s = await make();
    const w = await openPeriod(s, { start: -1000, freeze: 400, end: 900 });
    const later = await openPeriod(s, { start: -1000, freeze: 60_000, end: 65_000 }, seedOf(9));
    await s.credit('mv', 5000, 'd-mv');
    await s.placeBet(bet(w, 'mv', 'b', 'SUM', 'big', 1000), LIMITS, PAY, Date.now());
    await s.placeBet(bet(w, 'mv', 's', 'SUM', 'small', 1000), LIMITS, PAY, Date.now());
    await s.saveSettlement(await planFor(s, w));
    await new Promise((r) => setTimeout(r, Math.max(0, w.endsAt - Date.now() + 5)));
    await s.applySettlement(w, Date.now());
    const walk = async () => {
      const ids: string[] = [];
      let before: string | null = null;
      do {
        const page: { entries: Array<{ entryId: string }>; next: string | null } = await s.ledgerPage('mv', before, 1);
        ids.push(...page.entries.map((e) => e.entryId));
        before = page.next;
      } while (before !== null);
      return ids;
    };
    const all = (await s.ledgerPage('mv', null, 100)).entries;
    expect(all.map((e) => e.kind)).toEqual(['payout', 'stake', 'stake', 'deposit']);
    expect(await walk()).toEqual(all.map((e) => e.entryId));
    if (s instanceof RedisStore) expect(await s.client.hget(s.keys.ledgerPending, 'mv')).toMatch(/\|p\|/);
    await s.placeBet(bet(later, 'mv', 'n', 'A', 1, 10), LIMITS, PAY, Date.now()); // moves the payout
    const after = (await s.ledgerPage('mv', null, 100)).entries;
    expect(after.slice(1)).toEqual(all);
    expect(after[0]).toMatchObject({ kind: 'stake', amount: -10 });
    expect(await walk()).toEqual(after.map((e) => e.entryId));
    if (s instanceof RedisStore) expect(await s.client.hget(s.keys.ledgerPending, 'mv')).toBeNull();
    expect((await reconcileLedger(s, { complete: true })).problems).toEqual([]);
  });

  it('a held payout changes no balance and writes no entry; reconcile accepts it (held log)', async () => {
    const s = await make({ maxBalance: 9_000 });
    const w = await openPeriod(s, { start: -1000, freeze: 400, end: 900 });
    await s.credit('hc', 9_000, 'dh1');
    await s.placeBet(bet(w, 'hc', 'b', 'SUM', 'big', 1000), LIMITS, PAY, Date.now());
    await s.placeBet(bet(w, 'hc', 's', 'SUM', 'small', 1000), LIMITS, PAY, Date.now());
    await s.credit('hc', 2_000, 'dh2');
    await s.saveSettlement(await planFor(s, w));
    await new Promise((r) => setTimeout(r, Math.max(0, w.endsAt - Date.now() + 5)));
    expect(await s.applySettlement(w, Date.now())).toMatchObject({ held: 1960 });
    const kinds = (await s.ledgerPage('hc', null, 100)).entries.map((e) => e.kind);
    expect(kinds).toEqual(['deposit', 'stake', 'stake', 'deposit']);
    expect((await reconcileLedger(s, { complete: true })).ok).toBe(true);
  });

  it('reconcile reports a balance changed outside the ledger, with the user and the amounts', async () => {
    const s = await make();
    await s.credit('rx', 500, 'drx');
    await s.credit('ry', 500, 'dry');
    expect((await reconcileLedger(s, { complete: true })).ok).toBe(true);
    await writeBalanceRaw(s, 'rx', '650');
    const report = await reconcileLedger(s, { complete: true });
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual(['rx: the entries add up to 500, the balance is 650']);
  });

  it('a withdrawal racing bets for the same money never overdraws: balance >= 0, every accepted unit accounted', async () => {
    const s = await make();
    const w = await openPeriod(s, { start: -1000, freeze: 60_000, end: 65_000 });
    for (let round = 0; round < 5; round++) {
      const u = `race${round}`;
      await s.credit(u, 1000, `d-${u}`);
      // 20 bets of 100 and a withdrawal of 500 in the same tick: 2,500 asked of 1,000
      const bets = Array.from({ length: 20 }, (_, i) => s.placeBet(bet(w, u, `r${i}`, 'C', i % 10, 100), LIMITS, PAY, Date.now()).then(() => 100, (e) => (isFivedError(e, ErrorCode.INSUFFICIENT_FUNDS) ? 0 : Promise.reject(e))));
      const wd = s.debit(u, 500, `wd-${u}`).then(() => 500, (e) => (isFivedError(e, ErrorCode.INSUFFICIENT_FUNDS) ? 0 : Promise.reject(e)));
      const spent = (await Promise.all([...bets, wd])).reduce((a, b) => a + b, 0);
      const balance = await s.balance(u);
      expect(balance).toBeGreaterThanOrEqual(0);
      expect(spent + balance).toBe(1000);
      expect(spent).toBeGreaterThanOrEqual(900); // only what could not fit was refused
    }
    const inv = await invariant(s);
    expect(inv.left).toBe(inv.right);
    expect((await reconcileLedger(s, { complete: true })).problems).toEqual([]);
  });
});
