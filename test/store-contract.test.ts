// The store contract: the SAME test functions run against MemoryStore and against RedisStore on a
// redis-server this file starts itself (its own port, every test its own key prefix).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRecord, recordCount } from '../src/core/betbuf.js';
import { commitmentOf } from '../src/core/draw.js';
import { patternIndex } from '../src/core/rules.js';
import type { BetKind, BetPick } from '../src/core/types.js';
import { ErrorCode, isFivedError } from '../src/errors.js';
import { CHANNELS } from '../src/store/keys.js';
import { MemoryStore } from '../src/store/memory.js';
import { RedisStore } from '../src/store/redis.js';
import type { PlaceBetInput, Store } from '../src/store/types.js';
import { startRedis, testPrefix, TEST_SEED_KEY, type TestRedis } from './helpers/redis.js';
import { LIMITS, PAY, atRest, digest, invariant, openPeriod, planFor, resultOf, seedOf, windowAt } from './helpers/store-harness.js';

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

type Factory = () => Promise<Store>;
const factories: Array<[string, Factory]> = [
  ['MemoryStore', async () => { const s = new MemoryStore({}); await s.init(); opened.push(s); return s; }],
  ['RedisStore', async () => { const s = new RedisStore({ redisUrl: redis.url, keyPrefix: testPrefix('contract'), instance: 'test', seedKey: TEST_SEED_KEY }); await s.init(); opened.push(s); return s; }],
];

function bet(w: PlaceBetInput['period'], userId: string, clientBetId: string, kind: BetKind, pick: BetPick, amount: number): PlaceBetInput {
  return { period: w, userId, clientBetId, kind, pick, amount };
}

describe.each(factories)('store contract: %s', (_name, make) => {
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

  it('commit after the period opened is refused and the period is void', async () => {
    const s = await make();
    const w = windowAt(Date.now());
    expect(await codeOf(s.commit(w, seedOf(1), w.startsAt))).toBe(ErrorCode.COMMIT_TOO_LATE);
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
    expect(first).toEqual({ applied: true, credited: 2842 });
    const after = await Promise.all(users.map((u) => s.balance(u)));
    expect(after.reduce((a, b) => a + b, 0) - balancesBefore.reduce((a, b) => a + b, 0)).toBe(2842);
    expect(await s.applySettlement(w, Date.now())).toEqual({ applied: false, credited: 0 });
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

  it('settlement plans are checked and fenced', async () => {
    const s = await make();
    const lease = (await s.acquireLease('sched', 10_000))!;
    const w = await openPeriod(s);
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
    expect(await s.voidPeriod(w, 'again')).toEqual({ refunded: 0 });
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

  it('wallet: credit is idempotent by deposit id; config is first-wins; a claim has one holder at a time', async () => {
    const s = await make();
    expect(await s.credit('w', 500, 'dep-1')).toEqual({ balance: 500, duplicate: false });
    expect(await s.credit('w', 500, 'dep-1')).toEqual({ balance: 500, duplicate: true });
    expect(await codeOf(s.credit('w', 600, 'dep-1'))).toBe(ErrorCode.DUPLICATE_CONFLICT);
    expect(await codeOf(s.credit('other', 500, 'dep-1'))).toBe(ErrorCode.DUPLICATE_CONFLICT);
    expect(await s.balance('w')).toBe(500);
    expect(await s.balance('nobody')).toBe(0);
    expect(await s.registerConfig('fp-1')).toBe('fp-1');
    expect(await s.registerConfig('fp-2')).toBe('fp-1');
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
    const bets = Array.from({ length: 1000 }, (_, i) => bet(w, users[i % 20]!, `cb${i}`, (['A', 'B', 'C', 'D', 'E'] as const)[i % 5], i % 10, 2 + (i % 50)));
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
});
