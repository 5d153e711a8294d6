// The Socket.IO compatibility layer (issue 15, docs/socketio.md): a real Socket.IO server
// (npm `socket.io`, Engine.IO 4 / Socket.IO 5) on the gateway's own uWebSockets.js app and port,
// path /socket.io/, WebSocket and polling transports, the replaced system's ping settings. It
// reuses the gateway's rooms, clock, results, store, limits and reveal gate: no second engine, no
// Socket.IO adapter. On by default; FIVED_SOCKETIO=false leaves it out.

import { createRequire } from 'node:module';
import { Server, type Socket } from 'socket.io';
import type { GatewayContext } from '../context.js';
import type { GatewayLimits } from '../limits.js';
import type { Periods } from '../periods.js';
import type { TemplatedApp } from '../uws.js';
import { AUTH_TEXT, CompatAuthError, CompatVerifier, findToken } from './auth.js';
import { RateBucket } from '../ratelimit.js';
import { errorEvent, OUT, iso } from './events.js';
import { Fanout } from './fanout.js';
import { attachHandlers } from './handlers.js';
import { SocketIoMirror } from './mirror.js';
import { mountCompatRest } from './rest.js';

export const SOCKETIO_PATH = '/socket.io/';
/** the replaced system's settings (docs/socketio.md) */
export const PING_INTERVAL_MS = 25_000;
export const PING_TIMEOUT_MS = 60_000;
export const MAX_HTTP_BUFFER = 1e6;

export interface SocketIoHandle {
  /** disconnect every Socket.IO client (they reconnect, through HAProxy, to another gateway) */
  drain(): void;
  stop(): Promise<void>;
}

interface SocketState {
  userId: string;
  remote: string;
  expiry: NodeJS.Timeout | null;
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
  const io = new Server({
    path: SOCKETIO_PATH.slice(0, -1), serveClient: false, transports: ['polling', 'websocket'], allowEIO3: false,
    pingInterval: PING_INTERVAL_MS, pingTimeout: PING_TIMEOUT_MS, maxHttpBufferSize: MAX_HTTP_BUFFER, cors: corsOf(cfg.origins),
    // the session id as a cookie in the first answer: HAProxy learns sid → gateway from it (docs/socketio.md)
    cookie: { name: 'io', path: '/', httpOnly: true, sameSite: 'lax' },
  });
  // engine.io passes maxBackpressure on to the uWS WebSocket route (a publish skips a socket past it)
  io.attachApp(app, { maxBackpressure: cfg.maxBackpressureBytes } as Parameters<Server['attachApp']>[1]);
  undoAdapterPatch();
  const fanout = new Fanout(app, ctx.rooms.map((r) => r.name));
  ctx.hub.addMirror(new SocketIoMirror(ctx, periods, fanout));
  mountCompatRest(app, ctx, verifier);

  io.use(admit(ctx, limits, fanout, verifier));

  io.on('connection', (socket: Socket) => {
    const st = socket.data as SocketState & { expiresAt: number };
    // the handshake is built (socket.handshake): the first HTTP request is not needed any more
    // (socket.io's advice for memory per connection)
    (socket.conn as unknown as { request: unknown }).request = null;
    limits.connsPerIp.inc(st.remote);
    fanout.addUser(socket, st.userId);
    ctx.metrics.socketIoConnections.set(fanout.connections);
    // a token's end ends the connection, as on fived's own WebSocket
    st.expiry = setTimeout(() => socket.disconnect(true), Math.max(0, st.expiresAt - clock.now()));
    st.expiry.unref();
    socket.on('disconnect', () => {
      if (st.expiry) clearTimeout(st.expiry);
      limits.connsPerIp.dec(st.remote);
      fanout.remove(socket, st.userId);
      ctx.metrics.socketIoConnections.set(fanout.connections);
    });
    // the per-connection message rate of fived's WebSocket (FIVED_RATE_LIMIT): over it an `error`,
    // far over it the connection is closed
    const bucket = new RateBucket(cfg.rateLimitPerS, clock.now());
    socket.use((_packet, next) => {
      const verdict = bucket.take(clock.now());
      if (verdict === 'ok') return next();
      if (verdict === 'flood') socket.disconnect(true);
      else socket.emit(OUT.ERROR, errorEvent(`Too many requests: over ${cfg.rateLimitPerS} messages per second (FIVED_RATE_LIMIT)`, 'RATE_LIMITED'));
    });
    attachHandlers(socket, st.userId, { ctx, periods, fanout, limits });
    socket.emit(OUT.CONNECTED, {
      message: 'Connected to DueWin game server (Multi-Instance)', timestamp: iso(clock.now()), mode: 'MULTI_INSTANCE_SETUP',
      supportedGames: ['fiveD'], bettingEnabled: true, connectionId: socket.id,
    });
  });

  return {
    // the connection is closed under the Socket.IO session ("transport close" at the client), not
    // ended by the server ("io server disconnect"): socket.io-client reconnects on its own only
    // after the former, and HAProxy sends it to another gateway
    drain: () => {
      for (const s of io.sockets.sockets.values()) s.conn.close();
    },
    stop: async () => {
      io.disconnectSockets(true);
      io.engine.close();
    },
  };
}

/** The connection middleware: the token (auth.ts), then draining and the limits; refusals are connect_error texts. */
function admit(ctx: GatewayContext, limits: GatewayLimits, fanout: Fanout, verifier: CompatVerifier) {
  return (socket: Socket, next: (err?: Error) => void): void => {
    const remote = limits.address.resolve(String(socket.handshake.address ?? ''), String(socket.handshake.headers['x-forwarded-for'] ?? ''));
    verifier.verify(findToken(socket.handshake)).then((id) => {
      if (ctx.draining) return next(new Error('Server shutting down - reconnect'));
      const over = overLimit(ctx, limits, fanout, remote, id.userId);
      if (over !== null) return next(new Error(over));
      socket.data = { userId: id.userId, remote, expiry: null, expiresAt: id.expiresAt };
      next();
    }, (err: unknown) => next(new Error(err instanceof CompatAuthError ? err.message : AUTH_TEXT.INTERNAL)));
  };
}

function overLimit(ctx: GatewayContext, limits: GatewayLimits, fanout: Fanout, remote: string, userId: string): string | null {
  const { cfg, hub } = ctx;
  if (cfg.maxConnsPerIp > 0 && limits.connsPerIp.get(remote) >= cfg.maxConnsPerIp) {
    ctx.metrics.refused.inc({ reason: 'conns_per_ip' });
    return `Too many connections from this address (at most ${cfg.maxConnsPerIp}, FIVED_MAX_CONNS_PER_IP)`;
  }
  const mine = (hub.userSockets(userId)?.size ?? 0) + fanout.userSockets(userId).size;
  if (cfg.maxSocketsPerUser > 0 && mine >= cfg.maxSocketsPerUser) {
    ctx.metrics.refused.inc({ reason: 'sockets_per_user' });
    return `Too many connections for this user (at most ${cfg.maxSocketsPerUser}, FIVED_MAX_SOCKETS_PER_USER)`;
  }
  return null;
}
