// A Socket.IO session, the same on both paths (docs/socketio.md "Two paths"): the client address
// admitted at the transport's handshake, then the CONNECT packet (the token by the replaced
// system's rules, then draining and the per-user limit; a refusal is a connect_error text),
// the open (limits, fan-out, token expiry, `connected`), every incoming event (the per-connection
// message rate, then the one handler table behind one guard) and the close.

import { AUTH_TEXT, CompatAuthError, findToken, type CompatIdentity, type CompatVerifier, type HandshakeLike } from './auth.js';
import type { GatewayContext } from '../context.js';
import type { ExpiryWheel, GatewayLimits } from '../limits.js';
import type { Periods } from '../periods.js';
import { RateBucket } from '../ratelimit.js';
import type { CompatConn } from './conn.js';
import { errorEvent, iso, OUT } from './events.js';
import type { Fanout } from './fanout.js';
import { HANDLERS } from './handlers.js';

export interface SessionDeps {
  ctx: GatewayContext;
  periods: Periods;
  fanout: Fanout;
  limits: GatewayLimits;
  verifier: CompatVerifier;
  /** token expiries of every admitted connection, one shared check for all (no timer per connection) */
  expiry: ExpiryWheel<CompatConn>;
}

/**
 * Who may connect: resolves the identity, or rejects with an Error whose message is the
 * connect_error text. The client address was admitted before any CONNECT, at the transport's
 * handshake (handshakeRefusal): a native connection's WebSocket upgrade (native.ts), a package
 * session's engine.io handshake (index.ts). Each holds its place in FIVED_MAX_CONNS_PER_IP from
 * there to its close, so connections that never CONNECT are bounded too; the CONNECT deadline
 * (FIVED_SOCKETIO_CONNECT_TIMEOUT_MS) ends them on both paths.
 */
export async function admit(d: SessionDeps, handshake: HandshakeLike): Promise<CompatIdentity> {
  let id: CompatIdentity;
  try {
    id = await d.verifier.verify(findToken(handshake));
  } catch (err) {
    throw new Error(err instanceof CompatAuthError ? err.message : AUTH_TEXT.INTERNAL);
  }
  if (d.ctx.draining) throw new Error(DRAINING_TEXT);
  const over = userRefusal(d, id.userId);
  if (over !== null) throw new Error(over);
  return id;
}

const DRAINING_TEXT = 'Server shutting down - reconnect';

/** Why a package session's engine.io handshake is refused (draining, FIVED_MAX_CONNS_PER_IP), or null. */
export function handshakeRefusal(d: SessionDeps, remote: string): string | null {
  return d.ctx.draining ? DRAINING_TEXT : addressRefusal(d, remote);
}

/** Why one more connection from this address is refused (FIVED_MAX_CONNS_PER_IP, counted on both protocols), or null. */
export function addressRefusal({ ctx, limits }: SessionDeps, remote: string): string | null {
  const { cfg } = ctx;
  if (cfg.maxConnsPerIp > 0 && limits.connsPerIp.get(remote) >= cfg.maxConnsPerIp) {
    ctx.metrics.refused.inc({ reason: 'conns_per_ip' });
    return `Too many connections from this address (at most ${cfg.maxConnsPerIp}, FIVED_MAX_CONNS_PER_IP)`;
  }
  return null;
}

function userRefusal({ ctx, fanout }: SessionDeps, userId: string): string | null {
  const { cfg, hub } = ctx;
  const mine = (hub.userSockets(userId)?.size ?? 0) + fanout.userSockets(userId).size;
  if (cfg.maxSocketsPerUser > 0 && mine >= cfg.maxSocketsPerUser) {
    ctx.metrics.refused.inc({ reason: 'sockets_per_user' });
    return `Too many connections for this user (at most ${cfg.maxSocketsPerUser}, FIVED_MAX_SOCKETS_PER_USER)`;
  }
  return null;
}

/** An admitted connection: counted, in the fan-out, ended at its token's expiry, greeted with `connected`. */
export function openSession(d: SessionDeps, c: CompatConn, id: CompatIdentity): void {
  const { ctx, fanout, expiry } = d;
  const now = ctx.clock.now();
  c.userId = id.userId;
  c.bucket = new RateBucket(ctx.cfg.rateLimitPerS, now);
  fanout.addUser(c);
  ctx.metrics.socketIoConnections.set(fanout.connections);
  ctx.metrics.socketIoOpened.inc({ path: c.path });
  // a token's end ends the connection, as on fived's own WebSocket (the wheel is checked by index.ts)
  expiry.add(c, id.expiresAt);
  c.emit(OUT.CONNECTED, {
    message: 'Connected to DueWin game server (Multi-Instance)', timestamp: iso(now), mode: 'MULTI_INSTANCE_SETUP',
    supportedGames: ['fiveD'], bettingEnabled: true, connectionId: c.id,
  });
}

export function closeSession({ ctx, fanout, expiry }: SessionDeps, c: CompatConn): void {
  expiry.remove(c);
  fanout.remove(c);
  ctx.metrics.socketIoConnections.set(fanout.connections);
}

/**
 * An event from an admitted connection: the per-connection message rate of fived's WebSocket
 * (FIVED_RATE_LIMIT: over it an `error`, far over it the connection is closed), then the handler.
 * The one guard of both paths: a handler that throws (whatever a payload holds) is counted, logged
 * and answered with `error` {code:"PROCESSING_ERROR"}; it never reaches the event loop (on the
 * package path this runs in socket.io's process.nextTick, where a throw ends the process).
 */
export function dispatch(d: SessionDeps, c: CompatConn, event: string, payload: unknown): void {
  const { cfg, clock } = d.ctx;
  const verdict = c.bucket?.take(clock.now()) ?? 'ok';
  if (verdict === 'flood') return c.disconnect();
  if (verdict === 'limited') return c.emit(OUT.ERROR, errorEvent(`Too many requests: over ${cfg.rateLimitPerS} messages per second (FIVED_RATE_LIMIT)`, 'RATE_LIMITED'));
  const handler = HANDLERS.get(event);
  if (!handler) return;
  try {
    handler(c, payload, d);
  } catch (err) {
    unexpected(d.ctx, 'sio-handler', err, { event });
    try {
      c.emit(OUT.ERROR, errorEvent('Failed to process request due to server error', 'PROCESSING_ERROR'));
    } catch (again) {
      unexpected(d.ctx, 'sio-handler', again, { event });
    }
  }
}

/** An unexpected failure in the layer: counted (fived_gateway_errors_total{where}) and logged, never thrown on. */
export function unexpected(ctx: GatewayContext, where: string, err: unknown, fields: Record<string, unknown> = {}): void {
  ctx.metrics.errors.inc({ where });
  ctx.logger.error({ err, where, ...fields }, `socket.io ${where} failed`);
}
