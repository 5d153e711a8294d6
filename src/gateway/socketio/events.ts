// The replaced system's Socket.IO events (docs/socketio.md "Events"): names, and the payloads
// built from fived's own messages. Times are ISO-8601 strings, `timeRemaining` is in seconds,
// money is rupees (rupees.ts). One place for every shape, so the live events, the answers and the
// tests agree.

import type { PeriodWindow } from '../../core/types.js';
import type { ClosedMsg, PeriodMsg, ResultPayload, TickMsg } from '../../protocol.js';
import type { Room } from '../../runtime/rooms.js';

export const GAME_TYPE = 'fiveD';

/** client → server */
export const IN = {
  JOIN: 'joinGame',
  LEAVE: 'leaveGame',
  BET: 'placeBet',
  BALANCE: 'getBalance',
  MY_BETS: 'getMyBets',
  PERIOD_INFO: 'getPeriodInfo',
  PERIOD_STATS: 'getPeriodStats',
  PING: 'ping',
} as const;

/** server → client */
export const OUT = {
  CONNECTED: 'connected',
  JOINED: 'joinedGame',
  LEFT: 'leftGame',
  PERIOD_INFO: 'periodInfo',
  CURRENT_PERIOD: 'currentPeriod',
  PERIOD_INFO_RESPONSE: 'periodInfoResponse',
  PERIOD_STATS: 'periodStats',
  TIME_UPDATE: 'timeUpdate',
  PERIOD_START: 'periodStart',
  BETTING_CLOSED: 'bettingClosed',
  PERIOD_RESULT: 'periodResult',
  PERIOD_VOID: 'periodVoid',
  BET_SUCCESS: 'betSuccess',
  BET_ERROR: 'betError',
  BET_RESULT: 'betResult',
  BALANCE: 'balanceUpdate',
  MY_BETS: 'myBets',
  ERROR: 'error',
  PONG: 'pong',
} as const;

/** How a front end checks a result (docs/fairness.md): named in every periodResult. */
export const ALGORITHM = 'fived-5d-v1: SHA-256(seed) = commitment; digits from HMAC-SHA256(seed, "fiveD:{duration}:{timeline}:{periodId}:{round}") (docs/fairness.md)';

export const iso = (ms: number): string => new Date(ms).toISOString();
export const roomId = (duration: number): string => `${GAME_TYPE}_${duration}`;

/** periodInfo / currentPeriod / periodInfoResponse: `timeRemaining` is ceil seconds, capped at the duration. */
export function periodFields(room: Room, w: PeriodWindow, now: number) {
  const timeRemaining = Math.min(room.duration, Math.max(0, Math.ceil((w.endsAt - now) / 1000)));
  const bettingOpen = now < w.freezeAt;
  return { gameType: GAME_TYPE, duration: room.duration, periodId: w.periodId, timeRemaining, endTime: iso(w.endsAt), bettingOpen, bettingCloseTime: !bettingOpen };
}

export function timeUpdate(room: Room, t: TickMsg, clientCount: number) {
  const bettingOpen = t.phase === 'betting';
  return {
    gameType: GAME_TYPE, duration: room.duration, periodId: t.periodId, timeRemaining: Math.max(0, Math.floor(t.remainingMs / 1000)),
    endTime: iso(t.now + t.remainingMs), bettingOpen, bettingCloseTime: !bettingOpen, timestamp: iso(t.now), roomId: roomId(room.duration),
    source: 'websocket_tick', clientCount,
  };
}

export function periodStart(room: Room, p: PeriodMsg, now: number) {
  return {
    gameType: GAME_TYPE, duration: room.duration, periodId: p.periodId, timeRemaining: Math.max(0, (p.endsAt - now) / 1000), endTime: iso(p.endsAt),
    bettingOpen: now < p.freezeAt, bettingCloseTime: now >= p.freezeAt, roomId: roomId(room.duration), source: 'scheduler_start', timestamp: iso(now),
    // fived's addition: the commitment of the seed, published before the first bet (docs/fairness.md)
    commitment: p.commitment,
  };
}

export function bettingClosed(room: Room, c: ClosedMsg, endsAt: number, now: number) {
  return {
    gameType: GAME_TYPE, duration: room.duration, periodId: c.periodId, timeRemaining: Math.max(0, Math.round((endsAt - now) / 1000)),
    bettingOpen: false, bettingCloseTime: true, message: `Betting closed for ${GAME_TYPE} ${room.duration}s`, roomId: roomId(room.duration),
    source: 'scheduler_betting_closed', timestamp: iso(now),
  };
}

export function resultDigits(r: Pick<ResultPayload, 'digits' | 'sum'>) {
  const [A, B, C, D, E] = r.digits;
  return { A, B, C, D, E, sum: r.sum };
}

/** At the period's end, never before (it is built from the gateway's own RESULT broadcast). */
export function periodResult(r: ResultPayload, now: number) {
  return {
    gameType: GAME_TYPE, duration: r.duration, periodId: r.periodId, result: resultDigits(r),
    // no other players' ids, ever (docs/socketio.md): each player gets its own betResult
    winners: [] as never[],
    verification: { seed: r.seed, commitment: r.commitment, algorithm: ALGORITHM },
    timeRemaining: 0, bettingOpen: false, bettingCloseTime: true, roomId: roomId(r.duration), source: 'scheduler_result', timestamp: iso(now),
  };
}

export function balanceUpdate(balanceMinor: number, rupees: (m: number) => number, now: number) {
  const main = rupees(balanceMinor);
  return { success: true, data: { mainWallet: main, thirdPartyWallet: 0, totalAvailable: main, currency: 'INR', canPlay: balanceMinor > 0 }, timestamp: iso(now) };
}

export function errorEvent(message: string, code?: string, extra: Record<string, unknown> = {}) {
  return code === undefined ? { message, ...extra } : { message, ...extra, code };
}

/**
 * A client's value as a message text shows it: a string or a number as it is, anything else by
 * its type. A client's object is never converted to text: its `toString` may be anything (a
 * number: String() throws) and its nesting deep enough to overflow the stack.
 */
export function shown(v: unknown): string | number {
  if (typeof v === 'string' || typeof v === 'number') return v;
  return v === null ? 'null' : typeof v;
}

/** A client's value echoed in an answer's field: a string, number, boolean or null as it is; anything else is left out. */
export function echoed(v: unknown): string | number | boolean | null | undefined {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : undefined;
}
