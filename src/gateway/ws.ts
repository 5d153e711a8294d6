// The WebSocket route: upgrade (origin, token, draining), per-socket state, and the handlers of
// client messages. uWS rules followed here:
// - upgrade copies every header and the query before its first await, registers onAborted first,
//   and upgrades inside res.cork() later, in an admission turn (admission.ts: a burst of
//   handshakes never holds the tick back);
// - message data (an ArrayBuffer valid only during the callback) is decoded synchronously;
// - replies after an await go through hub.sendLater (cork + a check that the socket is still open);
// - every send's result is checked (hub.send closes a socket whose send was dropped).

import { roomName, type Config } from '../config.js';
import { ErrorCode, FivedError, toFivedError } from '../errors.js';
import { ClientType, CloseCode, ServerType, WS_PATH, type ClientMessage, type ErrorMsg, type ServerMessage } from '../protocol.js';
import { findRoom, windowOf, type Room } from '../runtime/rooms.js';
import type { TokenVerifier } from './auth.js';
import { parseProtocols } from './auth.js';
import { placeBet } from './bets.js';
import { decode } from './codec.js';
import { Admission } from './admission.js';
import { guarded, guardWs, type OnUnexpected } from './guard.js';
import { background, type GatewayContext } from './context.js';
import type { Socket, SocketData } from './hub.js';
import { parseClientMessage, requestId } from './messages.js';
import type { Periods } from './periods.js';
import { RateBucket } from './ratelimit.js';
import { missedResults } from './recovery.js';
import { betOutcome } from './settlement.js';
import type { HttpResponse, TemplatedApp, Uws } from './uws.js';

const MALFORMED_LIMIT = 10; // malformed frames per window before MALFORMED_FLOOD
const MALFORMED_WINDOW_MS = 10_000;
const PAYLOAD_SLACK = 64 * 1024;

export function errorMsg(err: unknown, id?: string | number): ErrorMsg {
  const e = toFivedError(err);
  return id === undefined ? { type: ServerType.ERROR, code: e.code, message: e.message } : { type: ServerType.ERROR, id, code: e.code, message: e.message };
}

export function originAllowed(cfg: Pick<Config, 'origins'>, origin: string): boolean {
  if (cfg.origins.length === 0) return true;
  return cfg.origins.includes(origin);
}

let nextSocketId = 1;

export function mountWs(app: TemplatedApp, uws: Uws, ctx: GatewayContext, periods: Periods, verifier: TokenVerifier): void {
  const { cfg, hub, metrics, clock } = ctx;
  const admission = new Admission();

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
      const protocolHeader = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      const origin = req.getHeader('origin');
      const query = new URLSearchParams(req.getQuery() ?? '');
      let remote = '';
      try {
        remote = Buffer.from(res.getRemoteAddressAsText()).toString();
      } catch {
        remote = '';
      }

      if (ctx.draining) return reject(res, '503 Service Unavailable', ErrorCode.NOT_READY, 'gateway draining; reconnect');
      if (!originAllowed(cfg, origin)) return reject(res, '403 Forbidden', ErrorCode.FORBIDDEN, `origin ${JSON.stringify(origin)} not allowed`);
      const offered = parseProtocols(protocolHeader);
      const token = offered.token ?? query.get('token');
      const format = query.get('format') === 'json' ? 'text' : 'binary';

      let userId: string | null = null;
      let expiresAt: number | null = null;
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
        const data: SocketData = {
          id: nextSocketId++, userId, expiresAt, format, rooms: new Set(), bucket: new RateBucket(cfg.rateLimitPerS, clock.now()),
          malformed: 0, malformedWindow: 0, open: true, remote,
        };
        res.cork(() => {
          // echo `fived` when offered (browsers drop a connection whose offered protocol is not echoed)
          res.upgrade(data, key, offered.accept ?? '', extensions, context);
        });
      }, () => {
        if (!aborted) internal(res);
      }));
    },

    open: (ws) => {
      if (ctx.draining) {
        ws.end(CloseCode.GOING_AWAY, 'gateway draining');
        return;
      }
      hub.add(ws);
      const d = ws.getUserData();
      hub.send(ws, { type: ServerType.HELLO, serverTime: clock.now(), instance: cfg.instance, userId: d.userId, freezeMs: cfg.freezeMs, rooms: periods.roomInfos() });
    },

    message: (ws, data, isBinary) => {
      const d = ws.getUserData();
      if (!d.open) return;
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

    close: (ws) => {
      hub.remove(ws);
    },
  }, unexpected, {
    upgrade: (res) => internal(res),
    message: (ws) => hub.send(ws, errorMsg(new FivedError(ErrorCode.INTERNAL, 'internal error'))),
  }));

  const reply = (ws: Socket, msg: ServerMessage) => hub.sendLater(ws, msg);

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
            const bets = await ctx.store.userBets(userId, ref, limit);
            const list = bets.filter((b) => roomFilter === null || b.duration === roomFilter).map((b) => ({ ...betOutcome(b), room: roomName(b.duration), periodId: b.periodId }));
            reply(ws, withId({ type: ServerType.MY_BETS, bets: list }));
          } catch (err) {
            reply(ws, errorMsg(err, id));
          }
        });
        return;
      }
      case ClientType.BALANCE: {
        background(ctx, 'balance', async () => {
          try {
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

