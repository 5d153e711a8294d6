// The names and ids of the game, in one place (docs/design.md, "one place per rule"): a room's
// name from its duration, a period id's shape, a user id's shape. Every edge that reads one of
// these (WebSocket, HTTP API, Socket.IO, CLI, bus, store) checks it with these functions.

/** `fiveD_60` for the 60-second room. */
export function roomName(duration: number): string {
  return `fiveD_${duration}`;
}

/** 'fiveD_60' → 60, or null when it is not a room name (no leading zeros: one name per room). */
export function parseRoomName(room: string): number | null {
  const m = /^fiveD_([1-9]\d{0,4})$/.exec(room);
  return m ? Number(m[1]) : null;
}

/** A period id: YYYYMMDD then a 9-digit sequence within the day, 17 digits in all. */
export const PERIOD_ID = /^\d{17}$/;
export const PERIOD_ID_RULE = 'a string of 17 digits (YYYYMMDD + a 9-digit sequence)';

export function isPeriodId(v: unknown): v is string {
  return typeof v === 'string' && PERIOD_ID.test(v);
}

/**
 * A user id: what a token's `sub` may be, what the store keys a wallet by, what the operator API
 * and the CLI accept. One rule, so an id the gateway accepts is one the store accepts and back.
 */
export const USER_ID = /^[A-Za-z0-9_.:@-]{1,128}$/;
export const USER_ID_RULE = '1-128 of A-Z a-z 0-9 _ . : @ -';

export function isUserId(v: unknown): v is string {
  return typeof v === 'string' && USER_ID.test(v);
}
