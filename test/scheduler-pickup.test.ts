// No scheduler for a few periods, then one starts: it completes the settlement left pending (a
// plan saved at a freeze, never applied), picks up from the current period (never computes a
// period that ended before it took the lease), and never rewrites a stored result (NX).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, testPrefix, TEST_SEED_KEY, type TestRedis } from './support/redis.js';
import { expectedPayout, isAcquired, isStarting, requireBuild, spawnScheduler, type SchedulerProc } from './support/scheduler.js';
import { loadConfig } from '../src/config.js';
import { drawDigits, drawMessage } from '../src/core/draw.js';
import { createStore } from '../src/store/index.js';
import type { BetAck, Store, StoreOptions } from '../src/store/types.js';
import { ComputePool } from '../src/worker/pool.js';
import { nextWindow, roomsOf, windowAt, windowOf } from '../src/runtime/rooms.js';
import { assertResultVerifies, buildResult, computeInPool } from '../src/runtime/compute.js';
import { commitPeriod } from '../src/runtime/commit.js';
import { sleep } from '../src/runtime/clock.js';
import { waitFor } from './support/procs.js';

let redis: TestRedis;
let pool: ComputePool;
let store: Store;
const procs: SchedulerProc[] = [];

beforeAll(async () => {
  requireBuild();
  redis = await startRedis();
  pool = new ComputePool({ threads: 1 });
});

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await store?.close().catch(() => undefined);
  await pool?.close();
  await redis?.stop();
});

const tracking = (instance: string) => ({
  instance, host: 'test', pid: process.pid, computedAt: Date.now(), computeMs: 0, patternCount: 0,
  totalStake: 0, totalExposure: 0, maxLiability: 0, source: 'scheduler' as const,
});

describe('scheduler pick-up', () => {
  it('completes pending settlements, starts from the current period, keeps stored results', async () => {
    const prefix = testPrefix('pickup');
    const env = {
      FIVED_REDIS_URL: redis.url, FIVED_SEED_KEY: TEST_SEED_KEY, FIVED_KEY_PREFIX: prefix, FIVED_DURATIONS: '2', FIVED_FREEZE_MS: '1000',
      FIVED_LEASE_TTL_MS: '1000', FIVED_POOL_THREADS: '1',
    };
    const cfg = loadConfig(env);
    const room = roomsOf(cfg)[0]!;
    const storeOptions: StoreOptions = { redisUrl: redis.url, keyPrefix: prefix, instance: 'test', seedKey: TEST_SEED_KEY };
    store = createStore(storeOptions);
    await store.init();

    // 1. a period with bets, pre-calculated at its freeze by "an old scheduler" that died before its end
    const now0 = Date.now();
    let w1 = nextWindow(room, windowAt(room, now0));
    if (w1.startsAt - now0 < 300) w1 = nextWindow(room, w1);
    expect((await commitPeriod(store, w1, Date.now())).commitment).not.toBeNull();
    const user = 'u-pickup';
    await store.credit(user, 1_000_000, 'dep-1');
    await sleep(w1.startsAt + 50 - Date.now());
    const acks: BetAck[] = [];
    acks.push(await store.placeBet({ period: w1, userId: user, clientBetId: 'c1', kind: 'A', pick: 'big', amount: 1000 }, cfg.limits, cfg.paytable, Date.now()));
    acks.push(await store.placeBet({ period: w1, userId: user, clientBetId: 'c2', kind: 'SUM', pick: 'odd', amount: 500 }, cfg.limits, cfg.paytable, Date.now()));
    acks.push(await store.placeBet({ period: w1, userId: user, clientBetId: 'c3', kind: 'C', pick: 7, amount: 300 }, cfg.limits, cfg.paytable, Date.now()));
    await sleep(w1.freezeAt - Date.now());
    const out = await computeInPool({ store, pool, cfg, storeOptions }, w1);
    expect(out.betCount).toBe(3);
    await store.storeResult(buildResult(w1, out.draw, out.seed, out.commitment, tracking('old-scheduler')));

    // 2. results already stored for the periods the new scheduler will find current (as a dead
    //    scheduler would have left them); their commitments exist before they open
    const future: string[] = [];
    let fw = nextWindow(room, w1);
    // a loaded machine may reach the next period's start before its commit: begin with one still ahead
    if (fw.startsAt - Date.now() < 300) fw = nextWindow(room, fw);
    for (let i = 0; i < 8; i++, fw = nextWindow(room, fw)) {
      const c = await commitPeriod(store, fw, Date.now());
      const seed = (await store.getSeed(fw))!;
      const d = drawDigits(seed, drawMessage(fw));
      await store.storeResult(buildResult(fw, d, seed, c.commitment!, tracking('old-scheduler')));
      future.push(fw.periodId);
    }

    // 3. nothing runs for a few periods; the settlement of w1 stays pending past its end
    await sleep(w1.endsAt + 2500 - Date.now());
    expect(await store.isSettled(w1)).toBe(false);
    expect((await store.pendingSettlements()).map((p) => p.periodId)).toContain(w1.periodId);

    // 4. one scheduler starts
    const s = spawnScheduler('pickup-s', env);
    procs.push(s);
    const acq = await s.waitFor(isAcquired, 15_000, 'lease acquisition');
    const acquiredAt = Date.parse(acq.time as string);
    const firstStart = await s.waitFor(isStarting, 5000, 'a pre-calculation');
    await sleep(windowOf(room, firstStart.periodId!).endsAt + 2200 - Date.now());

    // the pending settlement was completed, exactly once, with what the rules pay
    expect(await store.isSettled(w1)).toBe(true);
    const r1 = (await store.getResult(w1))!;
    const paid = acks.reduce((a, b) => a + expectedPayout(b, r1.digits, cfg.paytable), 0);
    expect(await store.balance(user)).toBe(1_000_000 - 1800 + paid);
    expect(s.lines.some((l) => l.periodId === w1.periodId && /left unfinished at its end \(applied\)/.test(l.msg))).toBe(true);

    // it picked up from the current period: nothing that ended before it took the lease was computed
    const computed = s.lines.filter(isStarting).map((l) => l.periodId!);
    expect(computed[0]).toBe(windowAt(room, Date.parse(firstStart.time as string)).periodId);
    for (const id of computed) expect(windowOf(room, id).endsAt).toBeGreaterThan(acquiredAt);
    expect(computed.length).toBeGreaterThanOrEqual(2);

    // stored results were never rewritten, and the periods it computed still settled (the last one
    // computed may have ended moments ago: its settlement is awaited, not assumed)
    for (const id of computed) {
      const w = windowOf(room, id);
      const r = (await store.getResult(w))!;
      assertResultVerifies(r);
      if (future.includes(id)) expect(r.tracking.instance).toBe('old-scheduler');
      expect(await waitFor(() => store.isSettled(w), Math.max(0, w.endsAt - Date.now()) + 5000), `${id} settled`).toBe(true);
    }
    expect(computed.filter((id) => future.includes(id)).length).toBeGreaterThanOrEqual(1);
    expect(s.lines.some((l) => /already stored by another instance/.test(l.msg))).toBe(true);
    expect(r1.tracking.instance).toBe('old-scheduler');
    await s.stop();
  });
});
