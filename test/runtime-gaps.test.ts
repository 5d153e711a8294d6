// The gap sweep (issue 13): periods that ended while the store refused writes — nothing stored, or
// only a commitment — are voided or finished once, on both stores; nothing that has not ended is
// touched, and a second pass changes nothing. (The Sentinel chaos run with one replica found such
// periods: docs/reliability.md, "Known issues".)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/store/memory.js';
import { RedisStore } from '../src/store/redis.js';
import type { Store, StoreOptions } from '../src/store/types.js';
import { GAP_VOID_REASON, GapSweep } from '../src/runtime/gaps.js';
import { fixedRooms } from '../src/runtime/commit.js';
import { nextWindow, roomsOf, windowAt } from '../src/runtime/rooms.js';
import { assertResultVerifies } from '../src/runtime/compute.js';
import { ComputePool } from '../src/worker/pool.js';
import { PAY, seedOf } from './support/store-harness.js';
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

const factories: Array<[string, () => Promise<{ store: Store; storeOptions: StoreOptions }>]> = [
  ['MemoryStore', async () => { const s = new MemoryStore({}); await s.init(); opened.push(s); return { store: s, storeOptions: {} }; }],
  ['RedisStore', async () => {
    const storeOptions = { redisUrl: redis.url, keyPrefix: testPrefix('gaps'), instance: 'test', seedKey: TEST_SEED_KEY };
    const s = new RedisStore(storeOptions);
    await s.init();
    opened.push(s);
    return { store: s, storeOptions };
  }],
];

const rooms = roomsOf({ durations: [1], freezeMs: 200, dayStart: { minutes: 0, offsetMinutes: 0 }, timeline: 'default' });
const who = { instance: 'gap-sweep', host: 'h', pid: 1, source: 'scheduler' as const };
const failOnError = (w: PeriodWindow, err: unknown) => { throw new Error(`gap of ${w.periodId}: ${String(err)}`); };

describe.each(factories)('gap sweep: %s', (_name, make) => {
  it('voids the ended periods with nothing stored, finishes the one with only a commitment, once', async () => {
    const { store, storeOptions } = await make();
    const deps = { store, pool, cfg: { paytable: PAY }, storeOptions };
    const now = Date.now();
    const sweep = new GapSweep(fixedRooms(rooms), now - 5000);
    // the periods after the watermark that have ended by now
    const ended: PeriodWindow[] = [];
    for (let w = nextWindow(rooms[0]!, windowAt(rooms[0]!, now - 5001)); w.endsAt <= now; w = nextWindow(rooms[0]!, w)) ended.push(w);
    expect(ended.length).toBeGreaterThanOrEqual(4);
    const committed = ended[1]!;
    await store.commit(committed, seedOf(3), committed.startsAt - 1); // its commitment made it; nothing else did
    const current = windowAt(rooms[0]!, now);

    const filled = await sweep.sweep(deps, { now, endedBy: now, who }, failOnError);
    expect(filled.map((w) => w.periodId)).toEqual(ended.map((w) => w.periodId));
    for (const w of ended) {
      const rec = await store.getPeriod(w);
      if (w === committed) {
        expect(rec.status).toBe('settled');
        assertResultVerifies(rec.result!);
      } else {
        expect(rec.status).toBe('void');
        expect(rec.voidReason).toBe(GAP_VOID_REASON);
      }
    }
    // what has not ended is not touched (rule 4), and a second pass changes nothing
    expect((await store.getPeriod(current)).status).toBe('unknown');
    expect(await sweep.sweep(deps, { now, endedBy: now, who }, failOnError)).toEqual([]);
  });
});
