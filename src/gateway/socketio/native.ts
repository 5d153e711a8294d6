// The native path (docs/socketio.md "Two paths"): a client that opens the WebSocket transport
// directly (`/socket.io/?EIO=4&transport=websocket`, no sid; socket.io-client with
// `transports: ['websocket']`) is served by the gateway's own uWS handler, which speaks Engine.IO 4
// / Socket.IO 5 framing itself. Per connection: one small plain object (NativeConn) as the uWS user
// data. Room events reach it through the same pre-encoded uWS topic publish as every WebSocket
// (fanout.ts); auth, limits, handlers and the reveal gate are the shared ones (session.ts).
// Admission happens in two steps: the address at the upgrade (draining, FIVED_MAX_CONNS_PER_IP,
// counted from the upgrade to the close, as fived's own /ws), the token at CONNECT, which must come
// within FIVED_SOCKETIO_CONNECT_TIMEOUT_MS and may be refused at most CONNECT_ATTEMPTS times.
// Pings come from one sweep every PING_INTERVAL_MS for all native connections, not a timer each;
// the CONNECT deadlines are one wheel checked with the token expiries (index.ts), not a timer each.

import { randomBytes } from 'node:crypto';
import { ErrorCode } from '../../errors.js';
import { ExpiryWheel } from '../limits.js';
import { reject } from '../ws-upgrade.js';
import type { HandshakeLike } from './auth.js';
import type { CompatConn } from './conn.js';
import { addressRefusal, admit, closeSession, dispatch, openSession, unexpected, type SessionDeps } from './session.js';
import type { HttpRequest, HttpResponse, WebSocket } from '../uws.js';
import type { RateBucket } from '../ratelimit.js';

export interface EngineSettings {
  pingIntervalMs: number;
  pingTimeoutMs: number;
  maxPayload: number;
  /** a connection not admitted by a CONNECT within this is closed (FIVED_SOCKETIO_CONNECT_TIMEOUT_MS) */
  connectTimeoutMs: number;
}

/**
 * Refused CONNECT packets (a bad token, a limit, another namespace) a connection gets answers to;
 * the last answer is followed by the close. The replaced system's client gives up after one (it
 * closes the connection at its connect_error): a few leave room for a client that tries another
 * namespace or token on the same connection, and none for a token guesser.
 */
export const CONNECT_ATTEMPTS = 3;

/** ids of 20 base64url characters (120 random bits), cut from a pool refilled every 256 ids: no Buffer per id */
let idPool = Buffer.alloc(0);
let idAt = 0;
function newId(): string {
  if (idAt + 15 > idPool.length) {
    idPool = randomBytes(15 * 256);
    idAt = 0;
  }
  idAt += 15;
  return idPool.toString('base64url', idAt - 15, idAt);
}

/** A native connection; its uWS socket's user data is { native: conn } (uWS copies the user data's properties). */
export interface NativeData {
  native: NativeConn;
}

export class NativeConn implements CompatConn {
  readonly path = 'native' as const;
  readonly id = newId();
  ws: WebSocket<NativeData> | null = null;
  /** 0 until CONNECT, 1 while admission runs, 2 admitted, 3 closed */
  state = 0;
  userId = '';
  bucket: RateBucket | null = null;
  pongAt = 0;
  /** CONNECT packets refused so far (CONNECT_ATTEMPTS) */
  refused = 0;

  constructor(
    public remote: string,
    /** the query token and headers, kept only until the CONNECT packet */
    public handshake: HandshakeLike | null,
  ) {}

  get connected(): boolean {
    return this.state === 2;
  }

  uws(): WebSocket<unknown> | null {
    return this.state === 3 ? null : this.ws;
  }

  send(frame: string): void {
    if (this.state !== 3) this.ws?.send(frame, false);
  }

  emit(event: string, payload: unknown): void {
    this.send(`42${JSON.stringify([event, payload])}`);
  }

  later(event: string, payload: unknown): void {
    if (this.state !== 2 || !this.ws) return;
    const frame = `42${JSON.stringify([event, payload])}`;
    this.ws.cork(() => this.send(frame));
  }

  write(packet: string): void {
    this.send(`4${packet}`);
  }

  closeTransport(): void {
    if (this.state !== 3) this.ws?.end(1000);
  }

  disconnect(): void {
    if (this.state === 3) return;
    this.send('41');
    this.ws?.end(1000);
  }
}

/** The query of a request the native path serves (Engine.IO 4, WebSocket transport, no session id), else null. */
export function nativeQuery(req: HttpRequest): Record<string, string> | null {
  const q = new URLSearchParams(req.getQuery() ?? '');
  return q.get('EIO') === '4' && q.get('transport') === 'websocket' && !q.get('sid') ? Object.fromEntries(q) : null;
}

export class NativePath {
  private readonly open = new Set<NativeConn>();
  private readonly sweep: NodeJS.Timeout;
  /** the CONNECT deadline of every connection not admitted yet */
  private readonly unadmitted: ExpiryWheel<NativeConn>;

  constructor(private readonly d: SessionDeps, private readonly e: EngineSettings) {
    this.sweep = setInterval(() => this.pingAll(), e.pingIntervalMs);
    this.sweep.unref();
    this.unadmitted = new ExpiryWheel(d.ctx.clock.now());
  }

  get size(): number {
    return this.open.size;
  }

  /** Synchronous: everything needed is read from req here (the token's check waits for CONNECT). */
  upgrade(res: HttpResponse, req: HttpRequest, context: unknown, query: Record<string, string>): void {
    const headers: Record<string, string> = {};
    for (const h of ['authorization', 'x-auth-token']) {
      const v = req.getHeader(h);
      if (v !== '') headers[h] = v;
    }
    let remote = '';
    try {
      remote = this.d.limits.address.resolve(Buffer.from(res.getRemoteAddressAsText()).toString(), req.getHeader('x-forwarded-for'));
    } catch {
      remote = '';
    }
    // the address is admitted here, before any CONNECT, as on fived's own /ws (ws-upgrade.ts):
    // a connection that never sends CONNECT takes its place in FIVED_MAX_CONNS_PER_IP too
    if (this.d.ctx.draining) return reject(res, '503 Service Unavailable', ErrorCode.NOT_READY, 'gateway draining; reconnect');
    const over = addressRefusal(this.d, remote);
    if (over !== null) return reject(res, '429 Too Many Requests', ErrorCode.RATE_LIMITED, over);
    const conn = new NativeConn(remote, { query, headers });
    res.upgrade<NativeData>({ native: conn }, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context as never);
  }

  /** Inside res.upgrade (synchronous): the address's count is taken with the check above, and given back once, in onClose. */
  onOpen(ws: WebSocket<NativeData>): void {
    const c = ws.getUserData().native;
    c.ws = ws;
    c.pongAt = this.d.ctx.clock.now();
    this.d.limits.connsPerIp.inc(c.remote);
    this.open.add(c);
    this.unadmitted.add(c, c.pongAt + this.e.connectTimeoutMs);
    const { pingIntervalMs: pingInterval, pingTimeoutMs: pingTimeout, maxPayload } = this.e;
    c.send(`0${JSON.stringify({ sid: newId(), upgrades: [], pingInterval, pingTimeout, maxPayload })}`);
  }

  onMessage(ws: WebSocket<NativeData>, message: ArrayBuffer, isBinary: boolean): void {
    const c = ws.getUserData().native;
    if (isBinary) return c.closeTransport(); // no binary events in this protocol
    const text = Buffer.from(message).toString('utf8');
    switch (text[0]) {
      case '3': // pong
        c.pongAt = this.d.ctx.clock.now();
        return;
      case '4':
        return this.onPacket(c, text.slice(1));
      case '1': // Engine.IO close
        return c.closeTransport();
      default:
        return; // noop (6), a client ping (2): nothing to do
    }
  }

  onClose(ws: WebSocket<NativeData>): void {
    const c = ws.getUserData().native;
    const was = c.state;
    c.state = 3;
    if (!this.open.delete(c)) return; // never opened: nothing counted
    this.d.limits.connsPerIp.dec(c.remote);
    this.unadmitted.remove(c);
    if (was === 2) closeSession(this.d, c);
  }

  /** A Socket.IO packet: CONNECT (0), DISCONNECT (1), EVENT (2, an ack id is ignored: no handler acknowledges). */
  private onPacket(c: NativeConn, p: string): void {
    const type = p[0];
    let rest = p.slice(1);
    if (rest.startsWith('/')) {
      const comma = rest.indexOf(',');
      const nsp = comma < 0 ? rest : rest.slice(0, comma);
      if (nsp !== '/') return void (type === '0' ? this.refuse(c, `44${nsp},{"message":"Invalid namespace"}`) : undefined);
      rest = comma < 0 ? '' : rest.slice(comma + 1);
    }
    if (type === '0') return this.onConnect(c, rest);
    if (type === '1') return c.closeTransport();
    if (type !== '2' || c.state !== 2) return;
    const at = rest.search(/[^0-9]/); // skip an ack id
    let args: unknown;
    try {
      args = JSON.parse(at <= 0 ? rest : rest.slice(at));
    } catch {
      return c.closeTransport(); // a parse error ends the connection, as in socket.io
    }
    if (!Array.isArray(args) || typeof args[0] !== 'string') return c.closeTransport();
    dispatch(this.d, c, args[0], args[1]);
  }

  private onConnect(c: NativeConn, body: string): void {
    if (c.state !== 0) return;
    let auth: unknown = {};
    try {
      if (body !== '') auth = JSON.parse(body);
    } catch {
      return c.closeTransport();
    }
    const handshake = { ...c.handshake, auth: typeof auth === 'object' && auth !== null ? (auth as Record<string, unknown>) : {} };
    c.state = 1;
    admit(this.d, handshake).then((id) => {
      if (c.state !== 1) return;
      c.state = 2;
      c.handshake = null;
      this.unadmitted.remove(c);
      c.ws!.cork(() => {
        c.send(`40${JSON.stringify({ sid: c.id })}`);
        openSession(this.d, c, id);
      });
    }, (err: Error) => {
      if (c.state !== 1) return;
      c.state = 0; // the client may try CONNECT again on the same connection, CONNECT_ATTEMPTS in all
      c.ws!.cork(() => this.refuse(c, `44${JSON.stringify({ message: err.message })}`));
    }).catch((err: unknown) => {
      // a throw in either callback would be an unhandled rejection, which ends the process
      unexpected(this.d.ctx, 'sio-connect', err);
      c.closeTransport();
    });
  }

  /** A refused CONNECT's answer (connect_error at the client); the last one allowed ends the connection. */
  private refuse(c: NativeConn, frame: string): void {
    c.send(frame);
    if (++c.refused >= CONNECT_ATTEMPTS) c.closeTransport();
  }

  /** The connections whose CONNECT deadline has passed are closed (called with the token expiries' check, index.ts). */
  closeUnadmitted(now: number): void {
    for (const c of this.unadmitted.due(now)) c.closeTransport();
  }

  /** One sweep: the Engine.IO ping to every native connection; one silent past interval + timeout is closed. */
  private pingAll(): void {
    const now = this.d.ctx.clock.now();
    const dead = now - (this.e.pingIntervalMs + this.e.pingTimeoutMs);
    for (const c of this.open) {
      if (c.pongAt < dead) c.closeTransport();
      else c.ws?.cork(() => c.send('2'));
    }
  }

  /** Every native connection closed under its session (a drain): the clients reconnect elsewhere. */
  closeAll(): void {
    for (const c of [...this.open]) c.closeTransport();
  }

  stop(): void {
    clearInterval(this.sweep);
    for (const c of [...this.open]) c.disconnect();
  }
}
