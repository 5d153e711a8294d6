// The WebSocket route: upgrade (origin, token, draining), per-socket state, and the handlers of
// client messages. uWS rules followed here:
// - upgrade copies every header and the query before its first await, registers onAborted first,
//   and upgrades inside res.cork() later, in an admission turn (admission.ts: a burst of
//   handshakes never holds the tick back); the HELLO follows the cork (see the upgrade for why);
// - message data (an ArrayBuffer valid only during the callback) is decoded synchronously;
// - replies after an await go through hub.sendLater (cork + a check that the socket is still open);
// - every send's result is checked (hub.send closes a socket whose send was dropped).
// Limits (limits.ts): sockets per client address and per user are checked at the upgrade and
// again in the admission turn (the authoritative check: open() runs inside res.upgrade, so the
// counts are exact there); a socket is closed with AUTH_EXPIRED when its token expires, whether
// or not the client says anything; bets of one user share one rate across its sockets.

import { roomName, type Config } from '../config.js';
import { ErrorCode, FivedError, toFivedError } from '../errors.js';
import { ClientType, CloseCode, LEDGER_PAGE_DEFAULT, ServerType, WS_PATH, type ClientMessage, type ErrorMsg, type ServerMessage } from '../protocol.js';
import { findRoom, roomByDuration, windowOf, type Room } from '../runtime/rooms.js';
import type { TokenVerifier } from './auth.js';
import { parseProtocols } from './auth.js';
import { placeBet } from './bets.js';
import { decode } from './codec.js';
import { Admission } from './admission.js';
import { ExpiryWheel, type GatewayLimits } from './limits.js';
import { background, balanceGateAt, revealed, type GatewayContext } from './context.js';
import { at } from '../runtime/clock.js';
import type { BetRecord } from '../store/types.js';
import { guarded, guardWs, type OnUnexpected } from './guard.js';
import type { Socket, SocketData } from './hub.js';
import { parseClientMessage, requestId } from './messages.js';
import type { Periods } from './periods.js';
import { RateBucket } from './ratelimit.js';
import { missedResults, missedSettlements } from './recovery.js';
import { betOutcome } from './settlement.js';
import type { HttpResponse, TemplatedApp, Uws } from './uws.js';
import { ledgerWithArchive, userBetsWithArchive } from './archive.js';

const MALFORMED_LIMIT = 10; // malformed frames per window before MALFORMED_FLOOD
const MALFORMED_WINDOW_MS = 10_000;
const PAYLOAD_SLACK = 64 * 1024;
const EXPIRY_CHECK_MS = 250; // a silent socket is closed at most this long after its token's exp

export function errorMsg(err: unknown, id?: string | number): ErrorMsg {
  const e = toFivedError(err);
  return id === undefined ? { type: ServerType.ERROR, code: e.code, message: e.message } : { type: ServerType.ERROR, id, code: e.code, message: e.message };
}

/** Whether a Connection header value includes the `upgrade` token (RFC 6455 4.2.1; case-insensitive, comma-separated). */
export function upgradeRequested(connection: string): boolean {
  return connection.split(',').some((t) => t.trim().toLowerCase() === 'upgrade');
}

export function originAllowed(cfg: Pick<Config, 'origins'>, origin: string): boolean {
  if (cfg.origins.length === 0) return true;
  return cfg.origins.includes(origin);
}

let nextSocketId = 1;

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

export function mountWs(app: TemplatedApp, uws: Uws, ctx: GatewayContext, periods: Periods, verifier: TokenVerifier, limits: GatewayLimits): { stop(): void } {
  const { cfg, hub, metrics, clock } = ctx;
  const admission = new Admission();
  const expiry = new ExpiryWheel<Socket>(clock.now());
  const expiryTimer = setInterval(() => guarded(unexpected, 'ws-expiry', () => {
    for (const ws of expiry.due(clock.now())) hub.close(ws, CloseCode.AUTH_EXPIRED, 'token expired');
  }), EXPIRY_CHECK_MS);
  expiryTimer.unref();

  /** Why a new socket from this address / of this user is refused, or null. */
  const overLimit = (remote: string, userId: string | null): string | null => {
    if (cfg.maxConnsPerIp > 0 && limits.connsPerIp.get(remote) >= cfg.maxConnsPerIp) return `at most ${cfg.maxConnsPerIp} connections per client address (FIVED_MAX_CONNS_PER_IP)`;
    if (userId !== null && cfg.maxSocketsPerUser > 0 && (hub.userSockets(userId)?.size ?? 0) >= cfg.maxSocketsPerUser) return `at most ${cfg.maxSocketsPerUser} connections per user (FIVED_MAX_SOCKETS_PER_USER); close another one first`;
    return null;
  };

  const reject = (res: HttpResponse, status: string, code: ErrorCode, message: string) => {
    res.cork(() => {
      res.writeStatus(status).writeHeader('content-type', 'application/json').end(JSON.stringify({ code, message }), true);
    });
  };

  // every uWS callback below is guarded (guard.ts): an unexpected error is logged, counted and
  // answered (500 at the upgrade, E_INTERNAL on the socket); it never ends the process
  const unexpected: OnUnexpected = (where, err) => {
    metrics.errors.inc({ where });
    ctx.logger.error({ err, where }, `websocket ${where} failed`);
  };
  const internal = (res: HttpResponse) => reject(res, '500 Internal Server Error', ErrorCode.INTERNAL, 'internal error');
  /** true while res.upgrade runs inside its cork, and the socket open() ran for then (all synchronous) */
  let upgrading = false;
  let opened: Socket | null = null;
  const hello = (d: SocketData): ServerMessage =>
    // no instance name: internals stay on the operator endpoints (issue 12 row 12)
    ({ type: ServerType.HELLO, serverTime: clock.now(), userId: d.userId, freezeMs: ctx.settings.inEffect().settings.freezeMs, rooms: periods.roomInfos() });

  const malformed = (ws: Socket, err: unknown, id?: string | number) => {
    const d = ws.getUserData();
    const now = clock.now();
    if (now - d.malformedWindow > MALFORMED_WINDOW_MS) {
      d.malformedWindow = now;
      d.malformed = 0;
    }
    d.malformed += 1;
    if (d.malformed > MALFORMED_LIMIT) {
      hub.close(ws, CloseCode.MALFORMED_FLOOD, 'too many malformed frames');
      return;
    }
    hub.send(ws, errorMsg(err, id));
  };

  app.ws<SocketData>(WS_PATH, guardWs({
    compression: uws.DISABLED,
    // uWS drops a frame over its own limit without a close frame (1006 at the client); a slack
    // above the configured limit lets us close moderately oversized frames cleanly with TOO_BIG
    maxPayloadLength: cfg.maxPayloadBytes + PAYLOAD_SLACK,
    maxBackpressure: cfg.maxBackpressureBytes,
    closeOnBackpressureLimit: 1, // a socket whose send is dropped is shut; hub.send also closes with BACKPRESSURE
    idleTimeout: cfg.idleTimeoutS,
    sendPingsAutomatically: true,

    upgrade: async (res, req, context) => {
      // copy everything from req before any await: it is invalid afterwards
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      const key = req.getHeader('sec-websocket-key');
      const connection = req.getHeader('connection');
      const protocolHeader = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      const origin = req.getHeader('origin');
      const query = new URLSearchParams(req.getQuery() ?? '');
      const forwarded = req.getHeader('x-forwarded-for');
      let remote = '';
      try {
        remote = limits.address.resolve(Buffer.from(res.getRemoteAddressAsText()).toString(), forwarded);
      } catch {
        remote = '';
      }
      const early = overLimit(remote, null);
      if (early !== null) {
        metrics.refused.inc({ reason: 'conns_per_ip' });
        return reject(res, '429 Too Many Requests', ErrorCode.RATE_LIMITED, early);
      }

      // RFC 6455 4.2.1: the handshake's Connection header includes the token "Upgrade". Without it
      // (e.g. `Connection: close`, which uWS takes as "close after this response") uWS may end the
      // connection it has just upgraded (see the res.upgrade below)
      if (!upgradeRequested(connection)) return reject(res, '400 Bad Request', ErrorCode.BAD_REQUEST, 'a WebSocket handshake needs "Connection: Upgrade"');
      if (ctx.draining) return reject(res, '503 Service Unavailable', ErrorCode.NOT_READY, 'gateway draining; reconnect');
      if (!originAllowed(cfg, origin)) return reject(res, '403 Forbidden', ErrorCode.FORBIDDEN, `origin ${JSON.stringify(origin)} not allowed`);
      const offered = parseProtocols(protocolHeader);
      const token = offered.token ?? query.get('token');
      const format = query.get('format') === 'json' ? 'text' : 'binary';

      let userId: string | null = null;
      let expiresAt: number | null = null;
      // the token is never logged (nor the query it may ride in): it is a credential
      if (token !== null && token !== '') {
        try {
          const id = await verifier.verify(token);
          userId = id.userId;
          expiresAt = id.expiresAt;
        } catch (err) {
          if (aborted) return;
          return reject(res, '401 Unauthorized', ErrorCode.UNAUTHORIZED, toFivedError(err).message);
        }
      }
      if (aborted) return;
      admission.admit(() => guarded(unexpected, 'ws-upgrade', () => {
        if (aborted) return;
        if (ctx.draining) return reject(res, '503 Service Unavailable', ErrorCode.NOT_READY, 'gateway draining; reconnect');
        const over = overLimit(remote, userId);
        if (over !== null) {
          metrics.refused.inc({ reason: userId !== null && (hub.userSockets(userId)?.size ?? 0) >= cfg.maxSocketsPerUser && cfg.maxSocketsPerUser > 0 ? 'sockets_per_user' : 'conns_per_ip' });
          return reject(res, '429 Too Many Requests', ErrorCode.RATE_LIMITED, over);
        }
        if (expiresAt !== null && clock.now() >= expiresAt) return reject(res, '401 Unauthorized', ErrorCode.UNAUTHORIZED, 'token expired');
        const data: SocketData = {
          id: nextSocketId++, userId, expiresAt, format, rooms: new Set(), bucket: new RateBucket(cfg.rateLimitPerS, clock.now()),
          malformed: 0, malformedWindow: 0, open: true, remote, messages: 0,
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
        upgrading = true;
        try {
          res.cork(() => res.upgrade(data, key, offered.accept ?? '', extensions, context));
        } finally {
          upgrading = false;
        }
        const ws = opened; // null when uWS closed it inside the cork (close() cleared it)
        opened = null;
        if (ws !== null) hub.sendLater(ws, hello(ws.getUserData()));
      }, () => {
        if (!aborted) internal(res);
      }));
    },

    open: (ws) => {
      const d = ws.getUserData();
      // counted before anything can close it: close() uncounts every socket that opened
      limits.connsPerIp.inc(d.remote);
      if (ctx.draining) {
        hub.close(ws, CloseCode.GOING_AWAY, 'gateway draining');
        return;
      }
      hub.add(ws);
      if (d.expiresAt !== null) expiry.add(ws, d.expiresAt);
      // inside the upgrade's cork: the HELLO follows once the cork returned (see the upgrade)
      if (upgrading) opened = ws;
      else hub.send(ws, hello(d));
    },

    message: (ws, data, isBinary) => {
      const d = ws.getUserData();
      if (!d.open) return;
      d.messages += 1;
      metrics.messagesIn.inc({ format: isBinary ? 'binary' : 'text' });
      if (data.byteLength > cfg.maxPayloadBytes) {
        hub.close(ws, CloseCode.TOO_BIG, `frame over ${cfg.maxPayloadBytes} bytes`);
        return;
      }
      const now = clock.now();
      if (d.expiresAt !== null && now >= d.expiresAt) {
        hub.close(ws, CloseCode.AUTH_EXPIRED, 'token expired');
        return;
      }
      const verdict = d.bucket.take(now);
      if (verdict === 'flood') {
        hub.close(ws, CloseCode.RATE_LIMITED, 'far over the message rate limit');
        return;
      }
      hub.setFormat(ws, isBinary ? 'binary' : 'text');
      let raw: unknown;
      try {
        raw = decode(data, isBinary); // synchronous: `data` is neutered after this callback
      } catch (err) {
        malformed(ws, err);
        return;
      }
      const id = requestId(raw);
      if (verdict === 'limited') {
        hub.send(ws, errorMsg(new FivedError(ErrorCode.RATE_LIMITED, `over ${cfg.rateLimitPerS} messages per second`), id));
        return;
      }
      let msg: ClientMessage;
      try {
        msg = parseClientMessage(raw);
      } catch (err) {
        const e = toFivedError(err);
        if (e.code === ErrorCode.MALFORMED || e.code === ErrorCode.UNKNOWN_TYPE) malformed(ws, e, id);
        else hub.send(ws, errorMsg(e, id));
        return;
      }
      try {
        handle(ws, msg);
      } catch (err) {
        if (!(err instanceof FivedError)) unexpected('ws-message', err);
        hub.send(ws, errorMsg(err, id));
      }
    },

    drain: () => {
      // nothing queued per socket: a socket that fell behind is closed and recovers on reconnect
    },

    close: (ws, code, message) => {
      const d = ws.getUserData();
      // still open: not closed by hub.close (which counts fived_gateway_closes_total) — by the
      // client, the network or uWS itself; `message` is only valid during this callback
      if (upgrading && d.open) {
        // closed by uWS inside the upgrade's cork (see the upgrade): the client got no HELLO
        if (opened === ws) opened = null;
        metrics.disconnects.inc({ code: String(code), reason: 'upgrade_dropped' });
        ctx.logger.warn({ socket: d.id, code }, 'uWS closed a socket it had just upgraded (uWS 20.30 cork defect); the client never got a HELLO and reconnects');
      } else if (d.open) {
        const why = disconnectReason(code, Buffer.from(message).toString());
        metrics.disconnects.inc(why);
        ctx.logger.debug({ socket: d.id, code, reason: why.reason, messages: d.messages }, 'websocket ended by the client, the network or uWS');
      }
      limits.connsPerIp.dec(d.remote);
      expiry.remove(ws);
      hub.remove(ws);
    },
  }, unexpected, {
    upgrade: (res) => internal(res),
    message: (ws) => hub.send(ws, errorMsg(new FivedError(ErrorCode.INTERNAL, 'internal error'))),
  }));

  const reply = (ws: Socket, msg: ServerMessage) => hub.sendLater(ws, msg);
  const stop = () => clearInterval(expiryTimer);
  return { stop };

  function handle(ws: Socket, msg: ClientMessage): void {
    const d = ws.getUserData();
    switch (msg.type) {
      case ClientType.SUBSCRIBE: {
        const rooms: Room[] = msg.rooms.map((r) => findRoom(ctx.rooms, r)); // all valid or nothing joined
        for (const room of rooms) hub.join(ws, room.name);
        const infos = rooms.map((r) => periods.current(r.name)).filter((s) => s !== undefined).map((s) => periods.roomInfo(s));
        hub.send(ws, { type: ServerType.SUBSCRIBED, rooms: infos });
        for (const room of rooms) {
          const since = msg.since?.[room.name];
          if (since === undefined) continue;
          windowOf(room, since); // a period id of this room, or E_INVALID_PERIOD
          background(ctx, 'recovery', async () => {
            try {
              const results = await missedResults(ctx, periods, room, since);
              reply(ws, { type: ServerType.RECOVERY, room: room.name, results });
              // a player's own outcomes of those periods, after their results (recovery.ts)
              if (d.userId !== null) for (const m of await missedSettlements(ctx, periods, room, d.userId, since, results)) reply(ws, m);
            } catch (err) {
              reply(ws, errorMsg(err));
            }
          });
        }
        return;
      }
      case ClientType.UNSUBSCRIBE: {
        for (const r of msg.rooms) if (d.rooms.has(r)) hub.leave(ws, r);
        hub.send(ws, { type: ServerType.UNSUBSCRIBED, rooms: msg.rooms });
        return;
      }
      case ClientType.PING:
        hub.send(ws, msg.id === undefined ? { type: ServerType.PONG, now: clock.now() } : { type: ServerType.PONG, id: msg.id, now: clock.now() });
        return;
      default:
        break;
    }
    // the rest needs a player
    const userId = d.userId;
    if (userId === null) throw new FivedError(ErrorCode.UNAUTHORIZED, 'sign in (a token) to bet or see a balance; anonymous connections may only watch');
    const id = msg.id;
    const withId = <T extends object>(m: T) => (id === undefined ? m : { ...m, id });
    switch (msg.type) {
      case ClientType.BET: {
        // one rate for all of the user's sockets on this gateway: more sockets are not more bets
        if (!limits.userBets.take(userId, clock.now())) {
          metrics.bets.inc({ outcome: 'rejected', code: ErrorCode.RATE_LIMITED });
          metrics.refused.inc({ reason: 'user_bet_rate' });
          throw new FivedError(ErrorCode.RATE_LIMITED, `over ${cfg.userBetRatePerS} bets per second for this user (FIVED_USER_BET_RATE)`);
        }
        const { room, periodId, kind, pick, amount, clientBetId } = msg;
        background(ctx, 'bet', async () => {
          try {
            const ack = await placeBet(ctx, periods, userId, { room, periodId, kind, pick, amount, clientBetId });
            reply(ws, withId({
              type: ServerType.BET_ACK, betId: ack.betId, clientBetId: ack.clientBetId, room, periodId: ack.periodId,
              kind: ack.kind, pick: ack.pick, amount: ack.amount, balance: ack.balance, duplicate: ack.duplicate,
            }));
          } catch (err) {
            reply(ws, errorMsg(err, id));
          }
        });
        return;
      }
      case ClientType.MY_BETS: {
        let ref: { duration: number; timeline: string; periodId: string } | undefined;
        if (msg.room !== undefined && msg.periodId !== undefined) {
          const room = findRoom(ctx.rooms, msg.room);
          windowOf(room, msg.periodId);
          ref = { duration: room.duration, timeline: room.timeline, periodId: msg.periodId };
        }
        const roomFilter = msg.room === undefined ? null : findRoom(ctx.rooms, msg.room).duration;
        const limit = msg.limit ?? 50;
        background(ctx, 'my-bets', async () => {
          try {
            const bets = await userBetsWithArchive(ctx, userId, ref, limit);
            const now = clock.now();
            const list = bets
              .filter((b) => roomFilter === null || b.duration === roomFilter)
              .map((b) => ({ ...betOutcome(hideUnrevealed(ctx, b, now)), room: roomName(b.duration), periodId: b.periodId }));
            reply(ws, withId({ type: ServerType.MY_BETS, bets: list }));
          } catch (err) {
            reply(ws, errorMsg(err, id));
          }
        });
        return;
      }
      case ClientType.LEDGER: {
        const { before, limit } = msg;
        background(ctx, 'ledger', async () => {
          try {
            // as a balance: a payout entry of a period this gateway has not revealed must not show
            await untilBalanceGate(ctx);
            const page = await ledgerWithArchive(ctx, userId, before ?? null, limit ?? LEDGER_PAGE_DEFAULT);
            reply(ws, withId({ type: ServerType.LEDGER, entries: page.entries, next: page.next }));
          } catch (err) {
            reply(ws, errorMsg(err, id));
          }
        });
        return;
      }
      case ClientType.BALANCE: {
        background(ctx, 'balance', async () => {
          try {
            // a payout of a period this gateway has not revealed yet must not show in a balance
            await untilBalanceGate(ctx);
            reply(ws, withId({ type: ServerType.BALANCE, balance: await ctx.store.balance(userId) }));
          } catch (err) {
            reply(ws, errorMsg(err, id));
          }
        });
        return;
      }
      default:
        return;
    }
  }
}


/**
 * A bet as a player may see it now: the outcome and payout of a period this gateway has not
 * revealed (context.revealed) stay `pending`/0 even when the store has them (a clock behind the
 * store's). A refund (void) is public at once.
 */
export function hideUnrevealed(ctx: GatewayContext, b: BetRecord, now: number): BetRecord {
  if (b.state !== 'won' && b.state !== 'lost') return b;
  const room = roomByDuration(ctx.settings.view.roomsBetween(now - 86_400_000, now), b.duration);
  if (!room) return b; // a room no longer configured: its periods are long over
  if (revealed(ctx, windowOf(room, b.periodId).endsAt, now) && !ctx.awaitingResult(b.duration, b.periodId)) return b;
  return { ...b, state: 'pending', payout: 0 };
}

/** Resolves once a balance read cannot show a payout this gateway has not revealed (context.balanceGateAt). */
export function untilBalanceGate(ctx: GatewayContext): Promise<void> {
  const until = balanceGateAt(ctx);
  if (until === 0 || ctx.clock.now() >= until) return Promise.resolve();
  return new Promise((resolve) => {
    at(ctx.clock, until, resolve);
  });
}
