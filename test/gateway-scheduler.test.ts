// With the scheduler running: it pre-computes at the freeze, the gateway holds the announced result
// and publishes it at the end (no fallback), and tells its bettors their outcomes when the
// scheduler's settlement is applied. The result is the first frame of its boundary.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../src/store/index.js';
import type { Store } from '../src/store/types.js';
import { startRedis, testPrefix, TEST_SEED_KEY, type TestRedis } from './support/redis.js';
import { isAcquired, spawnScheduler, type SchedulerProc } from './support/scheduler.js';
import { Client, credit, gatewayEnv, startGatewayProc, token, type GatewayProc } from './support/gateway.js';

const ROOM = 'fiveD_3';
let redis: TestRedis;
let gw: GatewayProc;
let sched: SchedulerProc;
let store: Store;
let client: Client | null = null;

beforeAll(async () => {
  redis = await startRedis();
  const prefix = testPrefix('gwsched');
  const env = gatewayEnv(redis.url, prefix);
  sched = spawnScheduler('sched-gw-test', env);
  await sched.waitFor(isAcquired, 15_000, 'the lease');
  gw = await startGatewayProc(env);
  store = createStore({ redisUrl: redis.url, keyPrefix: prefix, seedKey: TEST_SEED_KEY });
  await store.init();
});

afterAll(async () => {
  client?.terminate();
  await gw?.stop();
  await sched?.stop();
  await store?.close();
  await redis?.stop();
});

describe('gateway with the scheduler', () => {
  it('publishes the held scheduler result at the end and relays the settlement to the bettor', async () => {
    const user = 'sched-bettor';
    await credit(gw, user, 1000);
    client = await Client.connect(gw.port, { token: await token(user), format: 'text' });
    await client.next((m) => m.type === 'hello');
    client.send({ type: 'subscribe', rooms: [ROOM] });
    const period = await client.next((m) => m.type === 'period', 8000);
    const periodId = period.periodId as string;
    const ack = await client.request({ type: 'bet', room: ROOM, periodId, kind: 'B', pick: 'odd', amount: 50, clientBetId: 's1' });
    expect(ack.type).toBe('bet_ack');
    const result = await client.next((m) => m.type === 'result' && m.periodId === periodId, 8000);
    const at = client.received.find((r) => r.msg === result)!.at;
    expect(at).toBeGreaterThanOrEqual(period.endsAt as number);
    const stored = await store.getResult({ duration: 3, timeline: 'default', periodId });
    expect(stored?.tracking.source).toBe('scheduler');
    expect(stored?.digits).toEqual(result.digits);
    // results first: the held result goes out ahead of the next period's tick and announcement
    // (one write per socket at the boundary, src/gateway/timing.ts)
    const tick = await client.next((m) => m.type === 'tick' && m.now === period.endsAt, 3000);
    const next = await client.next((m) => m.type === 'period' && m.startsAt === period.endsAt, 3000);
    const order = client.received.map((r) => r.msg);
    expect(order.indexOf(tick)).toBeGreaterThan(order.indexOf(result));
    expect(order.indexOf(next)).toBeGreaterThan(order.indexOf(result));
    // held, not derived: no fallback line for this period
    expect(gw.output().split('\n').some((l) => l.includes('5D_FALLBACK') && l.includes(periodId))).toBe(false);
    const settled = await client.next((m) => m.type === 'settled' && m.periodId === periodId, 10_000);
    expect(client.received.find((r) => r.msg === settled)!.at).toBeGreaterThanOrEqual(period.endsAt as number);
    const bets = settled.bets as Array<{ state: string; payout: number }>;
    expect(bets).toHaveLength(1);
    expect(['won', 'lost']).toContain(bets[0]!.state);
    expect(settled.balance).toBe(950 + bets[0]!.payout);
  }, 40_000);
});
