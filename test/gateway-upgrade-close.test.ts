// Issue 12 row 13: a fuzz socket closed 1006 (no close frame) right after its HELLO, with every
// input unanswered. The cause was uWS's HttpResponse.cork() around an asynchronous upgrade: the
// upgrade reallocates the socket in place, cork() does not notice and reads the HTTP "close after
// this response" flag from memory that now belongs to the WebSocket; when that byte has the flag,
// it closes the new socket (docs/reliability.md 1g). A `Connection: close` handshake sets the
// real flag, which survives the in-place reallocation: on the old code it reproduces the
// signature every time (101, HELLO, then the connection ends; the gateway had processed
// nothing and counted no close of its own). One gateway on its own Redis.
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startRedis, testPrefix, type TestRedis } from './support/redis.js';
import { gatewayEnv, startGatewayProc, token, type GatewayProc } from './support/gateway.js';
import { disconnectReason, upgradeRequested } from '../src/gateway/ws.js';

let redis: TestRedis;
let gw: GatewayProc;

beforeAll(async () => {
  redis = await startRedis();
  gw = await startGatewayProc(gatewayEnv(redis.url, testPrefix('gwupgrade'), { FIVED_MAX_PAYLOAD: '1024', FIVED_MAX_SOCKETS_PER_USER: '0' }));
});

afterAll(async () => {
  await gw?.stop();
  await redis?.stop();
});

interface Handshake {
  status: number;
  body: string;
  /** server frames received (opcode, payload) */
  frames: Array<{ op: number; payload: Buffer }>;
  /** how the connection ended, or 'open' when it was still open at the end */
  ended: 'fin' | 'reset' | 'open';
}

function mask(op: number, payload: Buffer): Buffer {
  const m = randomBytes(4);
  const b = Buffer.from(payload);
  for (let i = 0; i < b.length; i++) b[i]! ^= m[i % 4]!;
  return Buffer.concat([Buffer.from([0x80 | op, 0x80 | b.length]), m, b]);
}

/**
 * A raw handshake with the given Connection header; after the HELLO it sends a ping and waits
 * `holdMs` for the pong, so a socket the server drops after its HELLO shows as ended.
 */
function handshake(connection: string, tok: string, holdMs = 500): Promise<Handshake> {
  return new Promise((resolve) => {
    const s = net.connect(gw.port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const r: Handshake = { status: 0, body: '', frames: [], ended: 'open' };
    let pinged = false;
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      resolve({ ...r, frames: [...r.frames] }); // as it was at this moment: destroying the socket below ends it
      s.destroy();
    };
    const timer = setTimeout(done, 5000);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (r.status === 0) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        r.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(buf.toString('latin1'))?.[1] ?? -1);
        const len = Number(/content-length: *(\d+)/i.exec(buf.subarray(0, end).toString('latin1'))?.[1] ?? 0);
        if (r.status !== 101) {
          r.body = buf.subarray(end + 4, end + 4 + len).toString();
          return;
        }
        buf = buf.subarray(end + 4);
      }
      while (buf.length >= 2) {
        let len = buf[1]! & 127;
        let off = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          off = 4;
        }
        if (buf.length < off + len) return;
        r.frames.push({ op: buf[0]! & 15, payload: buf.subarray(off, off + len) });
        buf = buf.subarray(off + len);
      }
      if (r.frames.length >= 1 && !pinged) {
        pinged = true;
        // JSON: the replies come back as text frames
        s.write(mask(1, Buffer.from(JSON.stringify({ type: 'ping', id: 7 }))));
        setTimeout(done, holdMs);
      }
    });
    s.on('end', () => {
      if (r.ended === 'open') r.ended = 'fin';
      if (r.status !== 101) done();
    });
    s.on('error', () => {
      r.ended = 'reset';
    });
    s.on('close', () => {
      if (r.ended === 'open') r.ended = 'fin';
      done();
    });
    s.write(
      `GET /ws?format=json HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: ${connection}\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: fived, fived.jwt.${tok}\r\n\r\n`,
    );
  });
}

async function counters(): Promise<Record<string, number>> {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const l of text.split('\n')) {
    const m = /^fived_gateway_(disconnects|closes)_total\{(.*)\} (\d+)$/.exec(l);
    if (m) out[`${m[1]}{${m[2]}}`] = Number(m[3]);
  }
  return out;
}

const delta = (before: Record<string, number>, after: Record<string, number>) =>
  Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => v !== 0));

describe('upgrade and disconnect helpers', () => {
  it('finds the Upgrade token in a Connection header, and only there', () => {
    for (const v of ['Upgrade', 'upgrade', 'keep-alive, Upgrade', 'Upgrade,keep-alive', ' UPGRADE ']) expect(upgradeRequested(v), v).toBe(true);
    for (const v of ['', 'close', 'keep-alive', 'upgrades', 'Upgrade-Insecure']) expect(upgradeRequested(v), v).toBe(false);
  });

  it('names a disconnect by the code and reason uWS reports', () => {
    expect(disconnectReason(1006, '')).toEqual({ code: '1006', reason: 'no_close_frame' });
    expect(disconnectReason(1006, 'WebSocket timed out from inactivity')).toEqual({ code: '1006', reason: 'idle_timeout' });
    expect(disconnectReason(1006, 'Received invalid UTF-8')).toEqual({ code: '1006', reason: 'invalid_utf8' });
    expect(disconnectReason(1006, 'Received too big message')).toEqual({ code: '1006', reason: 'too_big' });
    expect(disconnectReason(1006, 'something new')).toEqual({ code: '1006', reason: 'other' });
    expect(disconnectReason(1000, 'bye')).toEqual({ code: '1000', reason: 'close_frame' });
    expect(disconnectReason(4321, '')).toEqual({ code: '4321', reason: 'close_frame' });
    expect(disconnectReason(3999, '')).toEqual({ code: 'other', reason: 'close_frame' }); // bounded labels
  });
});

describe('upgrades (row 13)', () => {
  it('refuses a handshake whose Connection header lacks "Upgrade" (e.g. close, which uWS takes as "close after this response") with a coded 400', async () => {
    const before = await counters();
    for (let i = 0; i < 5; i++) {
      const h = await handshake('close', await token('up-close'));
      // old code: upgraded (101, the HELLO), and in `fived all` then ended without a close frame every time
      expect(h.status, JSON.stringify(h.frames.map((f) => f.op))).toBe(400);
      expect(JSON.parse(h.body).code).toBe('E_BAD_REQUEST');
      expect(h.frames).toEqual([]);
    }
    // nothing was upgraded, so nothing was disconnected
    expect(delta(before, await counters())).toEqual({});
  });

  it('upgrades handshakes with the Upgrade token (any case, in a list) and keeps them open', async () => {
    const tok = await token('up-ok');
    for (const connection of ['Upgrade', 'upgrade', 'keep-alive, Upgrade', 'Upgrade,keep-alive']) {
      for (const h of await Promise.all(Array.from({ length: 10 }, () => handshake(connection, tok, 200)))) {
        expect(h.status, connection).toBe(101);
        const msgs = h.frames.filter((f) => f.op === 1).map((f) => JSON.parse(f.payload.toString()) as { type: string; id?: number });
        expect(msgs[0]?.type, connection).toBe('hello');
        expect(msgs.find((m) => m.type === 'pong')?.id, `${connection}: the socket answered after its HELLO`).toBe(7);
        expect(h.ended, connection).toBe('open');
        expect(h.frames.some((f) => f.op === 8), connection).toBe(false);
      }
    }
  });

  it('counts the connections it did not close by reason: close frame, no close frame, too big, not UTF-8', async () => {
    const before = await counters();
    const open = async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/ws`, ['fived', `fived.jwt.${await token('up-count')}`]);
      ws.on('error', () => undefined);
      await new Promise((r) => ws.once('message', r)); // the HELLO
      return { ws, closed: new Promise<number>((r) => ws.once('close', r)) };
    };
    // the client closes with a close frame
    let c = await open();
    c.ws.close(1000, 'bye');
    expect(await c.closed).toBe(1000);
    // the client goes away without one
    c = await open();
    c.ws.terminate();
    await c.closed;
    // a frame over maxPayloadLength (FIVED_MAX_PAYLOAD + 64 KiB): uWS closes it itself
    c = await open();
    c.ws.send(Buffer.alloc(1024 + 64 * 1024 + 10, 0x61), { binary: true });
    expect(await c.closed).toBe(1006);
    // a text frame that is not UTF-8: uWS closes it itself
    c = await open();
    c.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect(await c.closed).toBe(1006);
    // a frame over FIVED_MAX_PAYLOAD: the gateway closes it (1009), counted as its own close
    c = await open();
    c.ws.send(Buffer.alloc(1500, 0x61), { binary: true });
    expect(await c.closed).toBe(1009);
    // the server sees a client's terminate (and the 1000) a moment after the client does
    const want = {
      'disconnects{code="1000",reason="close_frame"}': 1,
      'disconnects{code="1006",reason="no_close_frame"}': 1,
      'disconnects{code="1006",reason="too_big"}': 1,
      'disconnects{code="1006",reason="invalid_utf8"}': 1,
      'closes{code="1009"}': 1,
    };
    const deadline = Date.now() + 5000;
    let got = delta(before, await counters());
    while (JSON.stringify(got) !== JSON.stringify({ ...got, ...want }) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      got = delta(before, await counters());
    }
    expect(got).toEqual(want);
  });
});
