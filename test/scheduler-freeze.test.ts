// The freeze snapshot contains exactly the acknowledged bets: many clients (own store connections,
// half of them with clocks 500 ms slow so only the store's frozen flag stops them) place bets
// back to back across the freeze while a `fived scheduler` process freezes and pre-computes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, testPrefix, TEST_SEED_KEY, type TestRedis } from './support/redis.js';
import { expectedPayout, isStored, requireBuild, spawnScheduler, type SchedulerProc } from './support/scheduler.js';
import { loadConfig } from '../src/config.js';
import { createStore } from '../src/store/index.js';
import type { BetAck, Store } from '../src/store/types.js';
import { nextWindow, roomsOf, windowAt } from '../src/runtime/rooms.js';
import { commitPeriod } from '../src/runtime/commit.js';
import { sleep } from '../src/runtime/clock.js';
import { waitFor } from './support/procs.js';
import { isFivedError } from '../src/errors.js';
import { CHANNELS, parseCompleted, type CompletedMessage } from '../src/runtime/bus.js';

let redis: TestRedis;
const stores: Store[] = [];
const procs: SchedulerProc[] = [];

beforeAll(async () => {
  requireBuild();
  redis = await startRedis();
});

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  for (const s of stores) await s.close().catch(() => undefined);
  await redis?.stop();
});

describe('freeze snapshot', () => {
  it('contains exactly the acknowledged bets when bets race the freeze', async () => {
    const prefix = testPrefix('freeze');
    const env = {
      FIVED_REDIS_URL: redis.url, FIVED_SEED_KEY: TEST_SEED_KEY, FIVED_KEY_PREFIX: prefix, FIVED_DURATIONS: '3', FIVED_FREEZE_MS: '1000',
      FIVED_LEASE_TTL_MS: '1000', FIVED_POOL_THREADS: '1', FIVED_MAX_BETS_PER_PERIOD: '0', // racers place well over 100 bets each
    };
    const cfg = loadConfig(env);
    const room = roomsOf(cfg)[0]!;
    const clients = 8;
    for (let i = 0; i < clients; i++) {
      const s = createStore({ redisUrl: redis.url, keyPrefix: prefix, instance: `client-${i}`, seedKey: TEST_SEED_KEY });
      await s.init();
      stores.push(s);
    }
    const main = stores[0]!;
    const completed: CompletedMessage[] = [];
    await main.subscribe(CHANNELS.completed, (_c, m) => { const c = parseCompleted(m); if (c) completed.push(c); });

    const sched = spawnScheduler('freeze-s', env);
    procs.push(sched);
    await sched.waitFor(isStored, 15_000, 'a first pre-calculation');

    let w = nextWindow(room, windowAt(room, Date.now()));
    if (w.startsAt - Date.now() < 500) w = nextWindow(room, w);
    await commitPeriod(main, w, Date.now()); // the scheduler commits it too; whichever comes first
    const credit = 100_000_000;
    for (let i = 0; i < clients * 2; i++) await main.credit(`racer-${i}`, credit, `dep-${i}`);

    await sleep(w.freezeAt - 400 - Date.now());
    const acks: BetAck[] = [];
    const refused: string[] = [];
    const stopAt = w.freezeAt + 300;
    // 16 clients: two loops on each of the 8 connections; odd clients have a slow clock
    await Promise.all(Array.from({ length: clients * 2 }, async (_, c) => {
      const s = stores[c % clients]!;
      const skew = c % 2 === 1 ? -500 : 0;
      for (let n = 0; Date.now() < stopAt; n++) {
        try {
          const ack = await s.placeBet(
            { period: w, userId: `racer-${c}`, clientBetId: `r${n}`, kind: 'SUM', pick: n % 2 ? 'big' : 'odd', amount: 100 + ((n * 13 + c) % 900) },
            cfg.limits, cfg.paytable, Date.now() + skew,
          );
          acks.push(ack);
        } catch (err) {
          if (!isFivedError(err)) throw err;
          refused.push(err.code);
        }
      }
    }));
    // the race happened: bets were accepted before and refused after the freeze
    expect(acks.length).toBeGreaterThan(50);
    expect(refused.length).toBeGreaterThan(0);
    expect(new Set(refused)).toEqual(new Set(['E_PERIOD_FROZEN']));

    await sleep(w.endsAt + 800 - Date.now());
    // the completion notice and the settlement follow the end: awaited (bounded), not assumed within 800 ms
    await waitFor(async () => completed.some((c) => c.periodId === w.periodId) && await main.isSettled(w), 5000);
    const notice = completed.find((c) => c.periodId === w.periodId);
    expect(notice, 'completion notice').toBeDefined();
    const r = (await main.getResult(w))!;
    expect(r.tracking.instance).toBe('freeze-s');
    // exactly the acknowledged bets: count and stake
    expect(r.tracking.betCount).toBe(acks.length);
    expect(r.tracking.totalStake).toBe(acks.reduce((a, b) => a + b.amount, 0));
    expect(notice!.tracking.betCount).toBe(acks.length);
    expect(new Set(acks.map((a) => a.seq)).size).toBe(acks.length);
    expect(Math.max(...acks.map((a) => a.seq))).toBe(acks.length - 1);

    // and each of them was settled once, by the rules: every racer's balance adds up
    expect(await main.isSettled(w)).toBe(true);
    for (let c = 0; c < clients * 2; c++) {
      const mine = acks.filter((a) => a.userId === `racer-${c}`);
      const expected = credit + mine.reduce((a, b) => a + expectedPayout(b, r.digits, cfg.paytable) - b.amount, 0);
      expect(await main.balance(`racer-${c}`)).toBe(expected);
    }
    await sched.stop();
  });
});
