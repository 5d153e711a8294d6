// The WebSocket upgrade step: the handshake is copied (every header and the query before the first
// await; onAborted first), checked (connections per address, Connection: Upgrade, draining,
// origin), the token verified, and the upgrade itself waits for an admission turn (admission.ts:
// a burst of handshakes never holds the tick back), where the limits are checked again — the
// authoritative check: open() runs inside res.upgrade, so the counts are exact there. The HELLO
// follows the cork (see complete() for why).

import type { Config } from '../config.js';
import { ErrorCode, toFivedError } from '../errors.js';
import { ServerType, type ServerMessage } from '../protocol.js';
import { Admission } from './admission.js';
import { parseProtocols, type TokenVerifier } from './auth.js';
import type { GatewayContext } from './context.js';
import { guarded, type OnUnexpected } from './guard.js';
import type { Socket, SocketData } from './hub.js';
import type { GatewayLimits } from './limits.js';
import type { Periods } from './periods.js';
import { RateBucket } from './ratelimit.js';
import type { HttpRequest, HttpResponse, us_socket_context_t } from './uws.js';

/** Whether a Connection header value includes the `upgrade` token (RFC 6455 4.2.1; case-insensitive, comma-separated). */
export function upgradeRequested(connection: string): boolean {
  return connection.split(',').some((t) => t.trim().toLowerCase() === 'upgrade');
}

export function originAllowed(cfg: Pick<Config, 'origins'>, origin: string): boolean {
  if (cfg.origins.length === 0) return true;
  return cfg.origins.includes(origin);
}

export function reject(res: HttpResponse, status: string, code: ErrorCode, message: string): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader('content-type', 'application/json').end(JSON.stringify({ code, message }), true);
  });
}

export function internal(res: HttpResponse): void {
  reject(res, '500 Internal Server Error', ErrorCode.INTERNAL, 'internal error');
}

/** What the upgrade keeps of the request (the request itself is invalid after the first await). */
interface Handshake {
  key: string;
  connection: string;
  protocolHeader: string;
  extensions: string;
  origin: string;
  query: URLSearchParams;
  remote: string;
}

interface Identity {
  userId: string | null;
  expiresAt: number | null;
}

function copyHandshake(res: HttpResponse, req: HttpRequest, limits: GatewayLimits): Handshake {
  const hs = {
    key: req.getHeader('sec-websocket-key'),
    connection: req.getHeader('connection'),
    protocolHeader: req.getHeader('sec-websocket-protocol'),
    extensions: req.getHeader('sec-websocket-extensions'),
    origin: req.getHeader('origin'),
    query: new URLSearchParams(req.getQuery() ?? ''),
    remote: '',
  };
  const forwarded = req.getHeader('x-forwarded-for');
  try {
    hs.remote = limits.address.resolve(Buffer.from(res.getRemoteAddressAsText()).toString(), forwarded);
  } catch {
    hs.remote = '';
  }
  return hs;
}

let nextSocketId = 1;

export class Upgrader {
  private readonly admission = new Admission();
  /** true while res.upgrade runs inside its cork, and the socket open() ran for then (all synchronous) */
  private upgrading = false;
  private opened: Socket | null = null;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly periods: Periods,
    private readonly verifier: TokenVerifier,
    private readonly limits: GatewayLimits,
    private readonly unexpected: OnUnexpected,
  ) {}

  hello(d: SocketData): ServerMessage {
    // no instance name: internals stay on the operator endpoints (issue 12 row 12)
    return { type: ServerType.HELLO, serverTime: this.ctx.clock.now(), userId: d.userId, freezeMs: this.ctx.settings.inEffect().settings.freezeMs, rooms: this.periods.roomInfos() };
  }

  /** Why a new socket from this address / of this user is refused, or null. */
  private overLimit(remote: string, userId: string | null): string | null {
    const { cfg, hub } = this.ctx;
    if (cfg.maxConnsPerIp > 0 && this.limits.connsPerIp.get(remote) >= cfg.maxConnsPerIp) return `at most ${cfg.maxConnsPerIp} connections per client address (FIVED_MAX_CONNS_PER_IP)`;
    if (userId !== null && cfg.maxSocketsPerUser > 0 && (hub.userSockets(userId)?.size ?? 0) >= cfg.maxSocketsPerUser) return `at most ${cfg.maxSocketsPerUser} connections per user (FIVED_MAX_SOCKETS_PER_USER); close another one first`;
    return null;
  }

  /** Refuses the handshake before the token is read, or returns false. */
  private refusedEarly(res: HttpResponse, hs: Handshake): boolean {
    const early = this.overLimit(hs.remote, null);
    if (early !== null) {
      this.ctx.metrics.refused.inc({ reason: 'conns_per_ip' });
      reject(res, '429 Too Many Requests', ErrorCode.RATE_LIMITED, early);
      return true;
    }
    // RFC 6455 4.2.1: the handshake's Connection header includes the token "Upgrade". Without it
    // (e.g. `Connection: close`, which uWS takes as "close after this response") uWS may end the
    // connection it has just upgraded (see the res.upgrade in complete())
    if (!upgradeRequested(hs.connection)) reject(res, '400 Bad Request', ErrorCode.BAD_REQUEST, 'a WebSocket handshake needs "Connection: Upgrade"');
    else if (this.ctx.draining) reject(res, '503 Service Unavailable', ErrorCode.NOT_READY, 'gateway draining; reconnect');
    else if (!originAllowed(this.ctx.cfg, hs.origin)) reject(res, '403 Forbidden', ErrorCode.FORBIDDEN, `origin ${JSON.stringify(hs.origin)} not allowed`);
    else return false;
    return true;
  }

  /** The uWS upgrade callback. */
  readonly upgrade = async (res: HttpResponse, req: HttpRequest, context: us_socket_context_t): Promise<void> => {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    const hs = copyHandshake(res, req, this.limits);
    if (this.refusedEarly(res, hs)) return;
    const offered = parseProtocols(hs.protocolHeader);
    const token = offered.token ?? hs.query.get('token');
    const id: Identity = { userId: null, expiresAt: null };
    // the token is never logged (nor the query it may ride in): it is a credential
    if (token !== null && token !== '') {
      try {
        const verified = await this.verifier.verify(token);
        id.userId = verified.userId;
        id.expiresAt = verified.expiresAt;
      } catch (err) {
        if (aborted) return;
        return reject(res, '401 Unauthorized', ErrorCode.UNAUTHORIZED, toFivedError(err).message);
      }
    }
    if (aborted) return;
    const accept = offered.accept ?? '';
    this.admission.admit(() => guarded(this.unexpected, 'ws-upgrade', () => {
      if (!aborted) this.complete(res, hs, id, accept, context);
    }, () => {
      if (!aborted) internal(res);
    }));
  };

  /** In the admission turn: the authoritative checks, then the upgrade and the HELLO. */
  private complete(res: HttpResponse, hs: Handshake, id: Identity, accept: string, context: us_socket_context_t): void {
    const { cfg, clock, hub, metrics } = this.ctx;
    if (this.ctx.draining) return reject(res, '503 Service Unavailable', ErrorCode.NOT_READY, 'gateway draining; reconnect');
    const over = this.overLimit(hs.remote, id.userId);
    if (over !== null) {
      metrics.refused.inc({ reason: id.userId !== null && (hub.userSockets(id.userId)?.size ?? 0) >= cfg.maxSocketsPerUser && cfg.maxSocketsPerUser > 0 ? 'sockets_per_user' : 'conns_per_ip' });
      return reject(res, '429 Too Many Requests', ErrorCode.RATE_LIMITED, over);
    }
    if (id.expiresAt !== null && clock.now() >= id.expiresAt) return reject(res, '401 Unauthorized', ErrorCode.UNAUTHORIZED, 'token expired');
    const data: SocketData = {
      id: nextSocketId++, userId: id.userId, expiresAt: id.expiresAt, format: hs.query.get('format') === 'json' ? 'text' : 'binary', rooms: new Set(),
      bucket: new RateBucket(cfg.rateLimitPerS, clock.now()), malformed: 0, malformedWindow: 0, open: true, remote: hs.remote, messages: 0,
    };
    // uWS 20.30 defect (issue 12 row 13, docs/reliability.md 1g; fixed upstream in uWebSockets
    // PR #1929): res.cork() after an await runs an HTTP epilogue on the socket it started
    // with; the upgrade reallocates that socket in place (a WebSocket's data is smaller than
    // an HTTP response's), cork() cannot tell, and reads the HTTP "close after this response"
    // flag from memory that is now the WebSocket's. When that byte happens to hold the flag
    // it closes the new socket, without a close frame, right after open(). Upgrading without
    // the cork avoids that but costs ~30 one-packet writes per handshake and a uWS warning on
    // stderr each time, so the cork stays and the damage is contained instead: the HELLO is
    // sent only after the cork returned (a socket dropped in it never got one: its client sees
    // a connection that never opened and reconnects; the gateway processed nothing of it),
    // and the drop is counted
    // (fived_gateway_disconnects_total{reason="upgrade_dropped"}) and logged.
    // Echo `fived` when offered (browsers drop a connection whose offered protocol is not echoed).
    this.upgrading = true;
    try {
      res.cork(() => res.upgrade(data, hs.key, accept, hs.extensions, context));
    } finally {
      this.upgrading = false;
    }
    const ws = this.opened; // null when uWS closed it inside the cork (close() cleared it)
    this.opened = null;
    if (ws !== null) hub.sendLater(ws, this.hello(ws.getUserData()));
  }

  /** open(): inside the upgrade's cork the HELLO waits until the cork returned (see complete()). */
  opening(ws: Socket): void {
    if (this.upgrading) this.opened = ws;
    else this.ctx.hub.send(ws, this.hello(ws.getUserData()));
  }

  /** close(): whether uWS closed this socket inside the upgrade's cork (it got no HELLO). */
  droppedInUpgrade(ws: Socket): boolean {
    if (!this.upgrading) return false;
    if (this.opened === ws) this.opened = null;
    return true;
  }
}
