// The reconciler (docs/design.md rules 2, 4, 5): a period that accepted bets is finished from the store's
// own record whoever crashed — no result and no plan (the scheduler died before the freeze and no
// gateway settled), a plan saved but never applied, a claim left by a dead claimant — exactly once,
// never before its end. Runs on MemoryStore and on RedisStore (its own redis-server), with the
// real worker pool.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drawDigits, drawMessage, resultMatches } from '../src/core/draw.js';
import { ComputePool } from '../src/worker/pool.js';
import { MemoryStore } from '../src/store/memory.js';
import { RedisStore } from '../src/store/redis.js';
import type { Store, StoreOptions } from '../src/store/types.js';
import { buildResult, computeInPool } from '../src/runtime/compute.js';
import { MISMATCH_REASON, reconcile, type ReconcileOptions } from '../src/runtime/reconcile.js';
import { CHANNELS } from '../src/runtime/bus.js';
import { LIMITS, PAY, invariant, openPeriod, seedOf } from './support/store-harness.js';
import { startRedis, testPrefix, TEST_SEED_KEY, type TestRedis } from './support/redis.js';
import { requireBuild } from './support/scheduler.js';
import type { PeriodWindow } from '../src/core/types.js';

let redis: TestRedis;
let pool: ComputePool;
const opened: Store[] = [];
beforeAll(async () => {
  requireBuild();
  redis = await startRedis();
  pool = new ComputePool({ threads: 1 });
});
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await pool?.close();
  await redis?.stop();
});

type Made = { store: Store; storeOptions: StoreOptions };
const factories: Array<[string, () => Promise<Made>]> = [
  ['MemoryStore', async () => { const s = new MemoryStore({}); await s.init(); opened.push(s); return { store: s, storeOptions: {} }; }],
  ['RedisStore', async () => {
    const storeOptions = { redisUrl: redis.url, keyPrefix: testPrefix('reconcile'), instance: 'test', seedKey: TEST_SEED_KEY };
    const s = new RedisStore(storeOptions);
    await s.init();
    opened.push(s);
    return { store: s, storeOptions };
  }],
];

const cfg = { paytable: PAY };
const who = { instance: 'reconciler', host: 'h', pid: 1, source: 'gateway' as const };
const opts = (o: Partial<ReconcileOptions> = {}): ReconcileOptions => ({ now: Date.now(), endedBy: Date.now(), who, ...o });
const failOnError = (w: PeriodWindow, err: unknown) => { throw new Error(`reconcile of ${w.periodId} failed: ${String(err)}`); };

/** A period open for 400 ms more, with bets of three users on every digit of A (one of them wins 98 × 9 per 100). */
async function periodWithBets(store: Store, seed = seedOf(11)): Promise<{ w: PeriodWindow; staked: number }> {
  const w = await openPeriod(store, { start: -1000, freeze: 300, end: 400 }, seed);
  const users = ['r0', 'r1', 'r2'];
  for (const u of users) await store.credit(u, 10_000, `dep-${u}-${w.periodId}`);
  for (let d = 0; d <= 9; d++) await store.placeBet({ period: w, userId: users[d % 3]!, clientBetId: `a${d}`, kind: 'A', pick: d, amount: 100 }, LIMITS, PAY, Date.now());
  return { w, staked: 1000 };
}

const afterEnd = (w: PeriodWindow) => new Promise((r) => setTimeout(r, Math.max(0, w.endsAt - Date.now() + 5)));
const sumBalances = async (store: Store) => (await Promise.all(['r0', 'r1', 'r2'].map((u) => store.balance(u)))).reduce((a, b) => a + b, 0);

describe.each(factories)('reconcile: %s', (_name, make) => {
  it('finishes a period nobody settled (no result, no plan): result from the seed, settled once, never before the end', async () => {
    const { store, storeOptions } = await make();
    const deps = { store, pool, cfg, storeOptions };
    const { w } = await periodWithBets(store);
    // before its end the period is not touched: no result can leak early (rule 4)
    expect(await reconcile(deps, opts(), failOnError)).toEqual([]);
    expect(await store.getResult(w)).toBeNull();
    await afterEnd(w);
    const before = await sumBalances(store);
    const done = await reconcile(deps, opts(), failOnError);
    expect(done.map((d) => [d.w.periodId, d.how, d.credited])).toEqual([[w.periodId, 'computed', 882]]);
    const r = await store.getResult(w);
    expect(r!.digits).toEqual(drawDigits(seedOf(11), drawMessage(w)).digits);
    expect(resultMatches(r!.seed, r!.commitment, drawMessage(w), r!.digits)).toBe(true);
    expect(await sumBalances(store)).toBe(before + 882);
    expect((await store.getPeriod(w)).status).toBe('settled');
    // a second pass finds nothing left and changes nothing
    expect(await reconcile(deps, opts(), failOnError)).toEqual([]);
    expect(await sumBalances(store)).toBe(before + 882);
    const inv = await invariant(store);
    expect(inv.left).toBe(inv.right);
  });

  it('applies a plan that was saved and stored but never applied (the scheduler died at the end)', async () => {
    const { store, storeOptions } = await make();
    const deps = { store, pool, cfg, storeOptions };
    const { w } = await periodWithBets(store, seedOf(12));
    await new Promise((r) => setTimeout(r, Math.max(0, w.freezeAt - Date.now() + 5)));
    const out = await computeInPool(deps, w);
    await store.storeResult(buildResult(w, out.draw, out.seed, out.commitment, { ...who, computedAt: 0, computeMs: 0, patternCount: 0, totalStake: 0, totalExposure: 0, maxLiability: 0, source: 'scheduler' }));
    await afterEnd(w);
    const before = await sumBalances(store);
    const done = await reconcile(deps, opts(), failOnError);
    expect(done.map((d) => [d.how, d.credited])).toEqual([['applied', out.totalPayout]]);
    expect(await sumBalances(store)).toBe(before + out.totalPayout);
    expect(await store.pendingSettlements()).toEqual([]);
  });

  it('waits while another claimant holds the claim, and takes over once the claim lapses', async () => {
    const { store, storeOptions } = await make();
    const deps = { store, pool, cfg, storeOptions };
    const { w } = await periodWithBets(store, seedOf(13));
    await afterEnd(w);
    expect(await store.claimSettlement(w, 'a-gateway-that-died', 150)).toBe(true);
    const before = await sumBalances(store);
    expect((await reconcile(deps, opts(), failOnError)).map((d) => d.how)).toEqual(['busy']);
    expect(await sumBalances(store)).toBe(before);
    expect(await store.isSettled(w)).toBe(false);
    await new Promise((r) => setTimeout(r, 200));
    expect((await reconcile(deps, opts(), failOnError)).map((d) => d.how)).toEqual(['computed']);
    expect(await sumBalances(store)).toBe(before + 882);
  });

  it('a void period owes nothing once refunded; periods ending after endedBy wait', async () => {
    const { store, storeOptions } = await make();
    const deps = { store, pool, cfg, storeOptions };
    const { w, staked } = await periodWithBets(store, seedOf(14));
    await afterEnd(w);
    expect(await reconcile(deps, opts({ endedBy: w.endsAt - 1 }), failOnError)).toEqual([]); // ended after endedBy: later
    const before = await sumBalances(store);
    await store.voidPeriod(w, 'operator action');
    expect(await sumBalances(store)).toBe(before + staked);
    expect(await reconcile(deps, opts(), failOnError)).toEqual([]); // refunded: nothing owed
    expect(await store.getResult(w)).toBeNull();
  });

  it('a stored result that does not verify is neither revealed nor paid: the period is voided with refunds, never stuck (issue 12 row 10)', async () => {
    const { store, storeOptions } = await make();
    const deps = { store, pool, cfg, storeOptions };
    const { w, staked } = await periodWithBets(store, seedOf(15));
    const voids: unknown[] = [];
    await store.subscribe(CHANNELS.void, (_c, m) => voids.push(m));
    // the period's commitment beside a seed that does not open it, with that seed's digits
    const fake = seedOf(99);
    const d = drawDigits(fake, drawMessage(w));
    const tracking = { instance: 'x', host: 'h', pid: 1, computedAt: 0, computeMs: 0, patternCount: 0, totalStake: 0, totalExposure: 0, maxLiability: 0, source: 'scheduler' as const };
    await store.storeResult({ ...buildResult(w, d, fake, (await store.getCommitment(w))!, tracking) });
    await afterEnd(w);
    const before = await sumBalances(store);
    const done = await reconcile(deps, opts(), failOnError);
    expect(done).toEqual([{ w, how: 'rejected', credited: 0 }]);
    expect(await sumBalances(store)).toBe(before + staked);
    expect(await store.getResult(w)).toBeNull();
    expect((await store.getPeriod(w)).status).toBe('void');
    expect(await store.history(w.duration, w.timeline, { limit: 10 })).toEqual([]);
    expect(await reconcile(deps, opts(), failOnError)).toEqual([]); // nothing owed any more
    await new Promise((r) => setTimeout(r, 50)); // the bus message travels on its own connection
    expect(voids).toEqual([expect.objectContaining({ periodId: w.periodId, reason: MISMATCH_REASON, refunded: staked })]);
    const inv = await invariant(store);
    expect(inv.left).toBe(inv.right);
  });
});
