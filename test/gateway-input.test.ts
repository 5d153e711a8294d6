// Bad input at the edge: coded errors or documented closes, the process stays up, the store is
// unchanged. One gateway on its own Redis.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Packr } from 'msgpackr';
import { createStore } from '../src/store/index.js';
import type { Store } from '../src/store/types.js';
import { startRedis, testPrefix, TEST_SEED_KEY, type TestRedis } from './support/redis.js';
import { Client, credit, gatewayEnv, getJson, operator, startGatewayProc, token, type GatewayProc } from './support/gateway.js';

const ROOM = 'fiveD_3';
let redis: TestRedis;
let gw: GatewayProc;
let store: Store;
const clients: Client[] = [];
const packr = new Packr({ useRecords: false });
const USER = 'input-user';

beforeAll(async () => {
  redis = await startRedis();
  const prefix = testPrefix('gwinput');
  gw = await startGatewayProc(gatewayEnv(redis.url, prefix, { FIVED_MAX_PAYLOAD: '1024', FIVED_RATE_LIMIT: '20', FIVED_ORIGINS: 'http://good.example' }));
  store = createStore({ redisUrl: redis.url, keyPrefix: prefix, seedKey: TEST_SEED_KEY });
  await store.init();
  await credit(gw, USER, 5000);
});

afterAll(async () => {
  for (const c of clients) c.terminate();
  await gw?.stop();
  await store?.close();
  await redis?.stop();
});

async function connect(opts: Parameters<typeof Client.connect>[1] = {}): Promise<Client> {
  const c = await Client.connect(gw.port, { origin: 'http://good.example', ...opts });
  clients.push(c);
  await c.next((m) => m.type === 'hello');
  return c;
}

async function currentPeriod(): Promise<string> {
  const rooms = (await getJson(`${gw.url}/api/rooms`)).body as Array<{ periodId: string }>;
  return rooms[0]!.periodId;
}

async function storeUnchanged(): Promise<void> {
  expect(await store.balance(USER)).toBe(5000);
  expect(await store.userBets(USER)).toEqual([]);
  expect(await store.balance('forged-victim')).toBe(0);
  expect(await store.userBets('forged-victim')).toEqual([]);
}

describe('bad input', () => {
  it('answers malformed and invalid frames with coded errors and changes nothing', async () => {
    const c = await connect({ token: await token(USER) });
    const errAfter = async (send: () => void) => {
      const from = c.received.length;
      send();
      return c.next((m) => m.type === 'error', 5000, from);
    };
    expect((await errAfter(() => c.raw(randomBytes(64), true))).code).toBe('E_MALFORMED');
    const truncated = packr.pack({ type: 'bet', room: ROOM, periodId: '2' }).subarray(0, 10);
    expect((await errAfter(() => c.raw(Buffer.from(truncated), true))).code).toBe('E_MALFORMED');
    expect((await errAfter(() => c.raw('{"type": "bet", ', false))).code).toBe('E_MALFORMED');
    expect((await errAfter(() => c.send([1, 2, 3]))).code).toBe('E_MALFORMED');
    expect((await errAfter(() => c.send({ type: 'launch_missiles' }))).code).toBe('E_UNKNOWN_TYPE');
    expect((await errAfter(() => c.send({ type: 42 }))).code).toBe('E_MALFORMED');
    const periodId = await currentPeriod();
    const bet = { type: 'bet', room: ROOM, periodId, kind: 'A', pick: 3, amount: 100, clientBetId: 'x' };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...bet, amount: '100' }, 'E_INVALID_AMOUNT'],
      [{ ...bet, amount: 1e300 }, 'E_INVALID_AMOUNT'],
      [{ ...bet, amount: 2 ** 64 }, 'E_INVALID_AMOUNT'],
      [{ ...bet, amount: -5 }, 'E_INVALID_AMOUNT'],
      [{ ...bet, amount: 1.5 }, 'E_INVALID_AMOUNT'],
      [{ ...bet, kind: 'F' }, 'E_INVALID_KIND'],
      [{ ...bet, pick: 10 }, 'E_INVALID_PICK'],
      [{ ...bet, kind: 'SUM', pick: 3 }, 'E_INVALID_PICK'],
      [{ ...bet, periodId: Number(periodId) }, 'E_INVALID_PERIOD'],
      [{ ...bet, periodId: '123' }, 'E_INVALID_PERIOD'],
      [{ ...bet, room: 'fiveD_7' }, 'E_INVALID_ROOM'],
      [{ ...bet, room: { $ne: 1 } }, 'E_INVALID_ROOM'],
      [{ ...bet, clientBetId: 'x'.repeat(65) }, 'E_INVALID_ID'],
      [{ ...bet, clientBetId: 7 }, 'E_INVALID_ID'],
      [{ ...bet, userId: 'forged-victim' }, 'E_FORBIDDEN'],
      [{ ...bet, periodId: '20000101000000001' }, 'E_PERIOD_CLOSED'],
      [{ ...bet, periodId: '29991231000000001' }, 'E_PERIOD_NOT_OPEN'],
      [{ type: 'subscribe', rooms: 'fiveD_3' }, 'E_BAD_REQUEST'],
      [{ type: 'subscribe', rooms: ['fiveD_999'] }, 'E_INVALID_ROOM'],
      [{ type: 'my_bets', limit: 1e9 }, 'E_BAD_REQUEST'],
    ];
    for (const [msg, code] of cases) {
      const r = await c.request(msg);
      expect(r.type, JSON.stringify(msg)).toBe('error');
      expect(r.code, JSON.stringify(msg)).toBe(code);
    }
    // still a working connection
    expect((await c.request({ type: 'ping' })).type).toBe('pong');
    await storeUnchanged();
  }, 30_000);

  it('refuses bets without a token, bad tokens, and foreign origins', async () => {
    const anon = await connect();
    const periodId = await currentPeriod();
    const r = await anon.request({ type: 'bet', room: ROOM, periodId, kind: 'A', pick: 3, amount: 100, clientBetId: 'y', userId: USER });
    expect(r.code).toBe('E_FORBIDDEN');
    const r2 = await anon.request({ type: 'bet', room: ROOM, periodId, kind: 'A', pick: 3, amount: 100, clientBetId: 'y' });
    expect(r2.code).toBe('E_UNAUTHORIZED');
    expect((await anon.request({ type: 'balance' })).code).toBe('E_UNAUTHORIZED');
    // a token signed with another secret, an expired one: the upgrade is refused
    const origin = 'http://good.example';
    await expect(Client.connect(gw.port, { origin, token: await token(USER, 3600, 'another-secret-0123456789') })).rejects.toThrow(/401/);
    await expect(Client.connect(gw.port, { origin, token: await token(USER, -10), via: 'query' })).rejects.toThrow(/401/);
    await expect(Client.connect(gw.port, { origin, token: 'not.a.jwt' })).rejects.toThrow(/401/);
    await expect(Client.connect(gw.port, { origin: 'http://evil.example' })).rejects.toThrow(/403/);
    // the token in the query works too, and the protocol `fived` is echoed when offered
    const q = await connect({ token: await token(USER), via: 'query' });
    expect((await q.request({ type: 'balance' })).balance).toBe(5000);
    const p = await connect({ token: await token(USER) });
    expect(p.ws.protocol).toBe('fived');
    // operator API: no token, wrong token
    expect((await getJson(`${gw.url}/api/bets`, { method: 'POST', body: JSON.stringify({ userId: USER }) })).status).toBe(401);
    expect((await getJson(`${gw.url}/api/wallet/credit`, { method: 'POST', headers: { authorization: 'Bearer nope' }, body: '{}' })).status).toBe(401);
    const bad = await getJson(`${gw.url}/api/bets`, operator({ userId: USER, room: ROOM, periodId, kind: 'A', pick: 3, amount: 'lots', clientBetId: 'z' }));
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('E_INVALID_AMOUNT');
    expect((await getJson(`${gw.url}/api/bets`, { ...operator(), body: '{nope' })).body.code).toBe('E_MALFORMED');
    await storeUnchanged();
  }, 30_000);

  it('closes oversized frames (1009), floods of malformed frames (4002) and message floods (4001)', async () => {
    const big = await connect();
    big.raw(Buffer.alloc(4096, 1), true);
    expect(await big.closed).toBe(1009);

    // a text frame that is not UTF-8 is a protocol error: uWS drops the connection (1006 at the client)
    const notUtf8 = await connect();
    notUtf8.raw(Buffer.from([0xff, 0xfe, 0x00]), false);
    expect(await notUtf8.closed).toBe(1006);

    const junk = await connect();
    for (let i = 0; i < 30; i++) junk.raw(randomBytes(16), true);
    expect(await junk.closed).toBe(4002);

    const flood = await connect();
    for (let i = 0; i < 200; i++) flood.send({ type: 'ping' });
    expect(await flood.closed).toBe(4001);
    expect(flood.received.some((r) => r.msg.type === 'error' && r.msg.code === 'E_RATE_LIMITED')).toBe(true);

    // the server is up and serves new clients
    expect((await getJson(`${gw.url}/health`)).status).toBe(200);
    const fresh = await connect();
    expect((await fresh.request({ type: 'ping' })).type).toBe('pong');
    await storeUnchanged();
  }, 30_000);

  it('operator: liability after the freeze only, and void refunds and tells the room', async () => {
    const user = 'op-user';
    await credit(gw, user, 1000);
    const c = await connect({ token: await token(user) });
    c.send({ type: 'subscribe', rooms: [ROOM] });
    const period = await c.next((m) => m.type === 'period', 8000, c.received.length);
    const periodId = period.periodId as string;
    const placed = await getJson(`${gw.url}/api/bets`, operator({ userId: user, room: ROOM, periodId, kind: 'C', pick: 'big', amount: 200, clientBetId: 'op1' }));
    expect(placed.status).toBe(200);
    expect(placed.body.balance).toBe(800);
    const early = await getJson(`${gw.url}/api/rooms/${ROOM}/periods/${periodId}/liability`, operator(undefined, 'GET'));
    expect(early.body.code).toBe('E_TOO_EARLY');
    await c.next((m) => m.type === 'closed' && m.periodId === periodId, 5000);
    const liab = await getJson(`${gw.url}/api/rooms/${ROOM}/periods/${periodId}/liability`, operator(undefined, 'GET'));
    expect(liab.status).toBe(200);
    expect(liab.body.totalStake).toBe(200);
    expect(liab.body.patternTotals).toEqual({ 'C:big': 200 });
    expect(liab.body.maxLiability).toBe(196 * 2);
    const voided = await getJson(`${gw.url}/api/rooms/${ROOM}/periods/${periodId}/void`, operator({ reason: 'operator test' }));
    expect(voided.status).toBe(200);
    expect((await c.next((m) => m.type === 'void' && m.periodId === periodId, 3000)).reason).toBe('operator test');
    expect((await c.request({ type: 'balance' })).balance).toBe(1000);
    // no result is ever published for it, and the API says it is void
    await new Promise((r) => setTimeout(r, Math.max(0, (period.endsAt as number) - Date.now() + 300)));
    expect(c.received.some((r) => r.msg.type === 'result' && r.msg.periodId === periodId)).toBe(false);
    const rec = await getJson(`${gw.url}/api/rooms/${ROOM}/periods/${periodId}`);
    expect(rec.body.void).toBe(true);
    expect(rec.body.result).toBeNull();
  }, 30_000);
});
