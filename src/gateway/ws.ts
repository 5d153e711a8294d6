// The WebSocket route, wired from its steps: the upgrade (ws-upgrade.ts: origin, token, limits,
// draining, admission), per-socket state, and the handlers of client messages (ws-handlers.ts: a
// table keyed by message type). uWS rules followed:
// - upgrade copies every header and the query before its first await, registers onAborted first,
//   and upgrades inside res.cork() later, in an admission turn; the HELLO follows the cork;
// - message data (an ArrayBuffer valid only during the callback) is decoded synchronously;
// - replies after an await go through hub.sendLater (cork + a check that the socket is still open);
// - every send's result is checked (hub.send closes a socket whose send was dropped).
// Limits (limits.ts): sockets per client address and per user (at the upgrade); a socket is
// closed with AUTH_EXPIRED when its token expires, whether or not the client says anything; bets
// of one user share one rate across its sockets.

import { ErrorCode, FivedError } from '../errors.js';
import { CloseCode, WS_PATH } from '../protocol.js';
import type { TokenVerifier } from './auth.js';
import type { GatewayContext } from './context.js';
import { guarded, guardWs, type OnUnexpected } from './guard.js';
import type { Socket, SocketData } from './hub.js';
import { ExpiryWheel, type GatewayLimits } from './limits.js';
import type { Periods } from './periods.js';
import type { TemplatedApp, Uws } from './uws.js';
import { errorMsg, onMessage, type WsEnv } from './ws-handlers.js';
import { internal, Upgrader } from './ws-upgrade.js';

export { hideUnrevealed, untilBalanceGate } from './context.js';
export { errorMsg } from './ws-handlers.js';
export { originAllowed, upgradeRequested } from './ws-upgrade.js';

const PAYLOAD_SLACK = 64 * 1024;
const EXPIRY_CHECK_MS = 250; // a silent socket is closed at most this long after its token's exp

/** client close codes counted as themselves in fived_gateway_disconnects_total; any other is `other` (bounded labels) */
const CLIENT_CODES = new Set([1000, 1001, 1002, 1003, 1005, 1007, 1008, 1009, 1011]);

/**
 * Why a connection ended that the gateway did not close, from what uWS hands the close handler:
 * the client's code when it sent a close frame (`close_frame`); 1006 with uWS's own reason when
 * uWS shut the socket itself (`idle_timeout`, `too_big`: a message over maxPayloadLength,
 * `invalid_utf8`: a text message that is not UTF-8); 1006 without a reason (`no_close_frame`) when
 * the TCP connection ended without a close frame — the client or the network went away, or uWS
 * refused a frame that breaks the protocol (bad opcode or RSV bits, an unmasked or oversized
 * control frame: uWS gives no reason for those). Seen from the client, every 1006 looks the same;
 * this counter tells them apart (docs/operations.md).
 */
export function disconnectReason(code: number, message: string): { code: string; reason: string } {
  if (code !== 1006) return { code: CLIENT_CODES.has(code) || (code >= 4000 && code <= 4999) ? String(code) : 'other', reason: 'close_frame' };
  if (message === '') return { code: '1006', reason: 'no_close_frame' };
  if (/timed out/i.test(message)) return { code: '1006', reason: 'idle_timeout' };
  if (/utf-8/i.test(message)) return { code: '1006', reason: 'invalid_utf8' };
  if (/too big/i.test(message)) return { code: '1006', reason: 'too_big' };
  return { code: '1006', reason: 'other' };
}

/** Closes a socket whose token expired, whether or not its client says anything. */
function watchExpiry(ctx: GatewayContext, unexpected: OnUnexpected): { wheel: ExpiryWheel<Socket>; stop(): void } {
  const wheel = new ExpiryWheel<Socket>(ctx.clock.now());
  const timer = setInterval(() => guarded(unexpected, 'ws-expiry', () => {
    for (const ws of wheel.due(ctx.clock.now())) ctx.hub.close(ws, CloseCode.AUTH_EXPIRED, 'token expired');
  }), EXPIRY_CHECK_MS);
  timer.unref();
  return { wheel, stop: () => clearInterval(timer) };
}

/**
 * The uWS close callback. A socket still open was not closed by hub.close (which counts
 * fived_gateway_closes_total) but by the client, the network or uWS itself; `message` is only
 * valid during this callback.
 */
function closed(ctx: GatewayContext, limits: GatewayLimits, expiry: ExpiryWheel<Socket>, upgrader: Upgrader, ws: Socket, code: number, message: ArrayBuffer): void {
  const d = ws.getUserData();
  if (d.open && upgrader.droppedInUpgrade(ws)) {
    // closed by uWS inside the upgrade's cork (ws-upgrade.ts): the client got no HELLO
    ctx.metrics.disconnects.inc({ code: String(code), reason: 'upgrade_dropped' });
    ctx.logger.warn({ socket: d.id, code }, 'uWS closed a socket it had just upgraded (uWS 20.30 cork defect); the client never got a HELLO and reconnects');
  } else if (d.open) {
    const why = disconnectReason(code, Buffer.from(message).toString());
    ctx.metrics.disconnects.inc(why);
    ctx.logger.debug({ socket: d.id, code, reason: why.reason, messages: d.messages }, 'websocket ended by the client, the network or uWS');
  }
  limits.connsPerIp.dec(d.remote);
  expiry.remove(ws);
  ctx.hub.remove(ws);
}

export function mountWs(app: TemplatedApp, uws: Uws, ctx: GatewayContext, periods: Periods, verifier: TokenVerifier, limits: GatewayLimits): { stop(): void } {
  const { cfg, hub, metrics } = ctx;
  // every uWS callback below is guarded (guard.ts): an unexpected error is logged, counted and
  // answered (500 at the upgrade, E_INTERNAL on the socket); it never ends the process
  const unexpected: OnUnexpected = (where, err) => {
    metrics.errors.inc({ where });
    ctx.logger.error({ err, where }, `websocket ${where} failed`);
  };
  const expiry = watchExpiry(ctx, unexpected);
  const upgrader = new Upgrader(ctx, periods, verifier, limits, unexpected);
  const env: WsEnv = { ctx, periods, limits, unexpected };

  app.ws<SocketData>(WS_PATH, guardWs({
    compression: uws.DISABLED,
    // uWS drops a frame over its own limit without a close frame (1006 at the client); a slack
    // above the configured limit lets us close moderately oversized frames cleanly with TOO_BIG
    maxPayloadLength: cfg.maxPayloadBytes + PAYLOAD_SLACK,
    maxBackpressure: cfg.maxBackpressureBytes,
    closeOnBackpressureLimit: 1, // a socket whose send is dropped is shut; hub.send also closes with BACKPRESSURE
    idleTimeout: cfg.idleTimeoutS,
    sendPingsAutomatically: true,
    upgrade: upgrader.upgrade,
    open: (ws) => {
      const d = ws.getUserData();
      // counted before anything can close it: close() uncounts every socket that opened
      limits.connsPerIp.inc(d.remote);
      if (ctx.draining) {
        hub.close(ws, CloseCode.GOING_AWAY, 'gateway draining');
        return;
      }
      hub.add(ws);
      if (d.expiresAt !== null) expiry.wheel.add(ws, d.expiresAt);
      upgrader.opening(ws);
    },
    message: (ws, data, isBinary) => onMessage(env, ws, data, isBinary),
    drain: () => {
      // nothing queued per socket: a socket that fell behind is closed and recovers on reconnect
    },
    close: (ws, code, message) => closed(ctx, limits, expiry.wheel, upgrader, ws, code, message),
  }, unexpected, {
    upgrade: (res) => internal(res),
    message: (ws) => hub.send(ws, errorMsg(new FivedError(ErrorCode.INTERNAL, 'internal error'))),
  }));

  return { stop: expiry.stop };
}
