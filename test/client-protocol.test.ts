// The SDK's connection logic against a scripted WebSocket server (the `ws` package): correlation,
// timeouts, reconnect with backoff and `since`, early results held, verification flags, dedupe.
// The real gateway is exercised in test/client-gateway.test.ts; this file pins the edge cases a
// real gateway never produces on purpose (a tampered or early result).
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer, type WebSocket as WsSocket } from 'ws';
import { Packr, Unpackr } from 'msgpackr';
import { connect, type FivedClient } from '../packages/client/src/index.js';
import { commitmentOf, drawDigits, drawMessage } from '../src/core/draw.js';
import { ErrorCode, isFivedError } from '../src/errors.js';
import type { HelloMsg, ResultPayload, RoomInfo, ServerMessage } from '../src/protocol.js';

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false });

interface Conn {
  ws: WsSocket;
  protocols: string[];
  received: Array<Record<string, unknown>>;
  send(msg: ServerMessage | Record<string, unknown>): void;
}

let wss: WebSocketServer;
let url = '';
const conns: Conn[] = [];
let onConn: (c: Conn) => void = () => {};
let onMsg: (c: Conn, m: Record<string, unknown>) => void = () => {};
const clients: FivedClient[] = [];

function room(periodId: string, endsAt: number, commitment: string | null): RoomInfo {
  return { room: 'fiveD_60', duration: 60, timeline: 'default', periodId, startsAt: endsAt - 60_000, freezeAt: endsAt - 5000, endsAt, commitment };
}
function hello(rooms: RoomInfo[], serverTime = Date.now()): HelloMsg {
  return { type: 'hello', serverTime, userId: null, freezeMs: 5000, rooms };
}
function result(periodId: string, endsAt: number, seed = randomBytes(32).toString('hex')): ResultPayload {
  const d = drawDigits(seed, drawMessage({ duration: 60, timeline: 'default', periodId }));
  return { room: 'fiveD_60', duration: 60, timeline: 'default', periodId, digits: d.digits, sum: d.sum, seed, commitment: commitmentOf(seed), endsAt };
}
function nextConn(): Promise<Conn> {
  return new Promise((resolve) => {
    const prev = onConn;
    onConn = (c) => {
      onConn = prev;
      prev(c);
      resolve(c);
    };
  });
}
function nextMsg(type: string): Promise<{ c: Conn; m: Record<string, unknown> }> {
  return new Promise((resolve) => {
    const prev = onMsg;
    onMsg = (c, m) => {
      prev(c, m);
      if (m.type === type) {
        onMsg = prev;
        resolve({ c, m });
      }
    };
  });
}
function client(opts: Parameters<typeof connect>[1] = {}): FivedClient {
  const c = connect(url, { WebSocket, backoff: { initialMs: 20, maxMs: 200 }, requestTimeoutMs: 1000, ...opts });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  wss = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: (p) => (p.has('fived') ? 'fived' : false) });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const addr = wss.address();
  url = `ws://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/ws`;
  wss.on('connection', (ws, req) => {
    const c: Conn = {
      ws,
      protocols: String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim()),
      received: [],
      send: (msg) => ws.send(packr.pack(msg)),
    };
    conns.push(c);
    ws.on('message', (data, isBinary) => {
      const m = (isBinary ? unpackr.unpack(data as Buffer) : JSON.parse(String(data))) as Record<string, unknown>;
      c.received.push(m);
      onMsg(c, m);
    });
    onConn(c);
  });
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  onConn = () => {};
  onMsg = () => {};
});
afterAll(async () => {
  for (const c of conns) c.ws.terminate();
  await new Promise((r) => wss.close(r));
});

describe('client SDK against a scripted server', () => {
  it('sends the token as a sub-protocol, subscribes after hello, correlates replies by id', async () => {
    const connP = nextConn();
    const c = client({ token: 'aaa.bbb.ccc', rooms: ['fiveD_60'] });
    const conn = await connP;
    expect(conn.protocols).toEqual(['fived', 'fived.jwt.aaa.bbb.ccc']);
    const subP = nextMsg('subscribe');
    conn.send(hello([room('20250731000000010', Date.now() + 30_000, 'ab'.repeat(32))]));
    const { m: sub } = await subP;
    expect(sub).toEqual({ type: 'subscribe', rooms: ['fiveD_60'] }); // first time: no since
    await c.ready();

    onMsg = (cn, m) => {
      const id = m.id as number;
      if (m.type === 'balance') cn.send({ type: 'balance', id, balance: 1234 });
      if (m.type === 'bet') cn.send({ type: 'error', id, code: 'E_PERIOD_FROZEN', message: 'frozen' });
      if (m.type === 'ping') cn.send({ type: 'pong', id, now: Date.now() });
    };
    const [bal, betErr, pong] = await Promise.all([
      c.balance(),
      c.bet({ room: 'fiveD_60', kind: 'A', pick: 7, amount: 100 }).catch((e: unknown) => e),
      c.ping(),
    ]);
    expect(bal).toBe(1234);
    expect(isFivedError(betErr, 'E_PERIOD_FROZEN' as ErrorCode)).toBe(true);
    expect((betErr as { details: { periodId: string } }).details.periodId).toBe('20250731000000010'); // current period by default
    expect(pong.rttMs).toBeGreaterThanOrEqual(0);
    const bet = conn.received.find((m) => m.type === 'bet')!;
    expect(bet.clientBetId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('a request without reply times out with E_TIMEOUT; an unmatched error is an error event', async () => {
    const connP = nextConn();
    const c = client({ requestTimeoutMs: 150 });
    const conn = await connP;
    conn.send(hello([]));
    await c.ready();
    const err = await c.balance().catch((e: unknown) => e);
    expect(isFivedError(err, ErrorCode.TIMEOUT)).toBe(true);
    const evP = c.next('error', 2000);
    conn.send({ type: 'error', code: 'E_RATE_LIMITED', message: 'slow down' });
    expect(await evP).toEqual({ code: 'E_RATE_LIMITED', message: 'slow down' });
    const malP = c.next('error', 2000);
    conn.ws.send(Buffer.from([0xc1])); // never-used msgpack byte
    expect((await malP).code).toBe(ErrorCode.MALFORMED);
  });

  it('reconnects after a drop, resubscribes with since = last outcome seen, a sent request rejects E_ABORTED', async () => {
    const c1P = nextConn();
    const c = client({ rooms: ['fiveD_60'] });
    const conn1 = await c1P;
    const endsAt = Date.now() - 10; // the period just ended
    const p10 = result('20250731000000010', endsAt);
    conn1.send(hello([room('20250731000000010', endsAt, p10.commitment)]));
    await c.ready();
    const resP = c.next('result', 5000);
    conn1.send({ type: 'result', ...p10 });
    const r = await resP;
    expect(r).toMatchObject({ periodId: '20250731000000010', verified: true, early: false, recovered: false });
    expect(c.lastSeen('fiveD_60')).toBe('20250731000000010');

    const pendingBet = c.bet({ room: 'fiveD_60', kind: 'SUM', pick: 'big', amount: 100 }).catch((e: unknown) => e);
    await nextMsg('bet');
    const closeP = c.next('close', 2000);
    const reconnectP = c.next('reconnect', 2000);
    const c2P = nextConn();
    conn1.ws.terminate();
    expect((await closeP).willReconnect).toBe(true);
    expect((await reconnectP).delayMs).toBeLessThanOrEqual(20);
    const aborted = await pendingBet;
    expect(isFivedError(aborted, ErrorCode.ABORTED)).toBe(true);
    expect((aborted as Error).message).toMatch(/same clientBetId/);

    const conn2 = await c2P;
    const subP = nextMsg('subscribe');
    conn2.send(hello([room('20250731000000013', Date.now() + 50_000, 'cd'.repeat(32))]));
    const { m: sub } = await subP;
    expect(sub).toEqual({ type: 'subscribe', rooms: ['fiveD_60'], since: { fiveD_60: '20250731000000010' } });

    // recovery: verified, deduplicated against what was already seen, cursor advanced
    const recP = c.next('recovery', 5000);
    const p11 = result('20250731000000011', Date.now() - 100);
    const p12 = result('20250731000000012', Date.now() - 50);
    conn2.send({ type: 'recovery', room: 'fiveD_60', results: [p10, p11, p12] });
    const rec = await recP;
    expect(rec.results.map((x) => [x.periodId, x.verified, x.recovered])).toEqual([
      ['20250731000000011', true, true],
      ['20250731000000012', true, true],
    ]);
    expect(c.lastSeen('fiveD_60')).toBe('20250731000000012');
  });

  it('holds a result that arrives before its end, warns, and flags one that does not verify', async () => {
    const connP = nextConn();
    const c = client({ rooms: ['fiveD_60'] });
    const conn = await connP;
    const now = Date.now();
    const early = result('20250731000000020', now + 600);
    conn.send(hello([room('20250731000000020', now + 600, early.commitment)], now));
    await c.ready();
    const warnP = c.next('warning', 2000);
    const resP = c.next('result', 5000);
    conn.send({ type: 'result', ...early });
    const warn = await warnP;
    expect(warn.code).toBe(ErrorCode.TOO_EARLY);
    const r = await resP;
    expect(r.early).toBe(true);
    expect(r.verified).toBe(true);
    expect(Date.now()).toBeGreaterThanOrEqual(now + 600);

    // a result whose commitment differs from the one announced at the period's start
    const announced = commitmentOf(randomBytes(32).toString('hex'));
    const forged = result('20250731000000021', Date.now() - 1);
    conn.send({ type: 'period', ...room('20250731000000021', Date.now() - 1, announced) });
    const badP = c.next('result', 5000);
    conn.send({ type: 'result', ...forged });
    const bad = await badP;
    expect(bad.verified).toBe(false);
    expect(bad.verification).toMatchObject({ commitmentOk: true, digitsOk: true, announcedOk: false });
  });

  it('drops a silent connection (pings first) and reconnects; close() stops for good', async () => {
    const c1P = nextConn();
    const c = client({ staleAfterMs: 400 });
    const conn1 = await c1P;
    conn1.send(hello([]));
    await c.ready();
    const pingP = nextMsg('ping'); // the server stays silent: the client pings at half the limit
    const c2P = nextConn();
    await pingP;
    const conn2 = await c2P; // then gives up on the socket and reconnects
    expect(conn2).not.toBe(conn1);
    conn2.send(hello([]));
    await c.ready();
    const states: string[] = [];
    c.on('state', (s) => states.push(s));
    c.close();
    expect(c.state).toBe('closed');
    expect(states).toEqual(['closed']);
    expect(isFivedError(await c.balance().catch((e: unknown) => e), ErrorCode.ABORTED)).toBe(true);
  });

  it('a close for an expired token reconnects and says why', async () => {
    const c1P = nextConn();
    const c = client({ token: () => 'fresh.token.sig' });
    const conn1 = await c1P;
    conn1.send(hello([]));
    await c.ready();
    const errP = c.next('error', 2000);
    const c2P = nextConn();
    conn1.ws.close(4003, 'token expired');
    expect((await errP).code).toBe(ErrorCode.UNAUTHORIZED);
    const conn2 = await c2P;
    expect(conn2.protocols).toEqual(['fived', 'fived.jwt.fresh.token.sig']); // the token function was asked again
  });

  it('json format sends text frames', async () => {
    const connP = nextConn();
    const c = client({ format: 'json' });
    const conn = await connP;
    const gotText = new Promise<boolean>((resolve) => conn.ws.once('message', (_d, isBinary) => resolve(!isBinary)));
    conn.send(hello([]));
    await c.ready();
    const p = c.ping();
    expect(await gotText).toBe(true);
    const { m } = { m: conn.received.at(-1)! };
    conn.ws.send(JSON.stringify({ type: 'pong', id: m.id, now: 1 }));
    expect((await p).now).toBe(1);
  });
});
