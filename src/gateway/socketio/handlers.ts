// What a Socket.IO connection may ask (docs/socketio.md "Events"), answered as the replaced
// system did: no acknowledgement callbacks, every answer a separate event to the asking socket.
// One table for both paths (conn.ts): the native WebSocket path and the socket.io package look an
// event up here, after the same per-connection message rate (session.ts).
// The user id always comes from the token (auth.ts), never from a payload. Bets go through the
// gateway's one bet path (../bets.ts) and its per-user bet rate; answers after an await are corked.

import { ErrorCode, FivedError } from '../../errors.js';
import { findRoom, windowAt, type Room } from '../../runtime/rooms.js';
import { placeBet } from '../bets.js';
import { background, type GatewayContext } from '../context.js';
import type { GatewayLimits } from '../limits.js';
import type { Periods } from '../periods.js';
import { untilBalanceGate } from '../ws.js';
import { betErrorPayload, betSuccess, compatBetError, parsePlaceBet } from './bets.js';
import { balanceUpdate, echoed, errorEvent, GAME_TYPE, IN, iso, OUT, periodFields, roomId, shown } from './events.js';
import type { CompatConn } from './conn.js';
import type { Fanout } from './fanout.js';
import { minorToRupees } from './rupees.js';
import { betItems, pagination } from './views.js';

export interface HandlerDeps {
  ctx: GatewayContext;
  periods: Periods;
  fanout: Fanout;
  limits: GatewayLimits;
}

/** The room of a {gameType, duration} payload: gameType exactly fiveD, duration a configured number. */
function gameRoom(ctx: GatewayContext, p: unknown): Room | null {
  if (typeof p !== 'object' || p === null) return null;
  const { gameType, duration } = p as Record<string, unknown>;
  if (gameType !== GAME_TYPE || typeof duration !== 'number' || !ctx.cfg.durations.includes(duration)) return null;
  return findRoom(ctx.rooms, roomId(duration));
}

function invalidGame(ctx: GatewayContext, p: unknown) {
  const o = (typeof p === 'object' && p !== null ? p : {}) as Record<string, unknown>;
  return errorEvent(`Invalid game: ${shown(o.gameType)} ${shown(o.duration)}s`, 'INVALID_GAME_DURATION', { availableOptions: [...ctx.cfg.durations].sort((a, b) => a - b) });
}

type Handler = (c: CompatConn, p: unknown, d: HandlerDeps) => void;

function join(s: CompatConn, p: unknown, { ctx, fanout }: HandlerDeps): void {
  if (typeof p !== 'object' || p === null) return void s.emit(OUT.ERROR, errorEvent('Failed to join game'));
  const room = gameRoom(ctx, p);
  if (!room) return void s.emit(OUT.ERROR, invalidGame(ctx, p));
  fanout.join(s, room.name);
  const now = ctx.clock.now();
  const info = periodFields(room, windowAt(room, now), now);
  const timestamp = iso(now);
  s.emit(OUT.JOINED, { gameType: GAME_TYPE, duration: room.duration, roomId: room.name, message: `Joined ${GAME_TYPE} ${room.duration}s room`, timestamp, bettingEnabled: true, clientCount: fanout.count(room.name) });
  s.emit(OUT.PERIOD_INFO, { ...info, timestamp, source: 'websocket_validated' });
  s.emit(OUT.CURRENT_PERIOD, { ...info, timestamp, status: info.bettingOpen ? 'betting' : 'closed' });
}

function leave(s: CompatConn, p: unknown, { fanout }: HandlerDeps): void {
  const o = (typeof p === 'object' && p !== null ? p : {}) as Record<string, unknown>;
  const left = fanout.leave(s);
  s.emit(OUT.LEFT, { gameType: echoed(o.gameType), duration: echoed(o.duration), roomId: left ?? (typeof o.duration === 'number' ? roomId(o.duration) : null) });
}

function periodInfo(s: CompatConn, p: unknown, { ctx, fanout }: HandlerDeps): void {
  const room = gameRoom(ctx, p);
  if (!room) return void s.emit(OUT.ERROR, invalidGame(ctx, p));
  const now = ctx.clock.now();
  const info = periodFields(room, windowAt(room, now), now);
  const { endTime, ...rest } = info;
  s.emit(OUT.PERIOD_INFO_RESPONSE, { success: true, data: { ...rest, endTime, currentTime: iso(now), canBet: info.bettingOpen && fanout.room(s) === room.name }, timestamp: iso(now) });
}

function periodStats(s: CompatConn, p: unknown, { ctx }: HandlerDeps): void {
  const room = gameRoom(ctx, p);
  if (!room) return void s.emit(OUT.ERROR, errorEvent('Failed to get period stats', 'PERIOD_STATS_ERROR'));
  const now = ctx.clock.now();
  const w = windowAt(room, now);
  const left = Math.max(0, w.endsAt - now);
  // no stake totals and no other players' ids (the replaced system leaked them here)
  s.emit(OUT.PERIOD_STATS, {
    success: true,
    data: { periodId: w.periodId, gameType: GAME_TYPE, duration: room.duration, active: true, timeRemaining: Math.round(left / 1000), bettingTimeRemaining: Math.max(0, Math.round((w.freezeAt - now) / 1000)), isBettingOpen: now < w.freezeAt, endTime: iso(w.endsAt), bettingCloseTime: iso(w.freezeAt) },
    timestamp: iso(now),
  });
}

function ping(s: CompatConn, _p: unknown, { ctx, fanout }: HandlerDeps): void {
  const now = ctx.clock.now();
  const r = fanout.room(s);
  const currentGame = r === undefined ? null : { gameType: GAME_TYPE, duration: findRoom(ctx.rooms, r).duration, roomId: r };
  // one pong (the replaced system sent two, from two handlers)
  s.emit(OUT.PONG, { timestamp: iso(now), serverTime: now, connectionId: s.id, gameTicksActive: true, currentGame, bettingEnabled: true });
}

function balance(s: CompatConn, _p: unknown, { ctx }: HandlerDeps): void {
  background(ctx, 'sio-balance', async () => {
    try {
      await untilBalanceGate(ctx); // a payout of a period not revealed here must not show (rule 4)
      s.later(OUT.BALANCE, balanceUpdate(await ctx.store.balance(s.userId), minorToRupees, ctx.clock.now()));
    } catch {
      s.later(OUT.ERROR, errorEvent('Failed to get balance', 'BALANCE_ERROR'));
    }
  });
}

/** Every event a client may send, by name; anything else is ignored, as by the replaced system. */
export const HANDLERS: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  [IN.JOIN, join],
  [IN.LEAVE, leave],
  [IN.PERIOD_INFO, periodInfo],
  [IN.PERIOD_STATS, periodStats],
  [IN.PING, ping],
  [IN.BALANCE, balance],
  [IN.MY_BETS, myBets],
  [IN.BET, bet],
]);

function myBets(s: CompatConn, p: unknown, { ctx }: HandlerDeps): void {
  const userId = s.userId;
  const o = (typeof p === 'object' && p !== null ? p : {}) as Record<string, unknown>;
  const room = gameRoom(ctx, p);
  const periodId = typeof o.periodId === 'string' ? o.periodId : null;
  if (!room) return void s.emit(OUT.MY_BETS, { success: false, message: 'Invalid game type or duration', gameType: echoed(o.gameType), duration: echoed(o.duration), periodId, timestamp: iso(ctx.clock.now()) });
  background(ctx, 'sio-my-bets', async () => {
    try {
      const ref = periodId === null ? undefined : { duration: room.duration, timeline: room.timeline, periodId };
      const bets = (await ctx.store.userBets(userId, ref, 200)).filter((b) => b.duration === room.duration).slice(0, 50);
      const items = await betItems(ctx, bets);
      const filters = { gameType: GAME_TYPE, duration: room.duration, periodId, status: null, startDate: null, endDate: null };
      s.later(OUT.MY_BETS, { success: true, data: { bets: items, pagination: pagination(items.length, 1, 50, 0), filters }, gameType: GAME_TYPE, duration: room.duration, periodId, timestamp: iso(ctx.clock.now()) });
    } catch {
      s.later(OUT.ERROR, errorEvent('Failed to get bet history', 'BET_HISTORY_ERROR'));
    }
  });
}

function bet(s: CompatConn, p: unknown, { ctx, periods, limits }: HandlerDeps): void {
  const userId = s.userId;
  const { cfg, clock } = ctx;
  let amount: number | null = null;
  try {
    const current = (duration: number) => windowAt(findRoom(ctx.rooms, roomId(duration)), clock.now()).periodId;
    const parsed = parsePlaceBet(p, cfg.durations, cfg.timeline, current);
    amount = parsed.fields.amount;
    if (!limits.userBets.take(userId, clock.now())) {
      ctx.metrics.refused.inc({ reason: 'user_bet_rate' });
      throw new FivedError(ErrorCode.RATE_LIMITED, `over ${cfg.userBetRatePerS} bets per second for this user (FIVED_USER_BET_RATE)`);
    }
    background(ctx, 'sio-bet', async () => {
      try {
        const ack = await placeBet(ctx, periods, userId, parsed.fields);
        s.later(OUT.BET_SUCCESS, betSuccess(ack, cfg.paytable, cfg.timeline));
      } catch (err) {
        s.later(OUT.BET_ERROR, betErrorPayload(compatBetError(err, amount, cfg.paytable.feeBps), clock.now()));
      }
    });
  } catch (err) {
    s.emit(OUT.BET_ERROR, betErrorPayload(compatBetError(err, amount, cfg.paytable.feeBps), clock.now()));
  }
}
