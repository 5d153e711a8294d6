// The uWS loader (native binary or refusal), and the result delivery guard against uWS's silent
// publish drops: a socket over its backpressure limit is skipped by app.publish, so the gateway
// finds such sockets before publishing a result and closes them (BACKPRESSURE) to recover. And the
// hub's boundary hold: a room's frames wait for the ended period's result and follow it.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import type { Socket as NetSocket } from 'node:net';
import { Packr } from 'msgpackr';
import { createRegistry } from '../src/runtime/metrics.js';
import { CloseCode, ServerType } from '../src/protocol.js';
import { Hub, type Socket, type SocketData } from '../src/gateway/hub.js';
import { gatewayMetrics } from '../src/gateway/metrics.js';
import { RateBucket } from '../src/gateway/ratelimit.js';
import { loadUws, type us_listen_socket } from '../src/gateway/uws.js';
import { Client, REPO } from './support/gateway.js';

const cleanups: Array<() => void> = [];
afterAll(() => {
  for (const c of cleanups) c();
});

describe('uWS loader', () => {
  it('loads the native binary in this environment', () => {
    const { native, path } = loadUws({ allowFallback: false });
    expect(native).toBe(true);
    expect(path).toMatch(/binaries[\\/]uws_linux_x64_\d+\.node$/);
  });

  it('refuses the pure-JS fallback unless allowed (E_NATIVE_UWS_MISSING)', () => {
    const script = `
      import { loadUws } from './dist/gateway/uws.js';
      try { loadUws({ allowFallback: false }); console.log('LOADED'); } catch (e) { console.log('CODE', e.code); }
      console.log('ALLOWED', loadUws({ allowFallback: true }).native);`;
    // UWS_USE_FALLBACK makes the package load its fallback, as a missing binary would
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO, env: { PATH: process.env.PATH ?? '', UWS_USE_FALLBACK: 'true' }, encoding: 'utf8', timeout: 20_000 });
    expect(r.stdout).toMatch(/CODE E_NATIVE_UWS_MISSING/);
    expect(r.stdout).toMatch(/ALLOWED false/);
  });
});

/** A hub on a uWS app of its own: every WebSocket client joins fiveD_60. */
async function hubApp(maxBackpressure: number): Promise<{ hub: Hub; sockets: Socket[]; port: number }> {
  const { uws } = loadUws({ allowFallback: false });
  const registry = createRegistry({ defaultMetrics: false });
  const hub = new Hub(gatewayMetrics(registry), ['fiveD_60']);
  const app = uws.App();
  hub.attach(app);
  const sockets: Socket[] = [];
  app.ws<SocketData>('/ws', {
    maxBackpressure,
    closeOnBackpressureLimit: 0,
    upgrade: (res, req, ctx) => {
      res.upgrade<SocketData>(
        { id: sockets.length + 1, userId: null, expiresAt: null, format: 'binary', rooms: new Set(), bucket: new RateBucket(10, Date.now()), malformed: 0, malformedWindow: 0, open: true, remote: '', messages: 0 },
        req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), ctx,
      );
    },
    open: (ws) => {
      hub.add(ws);
      hub.join(ws, 'fiveD_60');
      sockets.push(ws);
    },
    close: (ws) => hub.remove(ws),
  });
  const listen = await new Promise<us_listen_socket>((resolve, reject) => app.listen('127.0.0.1', 0, (s) => (s ? resolve(s) : reject(new Error('listen')))));
  cleanups.push(() => uws.us_listen_socket_close(listen));
  return { hub, sockets, port: uws.us_socket_local_port(listen) };
}

const RESULT = { type: ServerType.RESULT, room: 'fiveD_60', duration: 60, timeline: 'default', periodId: '20250101000000001', digits: [1, 2, 3, 4, 5] as [number, number, number, number, number], sum: 15, seed: 'a'.repeat(64), commitment: 'b'.repeat(64), endsAt: 0 };
const TICK = { type: ServerType.TICK, room: 'fiveD_60', periodId: '20250101000000002', now: 60_000, remainingMs: 60_000, phase: 'betting' as const };

describe('result delivery under backpressure', () => {
  it('closes a socket uWS would skip with BACKPRESSURE, and the others get the result', async () => {
    const MAX_BP = 64 * 1024;
    const { hub, sockets, port } = await hubApp(MAX_BP);

    const fast = await Client.connect(port, { hello: false });
    const slow = await Client.connect(port, { hello: false });
    await expect.poll(() => sockets.length).toBe(2);
    // the slow client stops reading; one large frame fills the kernel buffers and then uWS's
    const tcp = (slow.ws as unknown as { _socket: NetSocket })._socket;
    tcp.pause();
    const slowServer = sockets[1]!;
    slowServer.send(new Packr({ useRecords: false }).pack({ type: 'pad', pad: 'x'.repeat(16 * 1024 * 1024) }), true);
    await expect.poll(() => slowServer.getBufferedAmount(), { timeout: 5000 }).toBeGreaterThan(MAX_BP);

    const result = RESULT;
    const lagging = hub.laggards('fiveD_60', MAX_BP, 512);
    expect(lagging).toEqual([slowServer]);
    hub.broadcast('fiveD_60', result);
    for (const ws of lagging) hub.close(ws, CloseCode.BACKPRESSURE, 'too slow');

    const got = await fast.next((m) => m.type === 'result');
    expect(got.periodId).toBe('20250101000000001');
    tcp.resume();
    // uWS queues the close frame behind the backlog only when it fits under the limit; otherwise
    // the TCP connection just ends (1006). Either way the client reconnects and recovers.
    expect([CloseCode.BACKPRESSURE, 1006]).toContain(await slow.closed);
    expect(slowServer.getUserData().open).toBe(false);
    // uWS skipped it: the slow client never got the result frame, only the pad and the close
    expect(slow.received.some((r) => r.msg.type === 'result')).toBe(false);
    fast.close();
  }, 30_000);
});

describe('results first at a period boundary (hub.holdUntilResult)', () => {
  it('queues the room\'s frames until the result, then sends them right behind it', async () => {
    const { hub, sockets, port } = await hubApp(64 * 1024);
    const c = await Client.connect(port, { hello: false });
    await expect.poll(() => sockets.length).toBe(1);
    hub.holdUntilResult('fiveD_60', 5000);
    hub.broadcast('fiveD_60', TICK);
    // the tick is held: an unheld frame sent now on the same socket arrives first
    sockets[0]!.send(new Packr({ useRecords: false }).pack({ type: 'probe' }), true);
    await c.next((m) => m.type === 'probe');
    expect(c.received.some((r) => r.msg.type === 'tick')).toBe(false);
    hub.broadcast('fiveD_60', RESULT);
    await c.next((m) => m.type === 'tick');
    expect(c.received.map((r) => r.msg.type)).toEqual(['probe', 'result', 'tick']);
    c.close();
  });

  it('lets the frames go after the bound when no result comes', async () => {
    const { hub, sockets, port } = await hubApp(64 * 1024);
    const c = await Client.connect(port, { hello: false });
    await expect.poll(() => sockets.length).toBe(1);
    const t = Date.now();
    hub.holdUntilResult('fiveD_60', 150);
    hub.broadcast('fiveD_60', TICK);
    await c.next((m) => m.type === 'tick');
    expect(Date.now() - t).toBeGreaterThanOrEqual(140);
    expect(c.received.map((r) => r.msg.type)).toEqual(['tick']);
    // released: the next frame is not held
    hub.broadcast('fiveD_60', { ...TICK, now: 61_000 });
    await c.next((m) => m.type === 'tick' && m.now === 61_000, 1000);
    c.close();
  });
});
