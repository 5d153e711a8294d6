// Issue 12 row 10: a stored result that does not verify against the commitment was refused on the
// WebSocket path (the period then stayed stuck: no result, no void) but served over HTTP. Now no
// path serves it, and the period is voided with refunds, logged 5D_RESULT_MISMATCH and counted.
// The bad result is written straight into a real Redis, under the runbook key, as a broken or
// malicious writer would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drawDigits, drawMessage } from '../src/core/draw.js';
import { encode } from '../src/store/codec.js';
import { runbookName } from '../src/store/keys.js';
import { RedisStore } from '../src/store/redis.js';
import type { StoredResult } from '../src/store/types.js';
import { startRedis, testPrefix, type TestRedis } from './support/redis.js';
import { Client, credit, gatewayEnv, getJson, startGatewayProc, token, type GatewayProc, type JsonBody } from './support/gateway.js';

const ROOM = 'fiveD_3';
let redis: TestRedis;
let gw: GatewayProc;
let store: RedisStore;
let prefix: string;
const clients: Client[] = [];

beforeAll(async () => {
  redis = await startRedis();
  prefix = testPrefix('mismatch');
  // no scheduler: the gateway's own end-of-period path meets the bad result
  gw = await startGatewayProc(gatewayEnv(redis.url, prefix));
  store = new RedisStore({ redisUrl: redis.url, keyPrefix: prefix });
  await store.init();
}, 30_000);

afterAll(async () => {
  for (const c of clients) c.terminate();
  await gw?.stop();
  await store?.close();
  await redis?.stop();
});

describe('a stored result that does not verify (row 10)', () => {
  it('is served nowhere; the period is voided with refunds, logged and counted', async () => {
    const user = 'mm-bettor';
    await credit(gw, user, 1000);
    const c = await Client.connect(gw.port, { token: await token(user), format: 'text' });
    clients.push(c);
    await c.next((m) => m.type === 'hello');
    c.send({ type: 'subscribe', rooms: [ROOM] });
    const period = await c.next((m) => m.type === 'period', 8000);
    const periodId = period.periodId as string;
    const endsAt = period.endsAt as number;
    const ack = await c.request({ type: 'bet', room: ROOM, periodId, kind: 'A', pick: 4, amount: 100, clientBetId: 'mm1' });
    expect(ack.type, JSON.stringify(ack)).toBe('bet_ack');

    // a result under the period's commitment, whose seed does not open it (digits of another seed)
    const ref = { duration: 3, timeline: 'default', periodId };
    const commitment = await store.getCommitment(ref);
    expect(commitment).toMatch(/^[0-9a-f]{64}$/);
    const fake = 'e1'.repeat(32);
    const d = drawDigits(fake, drawMessage(ref));
    const bad: StoredResult = {
      ...ref, digits: d.digits, sum: d.sum, seed: fake, commitment: commitment!,
      tracking: { instance: 'intruder', host: 'h', pid: 1, computedAt: Date.now(), computeMs: 0, patternCount: 0, totalStake: 0, totalExposure: 0, maxLiability: 0, source: 'scheduler' },
    };
    await store.client.set(prefix + runbookName(ref), encode(bad), 'EX', 3600);

    // from the end on, the HTTP lookup never shows the bad digits or seed, and turns void
    const lookups: Array<{ at: number; body: JsonBody }> = [];
    await new Promise((r) => setTimeout(r, Math.max(0, endsAt - Date.now())));
    while (Date.now() < endsAt + 3000) {
      const r = await getJson(`${gw.url}/api/rooms/${ROOM}/periods/${periodId}`);
      expect(r.status).toBe(200);
      lookups.push({ at: Date.now(), body: r.body });
      if (r.body.void === true) break;
      await new Promise((res) => setTimeout(res, 25));
    }
    for (const l of lookups) {
      expect(l.body.result, 'the bad result was served over HTTP').toBeNull();
      expect(JSON.stringify(l.body)).not.toContain(fake);
    }
    expect(lookups.at(-1)!.body).toMatchObject({ void: true, status: 'void', result: null });
    expect(lookups.at(-1)!.body.voidReason).toMatch(/does not verify/);

    // the WebSocket path: a void, never a result; the stake comes back
    const v = await c.next((m) => m.type === 'void' && m.periodId === periodId, 8000);
    expect(v.reason).toMatch(/does not verify/);
    expect(c.received.some((r) => r.msg.type === 'result' && r.msg.periodId === periodId)).toBe(false);
    expect((await c.request({ type: 'balance' })).balance).toBe(1000);
    const mine = await c.request({ type: 'my_bets', room: ROOM, periodId });
    expect(mine.bets).toEqual([expect.objectContaining({ clientBetId: 'mm1', state: 'refunded', payout: 100 })]);
    // nothing left owed, no history entry, the result moved aside
    expect(await store.getResult(ref)).toBeNull();
    expect((await store.getPeriod(ref)).status).toBe('void');
    expect(await store.unfinishedPeriods(Date.now(), 10)).toEqual([]);
    expect((await store.history(3, 'default', { limit: 20 })).map((h) => h.periodId)).not.toContain(periodId);
    const history = await getJson(`${gw.url}/api/rooms/${ROOM}/periods?limit=20`);
    expect(JSON.stringify(history.body)).not.toContain(fake);
    // logged with its tag, counted
    expect(gw.output().split('\n').some((l) => l.includes('5D_RESULT_MISMATCH') && l.includes(periodId) && l.includes('"level":"error"'))).toBe(true);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(Number(/^fived_gateway_result_mismatch_total (\d+)$/m.exec(metrics)?.[1] ?? 0)).toBeGreaterThanOrEqual(1);
  }, 40_000);
});
