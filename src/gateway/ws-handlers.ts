// The client messages of a WebSocket: a frame is admitted (open, size, token still valid, rate),
// decoded synchronously (`data` is neutered after the uWS callback), parsed into a ClientMessage
// (messages.ts), and handed to the handler of its type (HANDLERS). Replies after an await go
// through hub.sendLater (cork + a check that the socket is still open). Watching (subscribe,
// unsubscribe, ping) needs no token; the rest needs a player, whose id comes from the token.

import { roomName } from '../core/ids.js';
import { ErrorCode, FivedError, toFivedError } from '../errors.js';
import { ClientType, CloseCode, LEDGER_PAGE_DEFAULT, ServerType, type ClientMessage, type ErrorMsg, type ServerMessage } from '../protocol.js';
import { findRoom, windowOf, type Room } from '../runtime/rooms.js';
import { ledgerWithArchive, userBetsWithArchive } from './archive.js';
import { placeBet } from './bets.js';
import { decode } from './codec.js';
import { background, hideUnrevealed, untilBalanceGate, type GatewayContext } from './context.js';
import type { OnUnexpected } from './guard.js';
import type { Socket } from './hub.js';
import type { GatewayLimits } from './limits.js';
import { parseClientMessage, requestId } from './messages.js';
import type { Periods } from './periods.js';
import { missedResults, missedSettlements } from './recovery.js';
import { betOutcome } from './settlement.js';

const MALFORMED_LIMIT = 10; // malformed frames per window before MALFORMED_FLOOD
const MALFORMED_WINDOW_MS = 10_000;

/** What the message handlers work with. */
export interface WsEnv {
  ctx: GatewayContext;
  periods: Periods;
  limits: GatewayLimits;
  unexpected: OnUnexpected;
}

export function errorMsg(err: unknown, id?: string | number): ErrorMsg {
  const e = toFivedError(err);
  return id === undefined ? { type: ServerType.ERROR, code: e.code, message: e.message } : { type: ServerType.ERROR, id, code: e.code, message: e.message };
}

function malformed(env: WsEnv, ws: Socket, err: unknown, id?: string | number): void {
  const d = ws.getUserData();
  const now = env.ctx.clock.now();
  if (now - d.malformedWindow > MALFORMED_WINDOW_MS) {
    d.malformedWindow = now;
    d.malformed = 0;
  }
  d.malformed += 1;
  if (d.malformed > MALFORMED_LIMIT) {
    env.ctx.hub.close(ws, CloseCode.MALFORMED_FLOOD, 'too many malformed frames');
    return;
  }
  env.ctx.hub.send(ws, errorMsg(err, id));
}

/** Counts a frame and closes the socket it must end; returns the rate verdict, or null when closed. */
function admitFrame(env: WsEnv, ws: Socket, size: number, isBinary: boolean): 'ok' | 'limited' | null {
  const { cfg, hub, metrics, clock } = env.ctx;
  const d = ws.getUserData();
  if (!d.open) return null;
  d.messages += 1;
  metrics.messagesIn.inc({ format: isBinary ? 'binary' : 'text' });
  if (size > cfg.maxPayloadBytes) {
    hub.close(ws, CloseCode.TOO_BIG, `frame over ${cfg.maxPayloadBytes} bytes`);
    return null;
  }
  const now = clock.now();
  if (d.expiresAt !== null && now >= d.expiresAt) {
    hub.close(ws, CloseCode.AUTH_EXPIRED, 'token expired');
    return null;
  }
  const verdict = d.bucket.take(now);
  if (verdict === 'flood') {
    hub.close(ws, CloseCode.RATE_LIMITED, 'far over the message rate limit');
    return null;
  }
  return verdict === 'limited' ? 'limited' : 'ok';
}

/** The uWS message callback. */
export function onMessage(env: WsEnv, ws: Socket, data: ArrayBuffer, isBinary: boolean): void {
  const { hub } = env.ctx;
  const verdict = admitFrame(env, ws, data.byteLength, isBinary);
  if (verdict === null) return;
  hub.setFormat(ws, isBinary ? 'binary' : 'text');
  let raw: unknown;
  try {
    raw = decode(data, isBinary); // synchronous: `data` is neutered after this callback
  } catch (err) {
    malformed(env, ws, err);
    return;
  }
  const id = requestId(raw);
  if (verdict === 'limited') {
    hub.send(ws, errorMsg(new FivedError(ErrorCode.RATE_LIMITED, `over ${env.ctx.cfg.rateLimitPerS} messages per second`), id));
    return;
  }
  let msg: ClientMessage;
  try {
    msg = parseClientMessage(raw);
  } catch (err) {
    const e = toFivedError(err);
    if (e.code === ErrorCode.MALFORMED || e.code === ErrorCode.UNKNOWN_TYPE) malformed(env, ws, e, id);
    else hub.send(ws, errorMsg(e, id));
    return;
  }
  try {
    handle(env, ws, msg);
  } catch (err) {
    if (!(err instanceof FivedError)) env.unexpected('ws-message', err);
    hub.send(ws, errorMsg(err, id));
  }
}

type Msg<T extends ClientType> = Extract<ClientMessage, { type: T }>;
type Handler<T extends ClientType> = (env: WsEnv, ws: Socket, msg: Msg<T>) => void;
/** A handler that needs a player: `userId` is the token's, never a message field. */
type PlayerHandler<T extends ClientType> = (env: WsEnv, ws: Socket, msg: Msg<T>, userId: string) => void;

function player<T extends ClientType>(fn: PlayerHandler<T>): Handler<T> {
  return (env, ws, msg) => {
    const userId = ws.getUserData().userId;
    if (userId === null) throw new FivedError(ErrorCode.UNAUTHORIZED, 'sign in (a token) to bet or see a balance; anonymous connections may only watch');
    fn(env, ws, msg, userId);
  };
}

/** A reply carrying the request's id, when it had one. */
function withId<T extends object>(id: string | number | undefined, m: T): T {
  return id === undefined ? m : { ...m, id };
}

/**
 * Runs `work` in the background (the shutdown waits for it); its reply, or its error as an ERROR
 * with the request's id, goes out through hub.sendLater.
 */
function later(env: WsEnv, ws: Socket, what: string, id: string | number | undefined, work: () => Promise<ServerMessage>): void {
  background(env.ctx, what, async () => {
    try {
      env.ctx.hub.sendLater(ws, await work());
    } catch (err) {
      env.ctx.hub.sendLater(ws, errorMsg(err, id));
    }
  });
}

const subscribe: Handler<typeof ClientType.SUBSCRIBE> = (env, ws, msg) => {
  const { ctx, periods } = env;
  const rooms: Room[] = msg.rooms.map((r) => findRoom(ctx.rooms, r)); // all valid or nothing joined
  for (const room of rooms) ctx.hub.join(ws, room.name);
  const infos = rooms.map((r) => periods.current(r.name)).filter((s) => s !== undefined).map((s) => periods.roomInfo(s));
  ctx.hub.send(ws, { type: ServerType.SUBSCRIBED, rooms: infos });
  for (const room of rooms) {
    const since = msg.since?.[room.name];
    if (since === undefined) continue;
    windowOf(room, since); // a period id of this room, or E_INVALID_PERIOD
    background(ctx, 'recovery', async () => {
      try {
        const results = await missedResults(ctx, periods, room, since);
        ctx.hub.sendLater(ws, { type: ServerType.RECOVERY, room: room.name, results });
        // a player's own outcomes of those periods, after their results (recovery.ts)
        const userId = ws.getUserData().userId;
        if (userId !== null) for (const m of await missedSettlements(ctx, periods, room, userId, since, results)) ctx.hub.sendLater(ws, m);
      } catch (err) {
        ctx.hub.sendLater(ws, errorMsg(err));
      }
    });
  }
};

const unsubscribe: Handler<typeof ClientType.UNSUBSCRIBE> = (env, ws, msg) => {
  const d = ws.getUserData();
  for (const r of msg.rooms) if (d.rooms.has(r)) env.ctx.hub.leave(ws, r);
  env.ctx.hub.send(ws, { type: ServerType.UNSUBSCRIBED, rooms: msg.rooms });
};

const ping: Handler<typeof ClientType.PING> = (env, ws, msg) => {
  const now = env.ctx.clock.now();
  env.ctx.hub.send(ws, msg.id === undefined ? { type: ServerType.PONG, now } : { type: ServerType.PONG, id: msg.id, now });
};

const bet: PlayerHandler<typeof ClientType.BET> = (env, ws, msg, userId) => {
  const { ctx, limits } = env;
  // one rate for all of the user's sockets on this gateway: more sockets are not more bets
  if (!limits.userBets.take(userId, ctx.clock.now())) {
    ctx.metrics.bets.inc({ outcome: 'rejected', code: ErrorCode.RATE_LIMITED });
    ctx.metrics.refused.inc({ reason: 'user_bet_rate' });
    throw new FivedError(ErrorCode.RATE_LIMITED, `over ${ctx.cfg.userBetRatePerS} bets per second for this user (FIVED_USER_BET_RATE)`);
  }
  const { room, periodId, kind, pick, amount, clientBetId } = msg;
  later(env, ws, 'bet', msg.id, async () => {
    const ack = await placeBet(ctx, env.periods, userId, { room, periodId, kind, pick, amount, clientBetId });
    return withId(msg.id, {
      type: ServerType.BET_ACK, betId: ack.betId, clientBetId: ack.clientBetId, room, periodId: ack.periodId,
      kind: ack.kind, pick: ack.pick, amount: ack.amount, balance: ack.balance, duplicate: ack.duplicate,
    });
  });
};

const myBets: PlayerHandler<typeof ClientType.MY_BETS> = (env, ws, msg, userId) => {
  const { ctx } = env;
  let ref: { duration: number; timeline: string; periodId: string } | undefined;
  if (msg.room !== undefined && msg.periodId !== undefined) {
    const room = findRoom(ctx.rooms, msg.room);
    windowOf(room, msg.periodId);
    ref = { duration: room.duration, timeline: room.timeline, periodId: msg.periodId };
  }
  const roomFilter = msg.room === undefined ? null : findRoom(ctx.rooms, msg.room).duration;
  const limit = msg.limit ?? 50;
  later(env, ws, 'my-bets', msg.id, async () => {
    const bets = await userBetsWithArchive(ctx, userId, ref, limit);
    const now = ctx.clock.now();
    const list = bets
      .filter((b) => roomFilter === null || b.duration === roomFilter)
      .map((b) => ({ ...betOutcome(hideUnrevealed(ctx, b, now)), room: roomName(b.duration), periodId: b.periodId }));
    return withId(msg.id, { type: ServerType.MY_BETS, bets: list });
  });
};

const ledger: PlayerHandler<typeof ClientType.LEDGER> = (env, ws, msg, userId) => {
  later(env, ws, 'ledger', msg.id, async () => {
    // as a balance: a payout entry of a period this gateway has not revealed must not show
    await untilBalanceGate(env.ctx);
    const page = await ledgerWithArchive(env.ctx, userId, msg.before ?? null, msg.limit ?? LEDGER_PAGE_DEFAULT);
    return withId(msg.id, { type: ServerType.LEDGER, entries: page.entries, next: page.next });
  });
};

const balance: PlayerHandler<typeof ClientType.BALANCE> = (env, ws, msg, userId) => {
  later(env, ws, 'balance', msg.id, async () => {
    // a payout of a period this gateway has not revealed yet must not show in a balance
    await untilBalanceGate(env.ctx);
    return withId(msg.id, { type: ServerType.BALANCE, balance: await env.ctx.store.balance(userId) });
  });
};

/** The handler of each client message type. */
const HANDLERS: { [T in ClientType]: Handler<T> } = {
  [ClientType.SUBSCRIBE]: subscribe,
  [ClientType.UNSUBSCRIBE]: unsubscribe,
  [ClientType.PING]: ping,
  [ClientType.BET]: player(bet),
  [ClientType.MY_BETS]: player(myBets),
  [ClientType.LEDGER]: player(ledger),
  [ClientType.BALANCE]: player(balance),
};

function handle(env: WsEnv, ws: Socket, msg: ClientMessage): void {
  (HANDLERS[msg.type] as Handler<ClientType>)(env, ws, msg);
}
