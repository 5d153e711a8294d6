// The light client's wire layer (bench/lib/frames.ts, light-client.ts): frame reading across
// arbitrary chunk splits, extended lengths, fragmentation, masking, the upgrade response, and the
// Engine.IO/Socket.IO packet parser — checked against the real `ws` server and a Socket.IO server.
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import http from 'node:http';
import { WebSocketServer } from 'ws';
import { Server as IoServer } from 'socket.io';
import { Packr } from 'msgpackr';
import {
  FrameError, FrameReader, Opcode, encodeClientFrame, encodeServerFrame, parseSioPacket, parseUpgradeResponse, sioEvent,
} from '../bench/lib/frames.js';
import { LightClient, decodeFived } from '../bench/lib/light-client.js';

function collect(): { reader: FrameReader; got: Array<[number, string]> } {
  const got: Array<[number, string]> = [];
  const reader = new FrameReader((op, p) => got.push([op, p.toString('latin1')]));
  return { reader, got };
}

describe('FrameReader', () => {
  it('reads frames of every length class whatever the chunk boundaries', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 0, max: 125 }), fc.integer({ min: 126, max: 70_000 })), { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 4000 }), { minLength: 1, maxLength: 30 }),
        (lengths, cuts) => {
          const payloads = lengths.map((n, i) => Buffer.alloc(n, 65 + (i % 26)));
          const stream = Buffer.concat(payloads.map((p, i) => encodeServerFrame(i % 2 ? Opcode.TEXT : Opcode.BINARY, p)));
          const { reader, got } = collect();
          let off = 0;
          let c = 0;
          while (off < stream.length) {
            const n = cuts[c++ % cuts.length]!;
            reader.push(stream.subarray(off, off + n));
            off += n;
          }
          expect(got.map(([, p]) => p.length)).toEqual(lengths);
          expect(got.map(([op]) => op)).toEqual(lengths.map((_, i) => (i % 2 ? Opcode.TEXT : Opcode.BINARY)));
          expect(got.map(([, p]) => p)).toEqual(payloads.map((p) => p.toString('latin1')));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('reassembles fragmented messages and delivers control frames between fragments', () => {
    const { reader, got } = collect();
    reader.push(Buffer.concat([
      encodeServerFrame(Opcode.TEXT, 'hel', false),
      encodeServerFrame(Opcode.PING, 'p'),
      encodeServerFrame(Opcode.CONTINUATION, 'lo ', false),
      encodeServerFrame(Opcode.CONTINUATION, 'world', true),
    ]));
    expect(got).toEqual([[Opcode.PING, 'p'], [Opcode.TEXT, 'hello world']]);
  });

  it('unmasks masked frames (what a server reads from this client)', () => {
    const { reader, got } = collect();
    const mask = Buffer.from([1, 2, 3, 4]);
    reader.push(encodeClientFrame(Opcode.TEXT, 'x'.repeat(300), mask));
    expect(got).toEqual([[Opcode.TEXT, 'x'.repeat(300)]]);
  });

  it('refuses protocol violations with FrameError', () => {
    expect(() => collect().reader.push(encodeServerFrame(Opcode.CONTINUATION, 'x'))).toThrow(FrameError);
    expect(() => collect().reader.push(encodeServerFrame(Opcode.PING, 'x', false))).toThrow(FrameError);
    expect(() => collect().reader.push(encodeServerFrame(0x3, 'x'))).toThrow(FrameError);
    const small = new FrameReader(() => undefined, 10);
    expect(() => small.push(encodeServerFrame(Opcode.BINARY, Buffer.alloc(11)))).toThrow(/over the limit/);
  });

  it('parses the upgrade response only once the header block is complete', () => {
    const head = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n';
    expect(parseUpgradeResponse(Buffer.from(head))).toBeNull();
    const res = parseUpgradeResponse(Buffer.concat([Buffer.from(head + '\r\n'), encodeServerFrame(Opcode.TEXT, 'hi')]));
    expect(res?.status).toBe(101);
    expect(res?.rest.length).toBe(4);
    expect(parseUpgradeResponse(Buffer.from('HTTP/1.1 503 Service Unavailable\r\n\r\n'))?.status).toBe(503);
  });
});

describe('Socket.IO packets', () => {
  it('parses open, ping, connect and events (with namespace and ack id)', () => {
    expect(parseSioPacket('0{"sid":"a"}')).toEqual({ kind: 'open', data: '{"sid":"a"}' });
    expect(parseSioPacket('2')).toEqual({ kind: 'ping' });
    expect(parseSioPacket('40{"sid":"b"}')).toEqual({ kind: 'connect', data: '{"sid":"b"}' });
    expect(parseSioPacket('42["tick",{"now":1}]')).toEqual({ kind: 'event', name: 'tick', args: [{ now: 1 }] });
    expect(parseSioPacket('42/admin,17["result",{"a":1},2]')).toEqual({ kind: 'event', name: 'result', args: [{ a: 1 }, 2] });
    expect(parseSioPacket(sioEvent('subscribe', { rooms: ['r'] }))).toEqual({ kind: 'event', name: 'subscribe', args: [{ rooms: ['r'] }] });
    expect(parseSioPacket('41').kind).toBe('other');
  });
});

describe('LightClient against real servers', () => {
  const closers: Array<() => Promise<void>> = [];
  afterAll(async () => { for (const c of closers) await c(); });

  const listen = (srv: http.Server) => new Promise<number>((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as { port: number }).port)));

  it('talks to a ws server: subscribe in msgpack, binary and text replies, ping answered', async () => {
    const srv = http.createServer();
    const wss = new WebSocketServer({ server: srv, path: '/ws' });
    closers.push(async () => { wss.close(); await new Promise((r) => srv.close(r)); });
    const packr = new Packr({ useRecords: false });
    const pong = new Promise<void>((resolve) => {
      wss.on('connection', (ws) => {
        ws.on('pong', () => resolve());
        ws.on('message', (data, isBinary) => {
          const sub = isBinary ? (packr.unpack(data as Buffer) as { type: string; rooms: string[] }) : null;
          ws.ping();
          ws.send(packr.pack({ type: 'tick', room: sub?.rooms[0], now: 1000 }));
          ws.send(JSON.stringify({ type: 'result', room: sub?.rooms[0], endsAt: 2000, big: 'y'.repeat(70_000) }));
        });
      });
    });
    const port = await listen(srv);
    const got: Array<Record<string, unknown>> = [];
    const done = new Promise<void>((resolve, reject) => {
      const c = new LightClient({
        host: '127.0.0.1', port, dialect: 'fived', format: 'binary', rooms: ['fiveD_60'],
        onMessage: (m, t) => { expect(t).toBeGreaterThan(1.6e12); got.push(m); if (got.length === 2) { c.close(); resolve(); } },
        onReady: () => undefined, onClose: (r) => reject(new Error(r)),
      });
    });
    await Promise.all([done, pong]);
    expect(got[0]).toEqual({ type: 'tick', room: 'fiveD_60', now: 1000 });
    expect(got[1]!.type).toBe('result');
    expect((got[1]!.big as string).length).toBe(70_000);
  });

  it('talks Engine.IO/Socket.IO to a real Socket.IO 4 server over its websocket transport', async () => {
    const srv = http.createServer();
    const io = new IoServer(srv, { pingInterval: 200, pingTimeout: 1000 });
    closers.push(async () => { io.close(); await new Promise((r) => srv.close(() => r(undefined))); });
    io.on('connection', (socket) => {
      socket.on('subscribe', async (msg: { rooms: string[] }) => {
        await socket.join(msg.rooms);
        // wait past a ping so the client must answer it (else the server drops the socket)
        setTimeout(() => io.to(msg.rooms[0]!).emit('result', { type: 'result', periodId: '20250731000000001', endsAt: 5 }), 500);
      });
    });
    const port = await listen(srv);
    const msg = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const c = new LightClient({
        host: '127.0.0.1', port, dialect: 'sio', format: 'text', rooms: ['fiveD_60'],
        onMessage: (m) => { c.close(); resolve(m); }, onReady: () => undefined, onClose: (r) => reject(new Error(r)),
      });
    });
    expect(msg).toEqual({ type: 'result', periodId: '20250731000000001', endsAt: 5 });
  });

  it('speaks the compat dialect: token in CONNECT, joinGame, timeUpdate and periodResult as tick and result', async () => {
    const srv = http.createServer();
    const io = new IoServer(srv, { pingInterval: 200, pingTimeout: 1000 });
    closers.push(async () => { io.close(); await new Promise((r) => srv.close(() => r(undefined))); });
    io.use((socket, next) => (socket.handshake.auth.token === 'bench-token' ? next() : next(new Error('Invalid JWT format'))));
    io.on('connection', (socket) => {
      socket.on('joinGame', (p: { gameType: string; duration: number }) => {
        expect(p).toEqual({ gameType: 'fiveD', duration: 60 });
        socket.emit('timeUpdate', { periodId: '20250731000000001', timestamp: '2025-07-31T00:00:59.000Z', endTime: '2025-07-31T00:01:00.000Z', timeRemaining: 1 });
        setTimeout(() => socket.emit('periodResult', { periodId: '20250731000000001', result: { A: 1 } }), 300);
      });
    });
    const port = await listen(srv);
    const got: Array<Record<string, unknown>> = [];
    await new Promise<void>((resolve, reject) => {
      const c = new LightClient({
        host: '127.0.0.1', port, dialect: 'compat', format: 'text', rooms: ['fiveD_60'], token: 'bench-token',
        onMessage: (m) => { got.push(m); if (m.type === 'result') { c.close(); resolve(); } }, onReady: () => undefined, onClose: (r) => reject(new Error(r)),
      });
    });
    expect(got).toEqual([
      { type: 'tick', now: Date.parse('2025-07-31T00:00:59.000Z') },
      { type: 'result', periodId: '20250731000000001', endsAt: Date.parse('2025-07-31T00:01:00.000Z') },
    ]);
  });

  it('decodeFived reads both wire formats', () => {
    const packr = new Packr({ useRecords: false });
    expect(decodeFived(Opcode.BINARY, packr.pack({ type: 'tick', now: 1 }))).toEqual({ type: 'tick', now: 1 });
    expect(decodeFived(Opcode.TEXT, Buffer.from('{"type":"pong"}'))).toEqual({ type: 'pong' });
    expect(decodeFived(Opcode.TEXT, Buffer.from('3'))).toBeNull();
  });
});
