// The SDK against a lying or broken server (the outside review of the client): a result is checked
// against what the client was told before betting (the room's duration and timeline, the period's
// first commitment), held until its period's end as derived from its id (never its own `endsAt`),
// refused when absurdly early, and never moves the recovery cursor unless it verifies; malformed
// frames become `error` events and never stop later results. A scripted `ws` server, no processes.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer, type WebSocket as WsSocket } from 'ws';
import { connect, type FivedClient, type VerifiedResult, type WarningEvent } from '../packages/client/src/index.js';
import { verifyResult } from '../packages/client/src/verify.js';
import { commitmentOf, drawDigits, drawMessage } from '../src/core/draw.js';
import { ErrorCode, isFivedError } from '../src/errors.js';
import type { ResultPayload, RoomInfo } from '../src/protocol.js';

interface Conn {
  ws: WsSocket;
  received: Array<Record<string, unknown>>;
  send(msg: unknown): void;
}
let wss: WebSocketServer;
let url = '';
let onConn: (c: Conn) => void = () => {};
const socks: WsSocket[] = [];
const clients: FivedClient[] = [];

const seed = () => randomBytes(32).toString('hex');
const pid = (seq: number) => `20250731${String(seq).padStart(9, '0')}`;
function info(room: string, duration: number, periodId: string, endsAt: number, commitment: string | null): RoomInfo {
  return { room, duration, timeline: 'default', periodId, startsAt: endsAt - duration * 1000, freezeAt: endsAt - Math.min(5000, duration * 500), endsAt, commitment };
}
function hello(rooms: unknown) {
  return { type: 'hello', serverTime: Date.now(), userId: null, freezeMs: 5000, rooms };
}
function result(room: string, duration: number, periodId: string, s: string, over: Partial<ResultPayload> = {}): ResultPayload {
  const timeline = over.timeline ?? 'default';
  const d = drawDigits(s, drawMessage({ duration: over.duration ?? duration, timeline, periodId }));
  return { room, duration, timeline, periodId, digits: d.digits, sum: d.sum, seed: s, commitment: commitmentOf(s), endsAt: Date.now(), ...over };
}
/** A client whose server greets with `helloRooms` and answers the subscribe with `subRooms`. */
async function setup(helloRooms: unknown, opts: Parameters<typeof connect>[1] = {}, subRooms: unknown = helloRooms): Promise<{ c: FivedClient; conn: Conn }> {
  const connP = new Promise<Conn>((resolve) => {
    onConn = resolve;
  });
  const c = connect(url, { WebSocket, format: 'json', backoff: { initialMs: 20, maxMs: 200 }, ...opts });
  clients.push(c);
  const conn = await connP;
  conn.ws.on('message', (d) => {
    const m = JSON.parse(String(d)) as Record<string, unknown>;
    if (m.type === 'subscribe') conn.send({ type: 'subscribed', rooms: subRooms });
  });
  conn.send(hello(helloRooms));
  await c.ready(2000);
  if (c.subscriptions.length > 0) await c.next('subscribed', 2000);
  return { c, conn };
}
function collect(c: FivedClient) {
  const results: Array<VerifiedResult & { at: number }> = [];
  const warnings: WarningEvent[] = [];
  const errors: Array<{ code: string; message: string }> = [];
  c.on('result', (r) => results.push({ ...r, at: Date.now() }));
  c.on('warning', (w) => warnings.push(w));
  c.on('error', (e) => errors.push(e));
  return { results, warnings, errors };
}
function resultOf(c: FivedClient, periodId: string, timeoutMs = 4000): Promise<VerifiedResult> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no result for ${periodId}`)), timeoutMs);
    const off = c.on('result', (r) => {
      if (r.periodId !== periodId) return;
      clearTimeout(t);
      off();
      resolve(r);
    });
  });
}

beforeAll(async () => {
  wss = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: (p) => (p.has('fived') ? 'fived' : false) });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const addr = wss.address();
  url = `ws://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/ws`;
  wss.on('connection', (ws) => {
    socks.push(ws);
    const c: Conn = { ws, received: [], send: (m) => ws.send(typeof m === 'string' ? m : JSON.stringify(m)) };
    ws.on('message', (d) => c.received.push(JSON.parse(String(d)) as Record<string, unknown>));
    onConn(c);
  });
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  onConn = () => {};
});
afterAll(async () => {
  for (const s of socks) s.terminate();
  await new Promise((r) => wss.close(r));
});

describe('verifyResult with what was announced', () => {
  it('builds the draw message from the room\'s duration and timeline, not the result\'s', async () => {
    const s = seed();
    const honest = result('fiveD_60', 60, pid(7), s);
    const room = { commitment: honest.commitment, duration: 60, timeline: 'default' };
    expect(await verifyResult(honest, room)).toMatchObject({ verified: true, roomOk: true, announcedOk: true });
    // the same committed seed, a timeline (or duration) of the server's choosing: self-consistent only
    for (const over of [{ timeline: 'g1' }, { duration: 30 }]) {
      const ground = result('fiveD_60', 60, pid(7), s, over);
      expect((await verifyResult(ground, honest.commitment)).verified).toBe(true); // what a bare commitment proves
      const v = await verifyResult(ground, room);
      expect(v).toMatchObject({ verified: false, roomOk: false, commitmentOk: true });
      expect(v.expected?.digits).toEqual(honest.digits);
      expect(v.reason).toMatch(/duration\/timeline/);
    }
  });
});

describe('client SDK against a lying server', () => {
  it('a result with a ground timeline or duration does not verify (finding 1)', async () => {
    const s1 = seed();
    const s2 = seed();
    const now = Date.now();
    const { c, conn } = await setup([info('fiveD_60', 60, pid(10), now - 5, commitmentOf(s1)), info('fiveD_60', 60, pid(11), now - 1, commitmentOf(s2))], { rooms: ['fiveD_60'] });
    const got = collect(c);
    const a = resultOf(c, pid(10));
    const b = resultOf(c, pid(11));
    conn.send({ type: 'result', ...result('fiveD_60', 60, pid(10), s1, { timeline: 'x7' }) });
    conn.send({ type: 'result', ...result('fiveD_60', 60, pid(11), s2, { duration: 20 }) });
    for (const r of [await a, await b]) {
      expect(r.verified).toBe(false);
      expect(r.verification).toMatchObject({ commitmentOk: true, announcedOk: true, roomOk: false });
    }
    expect(got.warnings.filter((w) => w.code === ErrorCode.RESULT_MISMATCH).map((w) => w.periodId)).toEqual([pid(10), pid(11)]);
    expect(c.lastSeen('fiveD_60')).toBe(pid(9)); // and the cursor stayed put
  });

  it('the first announced commitment stands; a later one warns and its result does not verify (finding 2)', async () => {
    const first = seed();
    const late = seed();
    const end = Date.now() + 150;
    const { c, conn } = await setup([info('fiveD_60', 60, pid(20), end, commitmentOf(first))], { rooms: ['fiveD_60'] });
    const got = collect(c);
    const warnP = c.next('warning', 2000);
    conn.send({ type: 'period', ...info('fiveD_60', 60, pid(20), end, commitmentOf(late)) });
    const warn = await warnP;
    expect(warn).toMatchObject({ code: ErrorCode.RESULT_MISMATCH, periodId: pid(20) });
    expect(warn.message).toMatch(/commitment changed after it was announced/);
    expect(c.announcedCommitment('fiveD_60', pid(20))).toBe(commitmentOf(first));
    expect(c.room('fiveD_60')?.commitment).toBe(commitmentOf(first));
    const rP = resultOf(c, pid(20));
    conn.send({ type: 'result', ...result('fiveD_60', 60, pid(20), late, { endsAt: end }) });
    const r = await rP;
    expect(r.verified).toBe(false);
    expect(r.verification.announcedOk).toBe(false);
    expect(got.warnings.at(-1)?.code).toBe(ErrorCode.RESULT_MISMATCH);
  });

  it('an unannounced period\'s result is held until the end its id implies, whatever its endsAt says (finding 3)', async () => {
    const end = Date.now() + 100;
    const { c, conn } = await setup([info('fiveD_1', 1, pid(500), end, commitmentOf(seed()))], { rooms: ['fiveD_1'] });
    const got = collect(c);
    const rP = resultOf(c, pid(501));
    conn.send({ type: 'result', ...result('fiveD_1', 1, pid(501), seed(), { endsAt: 0 }) }); // never announced, ends at end + 1 s
    const r = await rP;
    expect(r.early).toBe(true);
    expect(Date.now()).toBeGreaterThanOrEqual(end + 1000);
    expect(r.verification.announcedOk).toBeNull();
    expect(r.verified).toBe(true); // self-consistent under the room's real duration and timeline (docs/sdk.md)
    expect(got.warnings.map((w) => w.code)).toEqual([ErrorCode.TOO_EARLY]);
  });

  it('a result of a room never announced does not verify', async () => {
    const { c, conn } = await setup([info('fiveD_60', 60, pid(30), Date.now() - 1, null)]);
    const rP = resultOf(c, pid(3));
    conn.send({ type: 'result', ...result('fiveD_180', 180, pid(3), seed(), { endsAt: 0 }) });
    const r = await rP;
    expect(r.verified).toBe(false);
    expect(r.verification.reason).toMatch(/never announced/);
  });

  it('a far-future result is refused and a bad result or a future void never moves the cursor (finding 4)', async () => {
    const now = Date.now();
    const s = seed();
    const { c, conn } = await setup([info('fiveD_60', 60, pid(40), now + 30_000, commitmentOf(s))], { rooms: ['fiveD_60'] });
    const got = collect(c);
    expect(c.lastSeen('fiveD_60')).toBe(pid(39));
    const warnP = c.next('warning', 2000);
    conn.send({ type: 'result', ...result('fiveD_60', 60, pid(400), seed(), { endsAt: 0 }) }); // 6 h ahead
    expect((await warnP).code).toBe(ErrorCode.TOO_EARLY);
    // a tampered result of a period that has ended
    const bad = result('fiveD_60', 60, pid(39), seed());
    const badP = resultOf(c, pid(39));
    conn.send({ type: 'result', ...bad, digits: bad.digits.map((d) => (d + 1) % 10) });
    expect((await badP).verified).toBe(false);
    const voidP = c.next('void', 2000);
    conn.send({ type: 'void', room: 'fiveD_60', periodId: pid(41), reason: 'operator' }); // the next period
    await voidP;
    expect(c.lastSeen('fiveD_60')).toBe(pid(39));
    expect(got.results.map((r) => r.periodId)).toEqual([pid(39)]);
    const void2P = c.next('void', 2000);
    conn.send({ type: 'void', room: 'fiveD_60', periodId: pid(40), reason: 'operator' }); // the current one
    await void2P;
    expect(c.lastSeen('fiveD_60')).toBe(pid(40));
  });

  it('malformed frames are error events; the client keeps going and later results still arrive (finding 5)', async () => {
    const s = seed();
    const good = info('fiveD_60', 60, pid(50), Date.now() - 1, commitmentOf(s));
    const { c, conn } = await setup(5, { rooms: ['fiveD_60'] }, { a: 1 });
    const got = collect(c);
    expect(c.state).toBe('ready');
    conn.send({ type: 'subscribed', rooms: [null, good] });
    conn.send({ type: 'recovery', room: 'fiveD_60', results: 5 });
    conn.send({ type: 'recovery', room: 'fiveD_60', results: [null, { digits: { length: 5 } }] });
    conn.send({ type: 'result', room: 'fiveD_60', periodId: pid(49), digits: 'x' });
    conn.send({ type: 'tick', room: 'fiveD_60', periodId: pid(50), now: -1e300, remainingMs: 1, phase: 'betting' });
    conn.send({ type: 'void', room: 'fiveD_60', reason: 'no period id' });
    const rP = resultOf(c, pid(50));
    conn.send({ type: 'result', ...result('fiveD_60', 60, pid(50), s) });
    const r = await rP;
    expect(r.verified).toBe(true);
    expect(got.errors.length).toBeGreaterThanOrEqual(7);
    for (const e of got.errors) expect(e.code).toBe(ErrorCode.MALFORMED);
    expect(c.lastSeen('fiveD_60')).toBe(pid(50));
  });

  it('an absurd endsAt is ignored, and a held result does not hold up another period\'s (finding 6)', async () => {
    const s1 = seed();
    const s2 = seed();
    const s3 = seed();
    const now = Date.now();
    const rooms = [info('fiveD_60', 60, pid(60), now - 1, commitmentOf(s1)), info('fiveD_1', 1, pid(70), now + 700, commitmentOf(s2)), info('fiveD_1', 1, pid(69), now - 300, commitmentOf(s3))];
    const { c, conn } = await setup(rooms, { rooms: ['fiveD_60', 'fiveD_1'] });
    const got = collect(c);
    const overflow: string[] = [];
    const onWarn = (w: Error) => overflow.push(w.name);
    process.on('warning', onWarn);
    try {
      conn.send({ type: 'result', ...result('fiveD_1', 1, pid(70), s2) }); // 700 ms early: held
      conn.send({ type: 'result', ...result('fiveD_60', 60, pid(60), s1, { endsAt: 1e300 }) }); // has ended
      conn.send({ type: 'result', ...result('fiveD_1', 1, pid(69), s3, { endsAt: (now - 1000) * 1000 }) }); // micros
      await resultOf(c, pid(70));
    } finally {
      process.off('warning', onWarn);
    }
    expect(got.results.map((r) => [r.periodId, r.verified, r.early])).toEqual([
      [pid(60), true, false],
      [pid(69), true, false],
      [pid(70), true, true],
    ]);
    expect(got.results[0]!.at).toBeLessThan(now + 500);
    expect(overflow).toEqual([]);
  });

  it('recovered results are `result` events too (recovered: true), and the batch a `recovery` event (finding 7)', async () => {
    const s1 = seed();
    const s2 = seed();
    const { c, conn } = await setup([info('fiveD_60', 60, pid(82), Date.now() + 30_000, null)], { rooms: ['fiveD_60'] });
    const got = collect(c);
    const recP = c.next('recovery', 2000);
    conn.send({ type: 'recovery', room: 'fiveD_60', results: [result('fiveD_60', 60, pid(80), s1), result('fiveD_60', 60, pid(81), s2)] });
    const rec = await recP;
    expect(rec.results.map((r) => r.periodId)).toEqual([pid(80), pid(81)]);
    expect(got.results.map((r) => [r.periodId, r.recovered, r.verified])).toEqual([
      [pid(80), true, true],
      [pid(81), true, true],
    ]);
    expect(c.lastSeen('fiveD_60')).toBe(pid(81));
  });

  it('a bet without periodId on a room not subscribed is E_INVALID_PERIOD, even when hello named its period (finding 9)', async () => {
    const { c, conn } = await setup([info('fiveD_60', 60, pid(90), Date.now() + 30_000, commitmentOf(seed()))]);
    expect(c.room('fiveD_60')?.periodId).toBe(pid(90));
    const err = await c.bet({ room: 'fiveD_60', kind: 'A', pick: 7, amount: 100 }).catch((e: unknown) => e);
    expect(isFivedError(err, ErrorCode.INVALID_PERIOD)).toBe(true);
    expect((err as Error).message).toMatch(/subscribe first/);
    expect(conn.received.filter((m) => m.type === 'bet')).toEqual([]);
    // with an explicit period the bet goes out (the caller chose it)
    const sent = new Promise<Record<string, unknown>>((resolve) => conn.ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as Record<string, unknown>;
      if (m.type === 'bet') resolve(m);
    }));
    void c.bet({ room: 'fiveD_60', periodId: pid(90), kind: 'A', pick: 7, amount: 100 }).catch(() => undefined);
    expect((await sent).periodId).toBe(pid(90));
  });
});
