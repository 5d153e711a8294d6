// The two paths of the Socket.IO layer (docs/socketio.md "Two paths"), on a real `fived all`
// process: a client that opens the WebSocket transport directly is served by the gateway's native
// handler, polling and its upgrade to WebSocket by the socket.io package; the metric
// fived_gateway_socketio_opened_total{path} tells which one served each client. The raw frames of
// the native path (open packet, CONNECT with the auth payload, events, namespaces) are checked with
// a bare WebSocket. Both paths share one guard around the handlers (a hostile payload is answered,
// the process lives on), and the native path admits a client address at the upgrade and bounds
// what a connection may do before its CONNECT is admitted (a deadline, a few refused attempts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { http, spawnFived, waitUntil, type FivedProcess } from './support/deploy.js';
import { freePort } from './support/ports.js';
import { claimsToken, SioPlayer, type SioOptions } from './support/sio.js';

const SECRET = 'socketio-paths-secret-0123456789';

/** A bare WebSocket that records text frames and awaits the next one. */
class Raw {
  readonly ws: WebSocket;
  private frames: string[] = [];
  private waiting: ((f: string) => void) | null = null;
  readonly closed: Promise<number>;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on('message', (d) => {
      const f = String(d);
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = null;
        w(f);
      } else this.frames.push(f);
    });
    this.closed = new Promise((resolve) => this.ws.on('close', (code) => resolve(code)));
  }

  /** resolves with the close code, or null if the connection is still open after timeoutMs */
  closedWithin(timeoutMs: number): Promise<number | null> {
    return Promise.race([this.closed, new Promise<null>((resolve) => setTimeout(() => resolve(null), timeoutMs))]);
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }

  next(timeoutMs = 10_000): Promise<string> {
    const f = this.frames.shift();
    if (f !== undefined) return Promise.resolve(f);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no frame')), timeoutMs);
      this.waiting = (x) => {
        clearTimeout(t);
        resolve(x);
      };
    });
  }
}

describe('Socket.IO: the native WebSocket path and the socket.io package path', () => {
  let proc: FivedProcess;
  let port = 0;
  const players: SioPlayer[] = [];
  const raws: Raw[] = [];

  beforeAll(async () => {
    port = await freePort();
    proc = spawnFived(`sio-paths-${port}`, ['all'], { FIVED_PORT: String(port), FIVED_HOST: '127.0.0.1', FIVED_LOG_LEVEL: 'warn', FIVED_JWT_SECRET: SECRET, FIVED_DURATIONS: '60', FIVED_MAX_CONNS_PER_IP: '0' });
    await waitUntil('health', async () => ((await http(port, 'GET', '/health').catch(() => ({ status: 0 }))).status === 200 ? true : undefined), 30_000);
  }, 60_000);

  afterAll(async () => {
    for (const p of players) p.close();
    for (const r of raws) r.ws.terminate();
    await proc?.stop();
  });

  const opened = async () => {
    const body = (await http(port, 'GET', '/metrics')).body;
    const of = (path: string) => Number(new RegExp(`^fived_gateway_socketio_opened_total\\{path="${path}"\\} (\\d+)$`, 'm').exec(body)?.[1] ?? 0);
    return { native: of('native'), package: of('package') };
  };
  const player = async (o: Omit<SioOptions, 'auth'>, userId: number) => {
    const p = new SioPlayer(`http://127.0.0.1:${port}`, { ...o, auth: { token: await claimsToken(SECRET, { userId }) } });
    players.push(p);
    return p;
  };

  it('serves a client that opens the WebSocket transport directly natively, with the same events', async () => {
    const before = await opened();
    const p = await player({ transport: 'websocket' }, 9101);
    const hello = await p.next('connected');
    expect(hello.connectionId).toBe(p.socket.id);
    expect(await opened()).toEqual({ native: before.native + 1, package: before.package });
    const joined = await p.ask('joinGame', { gameType: 'fiveD', duration: 60 }, ['joinedGame', 'error']);
    expect(joined.payload).toMatchObject({ roomId: 'fiveD_60', clientCount: 1 });
    // the room's events come through the room's uWS topic
    expect(await p.fresh('timeUpdate', () => true, 5_000)).toMatchObject({ roomId: 'fiveD_60', duration: 60 });
    const pong = await p.ask('ping', undefined, ['pong']);
    expect(pong.payload).toMatchObject({ connectionId: p.socket.id, currentGame: { roomId: 'fiveD_60' } });
    const bad = await p.ask('placeBet', { gameType: 'fiveD', duration: 60, position: 'A', selection: 11, amount: 10 }, ['betSuccess', 'betError']);
    expect(bad).toMatchObject({ event: 'betError', payload: { code: 'INVALID_DATA' } });
  });

  it('leaves polling and the upgrade from polling to WebSocket to the socket.io package', async () => {
    const before = await opened();
    const polling = await player({ transport: 'polling' }, 9102);
    const upgrading = await player({ transport: 'upgrade' }, 9103);
    await polling.next('connected');
    await upgrading.next('connected');
    await waitUntil('the upgrade to WebSocket', async () => (upgrading.socket.io.engine.transport.name === 'websocket' ? true : undefined), 15_000);
    expect(await opened()).toEqual({ native: before.native, package: before.package + 2 });
    // after the upgrade: answers, and the room's events through the same topic
    await upgrading.ask('joinGame', { gameType: 'fiveD', duration: 60 }, ['joinedGame']);
    expect(await upgrading.fresh('timeUpdate', () => true, 5_000)).toMatchObject({ roomId: 'fiveD_60' });
    expect((await upgrading.ask('ping', undefined, ['pong'])).payload.connectionId).toBe(upgrading.socket.id);
  });

  it('speaks Engine.IO 4 / Socket.IO 5 frames: open packet, CONNECT with auth, connect_error, events with an ack id, namespaces, disconnect', async () => {
    const gauge = async () => Number(/^fived_gateway_socketio_connections (\d+)$/m.exec((await http(port, 'GET', '/metrics')).body)?.[1]);
    const before = await gauge();
    const r = new Raw(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
    raws.push(r);
    await r.opened();
    const open = await r.next();
    expect(open[0]).toBe('0');
    expect(JSON.parse(open.slice(1))).toMatchObject({ sid: expect.any(String), upgrades: [], pingInterval: 25_000, pingTimeout: 60_000, maxPayload: 1e6 });
    r.ws.send('40/admin,{}');
    expect(await r.next()).toBe('44/admin,{"message":"Invalid namespace"}');
    r.ws.send('40{"token":"null"}');
    expect(JSON.parse((await r.next()).slice(2))).toEqual({ message: 'Invalid token - frontend sending "null" string' });
    r.ws.send('42["ping"]'); // not connected: ignored
    r.ws.send(`40${JSON.stringify({ token: await claimsToken(SECRET, { sub: 'raw-user' }) })}`);
    const ok = await r.next();
    expect(ok).toMatch(/^40\{"sid":"[\w-]+"\}$/);
    const sid = JSON.parse(ok.slice(2)).sid;
    const connected = JSON.parse((await r.next()).slice(2));
    expect(connected).toEqual(['connected', expect.objectContaining({ connectionId: sid })]);
    expect(await gauge()).toBe(before + 1);
    r.ws.send('4217["ping",{}]'); // an ack id: the event is handled, no ack is owed (no handler acknowledges)
    expect(JSON.parse((await r.next()).slice(2))).toEqual(['pong', expect.objectContaining({ connectionId: sid })]);
    r.ws.send('3'); // a pong is taken silently
    r.ws.send('41');
    expect(await r.closed).toBe(1000);
    await waitUntil('the session closed', async () => ((await gauge()) === before ? true : undefined));
  });

  it('closes a native connection on a frame that does not parse', async () => {
    const r = new Raw(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
    raws.push(r);
    await r.opened();
    await r.next();
    r.ws.send(`40${JSON.stringify({ token: await claimsToken(SECRET, { userId: 9104 }) })}`);
    await r.next();
    await r.next();
    r.ws.send('42["ping"');
    expect(await r.closed).toBe(1000);
  });

  it('answers payloads whose values are objects on both paths, and the process lives on', async () => {
    let exited: number | string | null = null;
    void proc.exited.then((e) => (exited = e));
    for (const [transport, userId] of [['polling', 9107], ['upgrade', 9108], ['websocket', 9109]] as const) {
      const p = await player({ transport }, userId);
      await p.next('connected');
      if (transport === 'upgrade') await waitUntil('the upgrade to WebSocket', async () => (p.socket.io.engine.transport.name === 'websocket' ? true : undefined), 15_000);
      // a toString that is not a function: String() of it threw, outside any guard on the package path
      const join = await p.ask('joinGame', { gameType: { toString: 1 }, duration: 60 }, ['joinedGame', 'error']);
      expect(join, transport).toMatchObject({ event: 'error', payload: { message: 'Invalid game: object 60s', code: 'INVALID_GAME_DURATION' } });
      const info = await p.ask('getPeriodInfo', { gameType: 'fiveD', duration: { toString: 1 } }, ['periodInfoResponse', 'error']);
      expect(info, transport).toMatchObject({ event: 'error', payload: { message: 'Invalid game: fiveD objects', code: 'INVALID_GAME_DURATION' } });
      const left = await p.ask('leaveGame', { gameType: { toString: 1 }, duration: [60] }, ['leftGame']);
      expect(left.payload, transport).toEqual({ roomId: null });
      expect(p.events('disconnect'), transport).toEqual([]);
    }
    expect((await http(port, 'GET', '/health')).status).toBe(200);
    expect(exited).toBeNull();
  });

  it('ends a connection of either path when its token expires (one shared check, no timer per connection)', async () => {
    const r = new Raw(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
    raws.push(r);
    await r.opened();
    await r.next();
    r.ws.send(`40${JSON.stringify({ token: await claimsToken(SECRET, { userId: 9105 }, { expS: 3 }) })}`);
    expect(await r.next()).toMatch(/^40/);
    const p = new SioPlayer(`http://127.0.0.1:${port}`, { transport: 'polling', auth: { token: await claimsToken(SECRET, { userId: 9106 }, { expS: 3 }) } });
    players.push(p);
    await p.next('connected');
    const gone = new Promise<string>((resolve) => p.socket.once('disconnect', (reason) => resolve(reason)));
    // "io server disconnect": the server ended it, the client does not reconnect with the dead token
    let frame = await r.next(10_000);
    while (frame.startsWith('42')) frame = await r.next(10_000); // `connected` first
    expect(frame).toBe('41');
    expect(await r.closed).toBe(1000);
    expect(await gone).toBe('io server disconnect');
  });
});

describe('Socket.IO admission at the transport\'s handshake, bounds before CONNECT', () => {
  const CONNECT_TIMEOUT_MS = 2000;
  let proc: FivedProcess;
  let port = 0;
  const raws: Raw[] = [];

  beforeAll(async () => {
    port = await freePort();
    proc = spawnFived(`sio-admit-${port}`, ['all'], {
      FIVED_PORT: String(port), FIVED_HOST: '127.0.0.1', FIVED_LOG_LEVEL: 'warn', FIVED_JWT_SECRET: SECRET, FIVED_DURATIONS: '60',
      FIVED_MAX_CONNS_PER_IP: '2', FIVED_SOCKETIO_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
    });
    await waitUntil('health', async () => ((await http(port, 'GET', '/health').catch(() => ({ status: 0 }))).status === 200 ? true : undefined), 30_000);
  }, 60_000);

  afterAll(async () => {
    for (const r of raws) r.ws.terminate();
    await proc?.stop();
  });

  const raw = (path = '/socket.io/?EIO=4&transport=websocket') => {
    const r = new Raw(`ws://127.0.0.1:${port}${path}`);
    raws.push(r);
    return r;
  };

  it('answers a few refused CONNECTs on one connection, then closes it', async () => {
    const r = raw();
    await r.opened();
    await r.next(); // the open packet
    const bad = await claimsToken('another-secret-0123456789abcdef', { userId: 9201 });
    const answers: string[] = [];
    let code: number | null = null;
    for (let i = 0; i < 10 && code === null; i++) {
      r.ws.send(`40${JSON.stringify({ token: bad })}`);
      const got = await Promise.race([r.next(5_000), r.closed.then((c) => c)]);
      if (typeof got === 'number') code = got;
      else answers.push(got);
    }
    code ??= await r.closedWithin(2_000);
    // each refusal is the replaced system's connect_error text; after the third the connection is closed
    expect(answers).toEqual(Array(3).fill('44{"message":"Malformed JWT token"}'));
    expect(code).toBe(1000);
  });

  it('counts a native connection in FIVED_MAX_CONNS_PER_IP from its upgrade, and closes it without CONNECT after the deadline', async () => {
    const a = raw();
    await a.opened();
    await a.next();
    a.ws.send(`40${JSON.stringify({ token: await claimsToken(SECRET, { userId: 9202 }) })}`);
    expect(await a.next()).toMatch(/^40\{"sid"/);
    const b = raw(); // never sends CONNECT
    await b.opened();
    const bOpenedAt = Date.now();
    // the address has 2 (one admitted, one not): a third is refused at the handshake, on either route
    await expect(raw().opened()).rejects.toThrow(/429/);
    await expect(raw('/ws').opened()).rejects.toThrow(/429/);
    // the silent connection is closed at its CONNECT deadline (socket.io's connectTimeout)
    expect(await b.closedWithin(CONNECT_TIMEOUT_MS + 3_000)).toBe(1000);
    expect(Date.now() - bOpenedAt).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_MS - 500);
    // its place is given back exactly once: one more fits, the next does not
    const d = raw();
    await d.opened();
    await expect(raw().opened()).rejects.toThrow(/429/);
    expect(await a.closedWithin(0)).toBeNull(); // the admitted one has no deadline
    a.ws.send('41');
    d.ws.send('41'); // a DISCONNECT before CONNECT closes too
    expect(await a.closedWithin(5_000)).toBe(1000);
    expect(await d.closedWithin(5_000)).toBe(1000);
    const e = raw();
    await e.opened();
    const f = raw();
    await f.opened();
  });

  it('counts a polling session in FIVED_MAX_CONNS_PER_IP from its engine.io handshake, CONNECT or not', async () => {
    // before, a package-path session took its place only at an admitted CONNECT: one address could
    // hold any number of sessions that never sent one, each for the CONNECT deadline
    for (const r of raws.splice(0)) r.ws.terminate();
    const handshake = () => http(port, 'GET', '/socket.io/?EIO=4&transport=polling');
    const sidOf = (body: string) => (JSON.parse(body.slice(1)) as { sid: string }).sid;
    const first = await waitUntil('the terminated connections\' places', async () => {
      const h = await handshake();
      return h.status === 200 ? h : undefined;
    }, 10_000);
    const secondAt = Date.now();
    const second = await handshake();
    expect(second.status).toBe(200);
    // the address has 2 sessions, neither sent CONNECT: a third is refused, on every route
    const refused = await handshake();
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toEqual({ code: 4, message: 'Too many connections from this address (at most 2, FIVED_MAX_CONNS_PER_IP)' });
    await expect(raw().opened()).rejects.toThrow(/429/);
    await expect(raw('/ws').opened()).rejects.toThrow(/429/);
    // a session its client closes gives its place back, once
    const closed = await http(port, 'POST', `/socket.io/?EIO=4&transport=polling&sid=${sidOf(first.body)}`, '1', { 'content-type': 'text/plain;charset=UTF-8' });
    expect(closed.status).toBe(200);
    expect((await handshake()).status).toBe(200);
    expect((await handshake()).status).toBe(403);
    // one that never sends CONNECT is ended at its deadline (its long poll answered with the close
    // packet), and its place given back
    const poll = await http(port, 'GET', `/socket.io/?EIO=4&transport=polling&sid=${sidOf(second.body)}`);
    expect(poll).toMatchObject({ status: 200, body: '1' });
    expect(Date.now() - secondAt).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_MS - 500);
    await waitUntil('the place given back', async () => ((await handshake()).status === 200 ? true : undefined), 5_000);
  });
});
