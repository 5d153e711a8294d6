// Issue 14, items 1 and 2 at the edges: POST /api/wallet/debit and GET /api/wallet/:userId/ledger
// (operator), the WebSocket `ledger` request (own entries only), and `fived debit` / `fived
// reconcile` as operators run them (the built CLI, dist/). One gateway on a Redis of this
// file's own.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../src/store/redis.js';
import { startRedis, testPrefix, TEST_SEED_KEY, type TestRedis } from './support/redis.js';
import { runFived } from './support/deploy.js';
import { Client, REPO, credit, gatewayEnv, getJson, operator, startGatewayProc, token, type GatewayProc } from './support/gateway.js';

let redis: TestRedis;
let gw: GatewayProc;
let store: RedisStore;
let prefix: string;
const clients: Client[] = [];

beforeAll(async () => {
  if (!existsSync(path.join(REPO, 'dist', 'commands', 'debit.js'))) throw new Error('dist/ is missing: run npm run build first');
  redis = await startRedis();
  prefix = testPrefix('ledger');
  gw = await startGatewayProc(gatewayEnv(redis.url, prefix));
  store = new RedisStore({ redisUrl: redis.url, keyPrefix: prefix, instance: 'ledger-test', light: true, seedKey: TEST_SEED_KEY });
  await store.init();
}, 30_000);

afterAll(async () => {
  for (const c of clients) c.terminate();
  await gw?.stop();
  await store?.close();
  await redis?.stop();
});

const debit = (body: unknown) => getJson(`${gw.url}/api/wallet/debit`, operator(body));
const ledger = (user: string, query = '') => getJson(`${gw.url}/api/wallet/${encodeURIComponent(user)}/ledger${query}`, operator(undefined, 'GET'));

describe('POST /api/wallet/debit', () => {
  it('debits once by withdrawalId (the first answer again), refuses a conflict and insufficient funds', async () => {
    await credit(gw, 'api-w', 1000);
    const first = await debit({ userId: 'api-w', amount: 400, withdrawalId: 'wd-api-1' });
    expect(first).toEqual({ status: 200, body: { userId: 'api-w', balance: 600, duplicate: false } });
    await credit(gw, 'api-w', 5);
    expect((await debit({ userId: 'api-w', amount: 400, withdrawalId: 'wd-api-1' })).body).toEqual({ userId: 'api-w', balance: 600, duplicate: true });
    const conflict = await debit({ userId: 'api-w', amount: 401, withdrawalId: 'wd-api-1' });
    expect(conflict.status).toBe(409);
    expect(conflict.body.code).toBe('E_DUPLICATE_CONFLICT');
    const poor = await debit({ userId: 'api-w', amount: 606, withdrawalId: 'wd-api-2' });
    expect(poor.body.code).toBe('E_INSUFFICIENT_FUNDS');
    expect(await store.balance('api-w')).toBe(605);
  });

  it('bad input gets a coded error and changes nothing; no operator token, no debit', async () => {
    await credit(gw, 'api-bad', 100);
    const cases: Array<[unknown, string]> = [
      [{ userId: 'api-bad', amount: 0, withdrawalId: 'x1' }, 'E_INVALID_AMOUNT'],
      [{ userId: 'api-bad', amount: '5', withdrawalId: 'x1' }, 'E_INVALID_AMOUNT'],
      [{ userId: 'api-bad', amount: 1.5, withdrawalId: 'x1' }, 'E_INVALID_AMOUNT'],
      [{ userId: 'api-bad', amount: 5 }, 'E_INVALID_ID'],
      [{ userId: 'api-bad', amount: 5, withdrawalId: 'bad id' }, 'E_INVALID_ID'],
      [{ userId: 'a b', amount: 5, withdrawalId: 'x1' }, 'E_INVALID_ID'],
      [{ amount: 5, withdrawalId: 'x1' }, 'E_INVALID_ID'],
    ];
    for (const [body, code] of cases) {
      const r = await debit(body);
      expect(r.body.code, JSON.stringify(body)).toBe(code);
    }
    const anon = await getJson(`${gw.url}/api/wallet/debit`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'api-bad', amount: 5, withdrawalId: 'x2' }) });
    expect(anon.status).toBe(401);
    expect((await getJson(`${gw.url}/api/wallet/debit`)).status).toBe(405);
    expect(await store.balance('api-bad')).toBe(100);
    expect((await store.ledgerPage('api-bad', null, 10)).entries.map((e) => e.kind)).toEqual(['deposit']);
  });
});

describe('GET /api/wallet/:userId/ledger', () => {
  it('pages newest first with before/next; validates the query; operators only', async () => {
    for (let i = 1; i <= 5; i++) await credit(gw, 'api-l', i * 10);
    await debit({ userId: 'api-l', amount: 15, withdrawalId: 'wd-api-l' });
    const p1 = await ledger('api-l', '?limit=4');
    expect(p1.status).toBe(200);
    expect(p1.body.entries.map((e: { kind: string; amount: number }) => [e.kind, e.amount])).toEqual([['withdrawal', -15], ['deposit', 50], ['deposit', 40], ['deposit', 30]]);
    expect(p1.body.entries[0]).toMatchObject({ userId: 'api-l', balance: 135, ref: 'wd-api-l' });
    expect(p1.body.next).toBe(p1.body.entries[3].entryId);
    const p2 = await ledger('api-l', `?limit=4&before=${p1.body.next}`);
    expect(p2.body.entries.map((e: { amount: number }) => e.amount)).toEqual([20, 10]);
    expect(p2.body.next).toBeNull();
    expect((await ledger('api-l')).body.entries).toHaveLength(6); // default limit 50
    expect((await ledger('api-nobody')).body).toEqual({ entries: [], next: null });
    for (const q of ['?limit=0', '?limit=1001', '?limit=x', '?limit=1.5', '?before=12', '?before=abcdefghijklmnop', '?cursor=1']) {
      const r = await ledger('api-l', q);
      expect(r.status, q).toBe(400);
      expect(r.body.code, q).toBe('E_BAD_REQUEST');
    }
    expect((await ledger('a{b')).body.code).toBe('E_INVALID_ID');
    const anon = await getJson(`${gw.url}/api/wallet/api-l/ledger`);
    expect(anon.status).toBe(401);
  });
});

describe('WebSocket `ledger`', () => {
  it("a player gets their own entries only, newest first, paged; bad requests are coded errors", async () => {
    await credit(gw, 'ws-a', 300);
    await credit(gw, 'ws-b', 700);
    await debit({ userId: 'ws-a', amount: 100, withdrawalId: 'wd-ws-a' });
    const c = await Client.connect(gw.port, { token: await token('ws-a'), format: 'text' });
    clients.push(c);
    await c.next((m) => m.type === 'hello');
    const r = await c.request({ type: 'ledger' });
    expect(r.type).toBe('ledger');
    expect((r.entries as Array<{ userId: string; kind: string; balance: number }>).map((e) => [e.userId, e.kind, e.balance])).toEqual([['ws-a', 'withdrawal', 200], ['ws-a', 'deposit', 300]]);
    const page = await c.request({ type: 'ledger', limit: 1 });
    expect(page.entries).toHaveLength(1);
    const rest = await c.request({ type: 'ledger', limit: 1, before: page.next });
    expect((rest.entries as Array<{ kind: string }>)[0]!.kind).toBe('deposit');
    for (const bad of [{ limit: 0 }, { limit: 101 }, { before: '1' }, { before: 5 }]) {
      const e = await c.request({ type: 'ledger', ...bad });
      expect(e.type, JSON.stringify(bad)).toBe('error');
      expect(e.code).toBe('E_BAD_REQUEST');
    }
    // a userId in the request is not a way to read someone else's ledger
    const other = await c.request({ type: 'ledger', userId: 'ws-b' });
    expect((other.entries as Array<{ userId: string }>).every((e) => e.userId === 'ws-a')).toBe(true);
    const anon = await Client.connect(gw.port, { format: 'text' });
    clients.push(anon);
    await anon.next((m) => m.type === 'hello');
    expect((await anon.request({ type: 'ledger' })).code).toBe('E_UNAUTHORIZED');
  });
});

describe('fived debit and fived reconcile', () => {
  it('`fived debit` debits once by --id, is strict about its arguments, and reconcile agrees', async () => {
    const env = { FIVED_REDIS_URL: redis.url, FIVED_KEY_PREFIX: prefix };
    await credit(gw, 'cli-d', 500);
    const first = await runFived(['debit', 'cli-d', '200', '--id', 'wd-cli-1'], env);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ user: 'cli-d', amount: 200, withdrawalId: 'wd-cli-1', balance: 300, duplicate: false });
    expect(JSON.parse((await runFived(['debit', 'cli-d', '200', '--id=wd-cli-1'], env)).stdout)).toMatchObject({ balance: 300, duplicate: true });
    const poor = await runFived(['debit', 'cli-d', '301', '--id', 'wd-cli-2'], env);
    expect(poor.code).toBe(1);
    expect(poor.stderr).toMatch(/E_INSUFFICIENT_FUNDS/);
    const cases: Array<[string[], RegExp]> = [
      [['debit', 'cli-d', '5'], /--id is required/],
      [['debit', 'cli-d', '0', '--id', 'd'], /AMOUNT "0" must be a positive integer/],
      [['debit', 'cli-d', '5', '--ID', 'd'], /unknown option --ID/],
      [['debit', 'cli-d', '5', 'extra', '--id', 'd'], /unexpected argument "extra"/],
    ];
    for (const [args, re] of cases) {
      const r = await runFived(args, env);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(re);
    }
    expect(await store.balance('cli-d')).toBe(300);
    const ok = await runFived(['reconcile', '--complete'], env);
    expect(ok.code, ok.stderr + ok.stdout).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, problems: [] });
    expect(JSON.parse(ok.stdout).users).toBeGreaterThan(5);
  });

  it('`fived reconcile` exits 1 with the user and the amounts when a balance moved outside the ledger', async () => {
    const env = { FIVED_REDIS_URL: redis.url, FIVED_KEY_PREFIX: prefix };
    await credit(gw, 'cli-r', 100);
    await store.client.hincrby(store.keys.balances, 'cli-r', 7); // a hand edit: no entry
    const r = await runFived(['reconcile', 'cli-r'], env);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).problems).toEqual(['cli-r: the entries add up to 100, the balance is 107']);
    expect(r.stderr).toMatch(/ledger does not reconcile: 1 problem/);
    expect((await runFived(['reconcile', '--strict'], env)).code).toBe(2);
    await store.client.hincrby(store.keys.balances, 'cli-r', -7);
  });
});
