// Issue 12 row 1: no input ends a process. `GET /api/rooms/%E0%A4%A/periods` (no token) threw from
// decodeURIComponent outside any guard and `fived all` exited, losing every in-memory balance;
// `GET /api/rooms/%E0/periods/1/liability` (no token, the operator port) killed a gateway. Here:
// those requests reproduced as written (400 E_BAD_REQUEST, the process up, the balance kept), the
// guards themselves on a real uWS app in this process (a handler that throws or rejects, an async
// upgrade that throws after its await, a message handler that throws: answered, counted, and
// nothing uncaught), malformed bus messages, and the scheduler's port.
import net from 'node:net';
import { Packr } from 'msgpackr';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANNELS } from '../src/store/keys.js';
import { ErrorCode } from '../src/errors.js';
import { route } from '../src/gateway/http.js';
import { guardWs } from '../src/gateway/guard.js';
import { loadUws, type us_listen_socket } from '../src/gateway/uws.js';
import { startFived, waitHttpOk } from './support/fived.js';
import { gatewayEnv, getJson, OPERATOR_TOKEN, startGatewayProc, type GatewayProc } from './support/gateway.js';
import { freePort } from './support/ports.js';
import type { Proc } from './support/procs.js';
import { startRedis, type TestRedis } from './support/redis.js';
import { requireBuild, spawnScheduler, type SchedulerProc } from './support/scheduler.js';

const BAD_SEGMENTS = ['%E0%A4%A', '%E0', '%', '%ZZ', '%C0%AF', '%ED%A0%80', '%FF%FE', 'a%2', '%%30'];

function op(body: unknown): RequestInit {
  return { method: 'POST', headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** The status line and body of one raw request (the path is sent byte for byte, unlike fetch). */
function raw(port: number, text: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    const done = () => {
      const m = /^HTTP\/1\.\d (\d{3})[\s\S]*?\r\n\r\n([\s\S]*)$/.exec(buf);
      resolve({ status: m ? Number(m[1]) : 0, body: m ? m[2]! : '' });
    };
    const t = setTimeout(() => { s.destroy(); done(); }, 5000);
    s.on('data', (d) => {
      buf += d.toString('latin1');
      const len = /content-length: (\d+)/i.exec(buf);
      const head = buf.indexOf('\r\n\r\n');
      if (len && head >= 0 && buf.length - head - 4 >= Number(len[1])) { clearTimeout(t); s.destroy(); done(); }
    });
    s.on('error', () => undefined);
    s.on('close', () => { clearTimeout(t); done(); });
    s.write(text);
  });
}

describe('row 1 on `fived all` (in-memory store)', () => {
  let child: Proc;
  let port: number;
  let exitCode: number | null | undefined;
  beforeAll(async () => {
    requireBuild();
    port = await freePort();
    child = startFived('all', ['all'], {
      env: { PATH: process.env.PATH ?? '', FIVED_PORT: String(port), FIVED_HOST: '127.0.0.1', FIVED_OPERATOR_TOKEN: OPERATOR_TOKEN, FIVED_JWT_SECRET: 'guard-test-secret-0123456789', FIVED_LOG_LEVEL: 'warn', FIVED_DURATIONS: '3', FIVED_FREEZE_MS: '1000', FIVED_HTTP_RATE_PER_IP: '0', FIVED_MAX_CONNS_PER_IP: '0' },
    });
    void child.exited.then((e) => (exitCode = e.code));
    await waitHttpOk(child, port, '/health', 20_000);
  }, 30_000);
  afterAll(async () => {
    await child?.stop(60_000);
  });

  it('GET /api/rooms/%E0%A4%A/periods (no token): 400 E_BAD_REQUEST, the process stays up and the balance credited before is still there', async () => {
    const c1 = await getJson(`http://127.0.0.1:${port}/api/wallet/credit`, op({ userId: 'row1-user', amount: 777, depositId: 'row1-d1' }));
    expect(c1.status).toBe(200);
    expect(c1.body.balance).toBe(777);

    const r = await raw(port, 'GET /api/rooms/%E0%A4%A/periods HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).code).toBe(ErrorCode.BAD_REQUEST);

    // every parameterised route, every bad encoding: answered, never a crash
    for (const seg of BAD_SEGMENTS) {
      for (const p of [`/api/rooms/${seg}/periods`, `/api/rooms/${seg}/periods/1`, `/api/rooms/fiveD_3/periods/${seg}`, `/api/rooms/${seg}/periods/1/liability`]) {
        const x = await raw(port, `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`);
        expect(x.status, p).toBe(400);
        expect(JSON.parse(x.body), p).toMatchObject({ code: ErrorCode.BAD_REQUEST });
      }
      const v = await raw(port, `POST /api/rooms/${seg}/periods/1/void HTTP/1.1\r\nHost: x\r\nauthorization: Bearer ${OPERATOR_TOKEN}\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}`);
      expect(v.status).toBe(400);
    }
    expect(exitCode).toBeUndefined();
    // the in-memory wallet is the one from before: 777 + 1
    const c2 = await getJson(`http://127.0.0.1:${port}/api/wallet/credit`, op({ userId: 'row1-user', amount: 1, depositId: 'row1-d2' }));
    expect(c2.status).toBe(200);
    expect(c2.body.balance).toBe(778);
  });
});

describe('row 1 on a gateway (Redis), the operator port', () => {
  let redis: TestRedis;
  let gw: GatewayProc;
  let sched: SchedulerProc;
  let schedPort: number;
  beforeAll(async () => {
    requireBuild();
    redis = await startRedis();
    gw = await startGatewayProc(gatewayEnv(redis.url, 'guard:', { FIVED_HTTP_RATE_PER_IP: '0', FIVED_MAX_CONNS_PER_IP: '0' }));
    schedPort = await freePort();
    sched = spawnScheduler('guard-sched', { FIVED_REDIS_URL: redis.url, FIVED_KEY_PREFIX: 'guard:', FIVED_DURATIONS: '3', FIVED_FREEZE_MS: '1000', FIVED_SCHEDULER_PORT: String(schedPort) });
    await sched.waitFor((l) => /scheduler started/.test(l.msg), 20_000, 'the scheduler start');
  }, 60_000);
  afterAll(async () => {
    await sched?.stop();
    await gw?.stop();
    await redis?.stop();
  });

  it('GET /api/rooms/%E0/periods/1/liability (no token): 400 E_BAD_REQUEST and the gateway stays up', async () => {
    const r = await raw(gw.port, 'GET /api/rooms/%E0/periods/1/liability HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body)).toMatchObject({ code: ErrorCode.BAD_REQUEST });
    const withToken = await raw(gw.port, `GET /api/rooms/%E0/periods/1/liability HTTP/1.1\r\nHost: x\r\nauthorization: Bearer ${OPERATOR_TOKEN}\r\n\r\n`);
    expect(withToken.status).toBe(400);
    const h = await getJson(`${gw.url}/health`);
    expect(h.status).toBe(200);
    expect(gw.output()).not.toMatch(/URIError/);
  });

  it('malformed messages on the 5d_precalc: channels change nothing and end nothing', async () => {
    const pub = new Redis(redis.url, { lazyConnect: true });
    await pub.connect();
    const packr = new Packr({ useRecords: false });
    const junk: Array<Buffer | string> = [
      Buffer.from([0xc1]), Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]), Buffer.from([0xdf, 0x7f, 0xff, 0xff, 0xff]), 'not msgpack at all', Buffer.alloc(0),
      packr.pack(null), packr.pack([1, 2, 3]), packr.pack('x'.repeat(10_000)),
      packr.pack({ room: 5, duration: 'x', timeline: null, periodId: '99999999999999999', tracking: 7 }),
      packr.pack({ room: 'fiveD_3', duration: 3, timeline: 'default', periodId: '99999999999999999', tracking: {}, endsAt: 'soon' }),
      packr.pack({ duration: 3, timeline: 'default', periodId: '00000000000000000', reason: { toString: 1 } }),
      packr.pack({ duration: Number.NaN, timeline: 'default', periodId: 'x'.repeat(17), reason: 5, credited: 'lots' }),
    ];
    for (const ch of Object.values(CHANNELS)) for (const m of junk) await pub.publish(`guard:${ch}`, m);
    await pub.quit();
    // a round trip through the gateway after the messages were delivered
    const h = await getJson(`${gw.url}/health`);
    expect(h.status).toBe(200);
    const rooms = await getJson(`${gw.url}/api/rooms`);
    expect(rooms.status).toBe(200);
    expect(gw.output()).not.toMatch(/bus message handler failed|bus handler threw/);
  });

  it("the scheduler's port answers malformed requests with coded JSON and stays up", async () => {
    const notFound = await raw(schedPort, 'GET /%E0%A4%A/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(notFound.status).toBe(404);
    expect(JSON.parse(notFound.body)).toMatchObject({ code: ErrorCode.NOT_FOUND });
    const post = await raw(schedPort, 'POST /ready HTTP/1.1\r\nHost: x\r\ncontent-length: 3\r\n\r\n{x}');
    expect(post.status).toBe(405);
    expect(JSON.parse(post.body)).toMatchObject({ code: ErrorCode.METHOD_NOT_ALLOWED });
    const garbage = await raw(schedPort, 'GE\u0000T / HTTP/1.1\r\n\r\n');
    expect(garbage.status).toBe(400);
    expect(JSON.parse(garbage.body)).toMatchObject({ code: ErrorCode.BAD_REQUEST });
    const big = await raw(schedPort, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`);
    expect(big.status).toBe(431);
    expect(sched.alive()).toBe(true);
    expect((await getJson(`http://127.0.0.1:${schedPort}/health`)).status).toBe(200);
  });
});

describe('the guards on a real uWS app', () => {
  const { uws } = loadUws({ allowFallback: false });
  let listen: us_listen_socket | null = null;
  let port = 0;
  const errors: string[] = [];
  const onError = (where: string) => (err: unknown) => errors.push(`${where}: ${err instanceof Error ? err.message : String(err)}`);

  beforeAll(async () => {
    const app = uws.App();
    route(app, 'get', '/throws/:x', 1, () => { throw new TypeError('boom in a handler'); }, onError('http'));
    route(app, 'get', '/rejects', 0, async () => { await Promise.resolve(); throw new RangeError('late boom'); }, onError('http'));
    route(app, 'get', '/echo/:x', 1, (req) => ({ status: 200, body: req.params[0]!, contentType: 'text/plain' }), onError('http'));
    app.ws<{ n: number }>('/ws', guardWs<{ n: number }>({
      upgrade: async (res, req, context) => {
        let aborted = false;
        res.onAborted(() => { aborted = true; });
        const key = req.getHeader('sec-websocket-key');
        const ext = req.getHeader('sec-websocket-extensions');
        const late = req.getQuery() === 'late';
        await new Promise((r) => setTimeout(r, 5));
        if (late) throw new Error('upgrade boom after an await');
        if (!aborted) res.cork(() => res.upgrade({ n: 0 }, key, '', ext, context));
      },
      message: (ws, data) => {
        const text = Buffer.from(data).toString();
        if (text === 'throw') throw new Error('message boom');
        ws.send(`ok:${text}`);
      },
    }, (where, err) => onError(where)(err), {
      upgrade: (res) => res.cork(() => res.writeStatus('500 Internal Server Error').writeHeader('content-type', 'application/json').end(JSON.stringify({ code: ErrorCode.INTERNAL, message: 'internal error' }))),
      message: (ws) => ws.send(JSON.stringify({ type: 'error', code: ErrorCode.INTERNAL, message: 'internal error' })),
    }));
    await new Promise<void>((resolve, reject) => app.listen('127.0.0.1', 0, (s) => {
      if (!s) return reject(new Error('listen failed'));
      listen = s;
      port = uws.us_socket_local_port(s);
      resolve();
    }));
  });
  afterAll(() => {
    if (listen) uws.us_listen_socket_close(listen);
  });

  it('a handler that throws or rejects is answered 500 E_INTERNAL and reported; a bad encoding is 400', async () => {
    const a = await raw(port, 'GET /throws/1 HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(a.status).toBe(500);
    expect(JSON.parse(a.body)).toMatchObject({ code: ErrorCode.INTERNAL });
    const b = await raw(port, 'GET /rejects HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(b.status).toBe(500);
    const c = await raw(port, 'GET /echo/%E0%A4%A HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(c.status).toBe(400);
    expect(JSON.parse(c.body)).toMatchObject({ code: ErrorCode.BAD_REQUEST });
    const d = await raw(port, 'GET /echo/%C3%A9 HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(d.status).toBe(200);
    expect(Buffer.from(d.body, 'latin1').toString('utf8')).toBe('é');
    expect(errors.filter((e) => e.startsWith('http'))).toEqual(['http: boom in a handler', 'http: late boom']);
  });

  it('an upgrade that throws after its await is answered 500; a message handler that throws answers E_INTERNAL and the socket lives on', async () => {
    const refused = await new Promise<{ status: number; body: string }>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?late`);
      ws.on('error', () => undefined);
      ws.once('unexpected-response', (_q, res) => {
        let body = '';
        res.on('data', (x: Buffer) => (body += x.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      ws.once('open', () => resolve({ status: 101, body: '' }));
    });
    expect(refused.status).toBe(500);
    expect(JSON.parse(refused.body)).toMatchObject({ code: ErrorCode.INTERNAL });

    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
    const got: string[] = [];
    const three = new Promise<void>((r) => ws.on('message', (m) => { got.push(String(m)); if (got.length === 3) r(); }));
    ws.send('a');
    ws.send('throw');
    ws.send('b');
    await three;
    expect(got[0]).toBe('ok:a');
    expect(JSON.parse(got[1]!)).toMatchObject({ code: ErrorCode.INTERNAL });
    expect(got[2]).toBe('ok:b');
    ws.close();
    expect(errors.filter((e) => e.startsWith('ws'))).toEqual(['ws-upgrade: upgrade boom after an await', 'ws-message: message boom']);
  });
});
