// Issue 12, rows 6, 7, 8 and the operator half of 12: tokens (exp required and bounded, expiry
// closes a silent socket), demo mode without a secret, limits per client address and per user,
// and the operator token (length, constant-time compare, throttled failures). One gateway on its
// own Redis with low limits; config rules checked through loadConfig and the real CLI.
import { spawnSync } from 'node:child_process';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.js';
import { ErrorCode } from '../src/errors.js';
import { operatorAllowed } from '../src/gateway/auth.js';
import { ClientAddress, ExpiryWheel, normalize } from '../src/gateway/limits.js';
import { CloseCode } from '../src/protocol.js';
import { CLI_BIN } from './support/fived.js';
import { startRedis, testPrefix, type TestRedis } from './support/redis.js';
import { Client, JWT_SECRET, OPERATOR_TOKEN, credit, gatewayEnv, getJson, startGatewayProc, token, type GatewayProc } from './support/gateway.js';

const KEY = new TextEncoder().encode(JWT_SECRET);
const nowS = () => Math.floor(Date.now() / 1000);
const LIMITS = {
  FIVED_MAX_CONNS_PER_IP: '30',
  FIVED_MAX_SOCKETS_PER_USER: '5',
  FIVED_USER_BET_RATE: '5',
  FIVED_HTTP_RATE_PER_IP: '10',
  FIVED_MAX_TOKEN_AGE_S: '3600',
  FIVED_DEMO: 'true',
  FIVED_DEMO_SESSIONS_PER_IP: '3',
};

/** Opens a socket; resolves with the HTTP status of a refused upgrade (and its body) or the open socket. */
function tryConnect(port: number, o: { token?: string; via?: 'protocol' | 'query'; headers?: Record<string, string> } = {}): Promise<{ ws: WebSocket | null; status: number; body: string }> {
  const q = o.token && o.via === 'query' ? `?token=${encodeURIComponent(o.token)}` : '';
  const protocols = o.token && o.via !== 'query' ? ['fived', `fived.jwt.${o.token}`] : ['fived'];
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws${q}`, protocols, { headers: o.headers ?? {} });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, status: 101, body: '' }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ ws: null, status: res.statusCode ?? 0, body }));
    });
    ws.once('error', (err) => reject(err));
  });
}

/** Closes with a close handshake: once 'close' fires here, the gateway has run its close handler. */
const closeAll = async (list: Array<WebSocket | null>) => {
  await Promise.all(list.filter((w): w is WebSocket => w !== null).map((w) => new Promise<void>((resolve) => {
    if (w.readyState === WebSocket.CLOSED) return resolve();
    const t = setTimeout(() => w.terminate(), 5000);
    w.once('close', () => { clearTimeout(t); resolve(); });
    w.close();
  })));
};

describe('configuration (rows 6, 7, 12)', () => {
  const base = { FIVED_JWT_SECRET: 'x'.repeat(20) };
  it('FIVED_DEMO=true without an explicit FIVED_JWT_SECRET is refused, also with a Redis URL', () => {
    for (const env of [{ FIVED_DEMO: 'true' }, { FIVED_DEMO: 'true', FIVED_REDIS_URL: 'redis://127.0.0.1:6390' }]) {
      expect(() => loadConfig(env)).toThrow(/FIVED_DEMO=true needs an explicit FIVED_JWT_SECRET/);
    }
    expect(loadConfig({ FIVED_DEMO: 'true', ...base }).jwtSecret).toBe(base.FIVED_JWT_SECRET);
    expect(loadConfig({}).jwtSecret).toBe(''); // no demo, no secret: watching only
  });

  it('a short operator token is refused at config; 32 characters are enough', () => {
    expect(() => loadConfig({ FIVED_OPERATOR_TOKEN: 'operator-test-token' })).toThrow(/FIVED_OPERATOR_TOKEN: use at least 32 characters/);
    expect(loadConfig({ FIVED_OPERATOR_TOKEN: 'o'.repeat(32) }).operatorToken).toBe('o'.repeat(32));
    expect(loadConfig({}).operatorToken).toBe(''); // off
  });

  it('has defaults a platform behind carrier NAT can live with, and refuses bad trusted proxies', () => {
    const c = loadConfig({});
    expect(c.maxConnsPerIp).toBeGreaterThan(0);
    expect(c.maxConnsPerIp).toBeLessThan(2000); // 2,000 sockets from one address are not all accepted
    expect(c.httpRatePerIp).toBeGreaterThan(0);
    expect(c.maxSocketsPerUser).toBe(5);
    expect(c.userBetRatePerS).toBeGreaterThan(0);
    expect(c.limits.maxBetsPerUserPerPeriod).toBe(100);
    expect(c.maxTokenAgeS).toBe(86_400);
    expect(c.operatorFailuresPerMin).toBe(10);
    expect(c.trustedProxies).toEqual(['127.0.0.1', '::1']);
    expect(loadConfig({ FIVED_TRUSTED_PROXIES: '10.0.0.0/8, fd00::/8' }).trustedProxies).toEqual(['10.0.0.0/8', 'fd00::/8']);
    expect(() => loadConfig({ FIVED_TRUSTED_PROXIES: 'haproxy.local' })).toThrow(/FIVED_TRUSTED_PROXIES/);
    expect(() => loadConfig({ FIVED_TRUSTED_PROXIES: '10.0.0.0/33' })).toThrow(/FIVED_TRUSTED_PROXIES/);
  });

  it('`fived check-config` says so and `fived all` refuses to start in demo mode without a secret', () => {
    const bin = CLI_BIN;
    const env = { PATH: process.env.PATH ?? '', FIVED_DEMO: 'true', FIVED_PORT: '0', FIVED_LOG_LEVEL: 'warn' };
    const check = spawnSync(process.execPath, [bin, 'check-config'], { env, encoding: 'utf8', timeout: 20_000 });
    expect(check.status).toBe(1);
    expect(JSON.parse(check.stdout).problems.join('\n')).toMatch(/FIVED_DEMO=true needs an explicit FIVED_JWT_SECRET/);
    const all = spawnSync(process.execPath, [bin, 'all'], { env, encoding: 'utf8', timeout: 20_000 });
    expect(all.status).not.toBe(0);
    expect(all.status).not.toBeNull(); // it exited on its own, it did not run until the timeout
    expect(all.stdout + all.stderr).toMatch(/FIVED_JWT_SECRET/);
  });

  it('compares the operator token in constant time over digests (any length, no early exit)', () => {
    const t = 'k'.repeat(40);
    expect(operatorAllowed(`Bearer ${t}`, t)).toBe(true);
    expect(operatorAllowed(`Bearer ${t}x`, t)).toBe(false);
    expect(operatorAllowed('Bearer k', t)).toBe(false);
    expect(operatorAllowed('', t)).toBe(false);
    expect(operatorAllowed('Bearer ', '')).toBe(false); // disabled
  });
});

describe('client address and expiry buckets (units)', () => {
  it('takes X-Forwarded-For only from a trusted proxy, and its last entry', () => {
    const a = new ClientAddress(['127.0.0.1', '::1', '10.1.0.0/16']);
    expect(a.resolve('127.0.0.1', '')).toBe('127.0.0.1');
    expect(a.resolve('127.0.0.1', '203.0.113.9')).toBe('203.0.113.9');
    expect(a.resolve('10.1.2.3', '6.6.6.6, 203.0.113.9')).toBe('203.0.113.9'); // the client's own entry is ignored
    expect(a.resolve('198.51.100.1', '203.0.113.9')).toBe('198.51.100.1'); // not a proxy: the header is the client's word
    expect(a.resolve('127.0.0.1', 'garbage')).toBe('127.0.0.1');
    expect(normalize('0000:0000:0000:0000:0000:ffff:7f00:0001')).toBe('127.0.0.1');
    expect(normalize('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(new ClientAddress([]).resolve('127.0.0.1', '203.0.113.9')).toBe('127.0.0.1');
  });

  it('hands over what is due by the second, and nothing removed', () => {
    const w = new ExpiryWheel<string>(10_000);
    w.add('a', 11_000);
    w.add('b', 11_500);
    w.add('c', 13_000);
    w.add('gone', 11_000);
    w.remove('gone');
    expect(w.due(10_999)).toEqual([]);
    expect(w.due(11_000)).toEqual(['a']);
    expect(w.due(12_000)).toEqual(['b']);
    expect(w.due(60_000)).toEqual(['c']);
    expect(w.size).toBe(0);
  });
});

describe('a gateway with limits', () => {
  let redis: TestRedis;
  let gw: GatewayProc;

  beforeAll(async () => {
    redis = await startRedis();
    gw = await startGatewayProc(gatewayEnv(redis.url, testPrefix('gwlimits'), LIMITS));
  });

  afterAll(async () => {
    await gw?.stop();
    await redis?.stop();
  });

  it('refuses a token without exp at the upgrade (401), by protocol and by query (row 8)', async () => {
    const noExp = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('no-exp').setIssuedAt().sign(KEY);
    for (const via of ['protocol', 'query'] as const) {
      const r = await tryConnect(gw.port, { token: noExp, via });
      expect(r.status, via).toBe(401);
      expect(JSON.parse(r.body).code).toBe(ErrorCode.UNAUTHORIZED);
      expect(r.body).toMatch(/exp/);
    }
    // a query token never reaches a log
    expect(gw.output()).not.toContain(noExp);
  });

  it('refuses a token that lives longer than FIVED_MAX_TOKEN_AGE_S (row 8)', async () => {
    const farExp = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('long').setIssuedAt().setExpirationTime(nowS() + 7200).sign(KEY);
    const longIat = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('long').setIssuedAt(nowS() - 7200).setExpirationTime(nowS() + 60).sign(KEY);
    for (const t of [farExp, longIat]) {
      const r = await tryConnect(gw.port, { token: t });
      expect(r.status).toBe(401);
      expect(r.body).toMatch(/FIVED_MAX_TOKEN_AGE_S/);
    }
    const ok = await tryConnect(gw.port, { token: await token('long', 3000) });
    expect(ok.status).toBe(101);
    await closeAll([ok.ws]);
  });

  it('closes a silent socket with 4003 right after its token expires (row 8)', async () => {
    const exp = nowS() + 2;
    const t = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('expiring').setIssuedAt().setExpirationTime(exp).sign(KEY);
    const c = await Client.connect(gw.port, { token: t });
    await c.next((m) => m.type === 'hello');
    // the client sends nothing at all
    const code = await c.closed;
    const at = Date.now();
    expect(code).toBe(CloseCode.AUTH_EXPIRED);
    expect(at).toBeGreaterThanOrEqual(exp * 1000);
    expect(at - exp * 1000).toBeLessThan(1000); // checked every 250 ms
  });

  it('accepts only FIVED_MAX_CONNS_PER_IP sockets from one address (row 7: 2,000 were accepted)', async () => {
    const ip = { 'x-forwarded-for': '203.0.113.1' }; // one client address (the gateway trusts 127.0.0.1 as its proxy)
    const tries = await Promise.all(Array.from({ length: 100 }, () => tryConnect(gw.port, { headers: ip })));
    const open = tries.filter((r) => r.status === 101);
    const refused = tries.filter((r) => r.status === 429);
    expect(open).toHaveLength(30);
    expect(refused).toHaveLength(70);
    expect(JSON.parse(refused[0]!.body).code).toBe(ErrorCode.RATE_LIMITED);
    // another client behind the trusted proxy (127.0.0.1 by default) is counted on its own
    const other = await tryConnect(gw.port, { headers: { 'x-forwarded-for': '203.0.113.50' } });
    expect(other.status).toBe(101);
    // closing frees the address's slots
    await closeAll(open.slice(0, 10).map((r) => r.ws));
    const again = await Promise.all(Array.from({ length: 12 }, () => tryConnect(gw.port, { headers: ip })));
    expect(again.filter((r) => r.status === 101)).toHaveLength(10);
    await closeAll([...open.map((r) => r.ws), other.ws, ...again.map((r) => r.ws)]);
  });

  it('accepts only FIVED_MAX_SOCKETS_PER_USER sockets of one user (row 7: 20 were)', async () => {
    const t = await token('many-sockets');
    const tries = await Promise.all(Array.from({ length: 20 }, (_, i) => tryConnect(gw.port, { token: t, headers: { 'x-forwarded-for': `198.51.100.${i + 1}` } })));
    expect(tries.filter((r) => r.status === 101)).toHaveLength(5);
    const refused = tries.filter((r) => r.status === 429);
    expect(refused).toHaveLength(15);
    expect(JSON.parse(refused[0]!.body).message).toMatch(/FIVED_MAX_SOCKETS_PER_USER/);
    await closeAll(tries.map((r) => r.ws));
  });

  it('limits a burst of bets across all sockets of one user (row 7: 1,800 bets in one burst)', async () => {
    const user = 'burst-user';
    await credit(gw, user, 1_000_000);
    const t = await token(user);
    const clients = await Promise.all(Array.from({ length: 5 }, () => Client.connect(gw.port, { token: t })));
    await Promise.all(clients.map((c) => c.next((m) => m.type === 'hello')));
    const rooms = (await getJson(`${gw.url}/api/rooms`)).body as Array<{ room: string; periodId: string }>;
    const started = Date.now();
    const replies = await Promise.all(clients.flatMap((c, i) => Array.from({ length: 40 }, (_, j) =>
      c.request({ type: 'bet', room: rooms[0]!.room, periodId: rooms[0]!.periodId, kind: 'B', pick: 'big', amount: 10, clientBetId: `burst-${i}-${j}` }))));
    const elapsedS = (Date.now() - started) / 1000;
    const limited = replies.filter((m) => m.type === 'error' && m.code === ErrorCode.RATE_LIMITED);
    const passed = replies.length - limited.length;
    // burst of 2 × 5, plus 5 per second of the time the burst took
    expect(passed).toBeGreaterThan(0);
    expect(passed).toBeLessThanOrEqual(10 + Math.ceil(5 * elapsedS) + 1);
    expect(limited.length).toBeGreaterThanOrEqual(200 - (10 + Math.ceil(5 * elapsedS) + 1));
    expect(String(limited[0]!.message)).toMatch(/FIVED_USER_BET_RATE/);
    for (const c of clients) c.terminate();
  });

  it('answers HTTP over FIVED_HTTP_RATE_PER_IP with 429, per client address (row 7)', async () => {
    const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });
    const codes = await Promise.all(Array.from({ length: 60 }, () => fetch(`${gw.url}/api/time`, from('192.0.2.10')).then(async (r) => ({ status: r.status, body: await r.text() }))));
    const limited = codes.filter((c) => c.status === 429);
    expect(codes.filter((c) => c.status === 200).length).toBeLessThanOrEqual(21); // burst of 2 × 10 (+1 refilled)
    expect(limited.length).toBeGreaterThanOrEqual(39);
    expect(JSON.parse(limited[0]!.body).code).toBe(ErrorCode.RATE_LIMITED);
    // another address is not affected; health checks and the platform's servers are not counted
    expect((await fetch(`${gw.url}/api/time`, from('192.0.2.11'))).status).toBe(200);
    expect((await fetch(`${gw.url}/health`, from('192.0.2.10'))).status).toBe(200);
    const op = await fetch(`${gw.url}/api/wallet/credit`, {
      method: 'POST',
      headers: { 'x-forwarded-for': '192.0.2.10', authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'rate-user', amount: 10, depositId: 'rate-dep' }),
    });
    expect(op.status).toBe(200);
  });

  it('limits demo sessions per client address', async () => {
    const post = () => fetch(`${gw.url}/api/demo/session`, { method: 'POST', headers: { 'x-forwarded-for': '192.0.2.77' } });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await post()).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });

  it('throttles and logs operator token failures per address (row 12)', async () => {
    const attempt = (auth: string) => fetch(`${gw.url}/api/wallet/credit`, {
      method: 'POST',
      headers: { 'x-forwarded-for': '192.0.2.99', authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'victim', amount: 1000, depositId: `guess-${Math.random()}` }),
    });
    const wrong = 'Bearer guessed-token-guessed-token-guessed-token';
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await attempt(wrong)).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual([429, 429]);
    // refused for the rest of the minute, even a right guess (else the throttle would still confirm guesses)
    expect((await attempt(`Bearer ${OPERATOR_TOKEN}`)).status).toBe(429);
    expect((await getJson(`${gw.url}/api/rooms`)).status).toBe(200); // the rest of the API is untouched
    const logged = gw.output().split('\n').filter((l) => l.includes('operator token refused'));
    expect(logged.length).toBe(10);
    expect(logged[0]).toContain('192.0.2.99');
    expect(gw.output()).not.toContain('guessed-token');
    const metrics = await (await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } })).text();
    expect(metrics).toMatch(/fived_gateway_refused_total\{reason="operator_auth_failed"\} 10/);
  });
});
