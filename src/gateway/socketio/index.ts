// The Socket.IO compatibility layer (issue 15, docs/socketio.md): a real Socket.IO server
// (npm `socket.io`, Engine.IO 4 / Socket.IO 5) on the gateway's own uWebSockets.js app and port,
// path /socket.io/, WebSocket and polling transports, the replaced system's ping settings. It
// reuses the gateway's rooms, clock, results, store, limits and reveal gate: no second engine, no
// Socket.IO adapter. On by default; FIVED_SOCKETIO=false leaves it out. Two paths share one
// session, one auth and one handler table (session.ts): a WebSocket opened directly is served
// natively (native.ts), polling and its upgrades by the socket.io package.

import { createRequire } from 'node:module';
import { Server, type Socket } from 'socket.io';
import type { GatewayContext } from '../context.js';
import { ExpiryWheel, type GatewayLimits } from '../limits.js';
import type { Periods } from '../periods.js';
import type { TemplatedApp } from '../uws.js';
import { CompatVerifier } from './auth.js';
import { PackageConn } from './conn.js';
import { Fanout } from './fanout.js';
import { SocketIoMirror } from './mirror.js';
import { NativePath } from './native.js';
import { mountCompatRest } from './rest.js';
import { routeWebSockets, withoutWsRoute } from './route.js';
import { admit, closeSession, dispatch, handshakeRefusal, openSession, unexpected, type SessionDeps } from './session.js';

export const SOCKETIO_PATH = '/socket.io/';
/** the replaced system's settings (docs/socketio.md) */
export const PING_INTERVAL_MS = 25_000;
export const PING_TIMEOUT_MS = 60_000;
export const MAX_HTTP_BUFFER = 1e6;
/** a silent connection is ended at most this long after its token's exp (fived's own WebSocket checks as often); CONNECT deadlines are checked with it */
const EXPIRY_CHECK_MS = 250;

export interface SocketIoHandle {
  /** disconnect every Socket.IO client (they reconnect, through HAProxy, to another gateway) */
  drain(): void;
  stop(): Promise<void>;
}

/** socket.io's attachApp patches its in-memory adapter for uWS room publishes; we publish ourselves (fanout.ts), so that process-wide patch is undone. */
function undoAdapterPatch(): void {
  const require = createRequire(import.meta.url);
  const uws = require(require.resolve('socket.io').replace(/index\.js$/, 'uws.js')) as { restoreAdapter?: () => void };
  uws.restoreAdapter?.();
}

function corsOf(origins: readonly string[]) {
  return { origin: origins.length === 0 ? true : [...origins], methods: ['GET', 'POST'], credentials: true, allowedHeaders: ['Content-Type', 'Authorization', 'X-Auth-Token'] };
}

export function mountSocketIo(app: TemplatedApp, ctx: GatewayContext, periods: Periods, limits: GatewayLimits): SocketIoHandle {
  const { cfg, clock } = ctx;
  const verifier = new CompatVerifier(cfg.jwtSecret, cfg.maxTokenAgeS, () => clock.now());
  const fanout = new Fanout(app, ctx.rooms.map((r) => r.name));
  const d: SessionDeps = { ctx, periods, fanout, limits, verifier, expiry: new ExpiryWheel(clock.now()) };
  const io = new Server({
    path: SOCKETIO_PATH.slice(0, -1), serveClient: false, transports: ['polling', 'websocket'], allowEIO3: false,
    pingInterval: PING_INTERVAL_MS, pingTimeout: PING_TIMEOUT_MS, maxHttpBufferSize: MAX_HTTP_BUFFER, cors: corsOf(cfg.origins),
    // a connection without an admitted CONNECT is closed after this, on both paths (native.ts)
    connectTimeout: cfg.socketIoConnectTimeoutMs,
    // the session id as a cookie in the first answer: HAProxy learns sid → gateway from it (docs/socketio.md)
    cookie: { name: 'io', path: '/', httpOnly: true, sameSite: 'lax' },
    // engine.io asks this at a session's handshake (a polling GET without sid): the address is
    // admitted there, as the native path's at its upgrade, so sessions that never CONNECT are bounded
    allowRequest: (req, answer) => {
      const refusal = handshakeRefusal(d, engineRemote(d, req));
      answer(refusal, refusal === null);
    },
  });
  // engine.io's HTTP route goes on the app; its WebSocket route is taken aside (route.ts) and
  // served behind one /socket.io/ route with the native path. engine.io passes maxBackpressure on
  // to that route (a publish skips a socket past it)
  const engine = withoutWsRoute(app);
  io.attachApp(engine.app, { maxBackpressure: cfg.maxBackpressureBytes } as Parameters<Server['attachApp']>[1]);
  undoAdapterPatch();
  countEngineSessions(io, d);
  const native = new NativePath(d, { pingIntervalMs: PING_INTERVAL_MS, pingTimeoutMs: PING_TIMEOUT_MS, maxPayload: MAX_HTTP_BUFFER, connectTimeoutMs: cfg.socketIoConnectTimeoutMs });
  // one check for every connection's token expiry and CONNECT deadline (a timer per connection cost memory per connection)
  const expiryTimer = setInterval(() => {
    const now = clock.now();
    for (const c of d.expiry.due(now)) c.disconnect();
    native.closeUnadmitted(now);
  }, EXPIRY_CHECK_MS);
  expiryTimer.unref();
  routeWebSockets(app, SOCKETIO_PATH, engine.taken(), native, (where, err) => unexpected(ctx, where, err));
  ctx.hub.addMirror(new SocketIoMirror(ctx, periods, fanout));
  mountCompatRest(app, ctx, verifier);
  servePackage(io, d);

  return {
    // the connection is closed under the Socket.IO session ("transport close" at the client), not
    // ended by the server ("io server disconnect"): socket.io-client reconnects on its own only
    // after the former, and HAProxy sends it to another gateway
    drain: () => {
      native.closeAll();
      for (const s of io.sockets.sockets.values()) s.conn.close();
    },
    stop: async () => {
      clearInterval(expiryTimer);
      native.stop();
      io.disconnectSockets(true);
      io.engine.close();
    },
  };
}

type EngineRequest = { headers: Record<string, unknown>; connection?: { remoteAddress?: unknown } };

/** The client address of an engine.io request (behind trusted proxies, X-Forwarded-For's), as the native path and /ws resolve it. */
function engineRemote(d: SessionDeps, req: EngineRequest): string {
  return d.limits.address.resolve(String(req.connection?.remoteAddress ?? ''), String(req.headers['x-forwarded-for'] ?? ''));
}

/** A package-path session holds its place in FIVED_MAX_CONNS_PER_IP from its handshake to its close, CONNECT or not. */
function countEngineSessions(io: Server, d: SessionDeps): void {
  io.engine.on('connection', (session: { request: EngineRequest; once(event: 'close', fn: () => void): void }) => {
    const remote = engineRemote(d, session.request);
    d.limits.connsPerIp.inc(remote);
    session.once('close', () => d.limits.connsPerIp.dec(remote));
  });
}

/** The package path: its connection middleware is the shared admission, its events the shared dispatch. */
function servePackage(io: Server, d: SessionDeps): void {
  const conns = new WeakMap<Socket, PackageConn>();
  io.use((socket, next) => {
    const c = new PackageConn(socket);
    admit(d, socket.handshake).then((id) => {
      conns.set(socket, c);
      socket.data = id;
      next();
    }, (err: Error) => next(err)).catch((err: unknown) => {
      // a throw in either callback would be an unhandled rejection, which ends the process
      unexpected(d.ctx, 'sio-connect', err);
      socket.disconnect(true);
    });
  });
  io.on('connection', (socket: Socket) => {
    const c = conns.get(socket)!;
    // the handshake is built (socket.handshake): the first HTTP request is not needed any more
    // (socket.io's advice for memory per connection)
    (socket.conn as unknown as { request: unknown }).request = null;
    socket.on('disconnect', () => closeSession(d, c));
    // dispatch is the one guard of both paths: nothing a handler throws reaches socket.io's nextTick
    socket.onAny((event: string, payload: unknown) => dispatch(d, c, event, payload));
    try {
      openSession(d, c, socket.data);
    } catch (err) {
      unexpected(d.ctx, 'sio-open', err); // socket.io runs this in a process.nextTick: a throw would end the process
      socket.disconnect(true);
    }
  });
}
