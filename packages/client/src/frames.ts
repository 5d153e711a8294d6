// Validation of server frames at the edge (docs/design.md, "validate at the edges, trust inside"):
// a frame whose fields have the wrong shape is reported as a coded `error` event by the client and
// changes nothing; it never throws out of the message handler.

import { isPeriodId } from '../../../src/core/ids.js';
import type { ResultPayload, RoomInfo } from '../../../src/protocol.js';

/** Largest epoch ms a server time may be (JS Date's range, as in core/clock). */
export const MAX_TIME = 8.64e15;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
export function isTime(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= MAX_TIME;
}
function isStr(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= 256;
}

/** A RoomInfo (hello, subscribed, period) with every field of the right type. */
export function isRoomInfo(v: unknown): v is RoomInfo {
  if (!isObj(v)) return false;
  const d = v.duration;
  return (
    isStr(v.room) &&
    isPeriodId(v.periodId) &&
    typeof d === 'number' && Number.isSafeInteger(d) && d >= 1 && d <= 86_400 &&
    isStr(v.timeline) &&
    isTime(v.startsAt) && isTime(v.freezeAt) && isTime(v.endsAt) &&
    (v.commitment === null || v.commitment === undefined || typeof v.commitment === 'string')
  );
}

/** The valid entries of a list of RoomInfo, and whether anything was dropped. */
export function roomInfos(v: unknown): { rooms: RoomInfo[]; bad: boolean } {
  if (v === undefined) return { rooms: [], bad: false };
  if (!Array.isArray(v)) return { rooms: [], bad: true };
  const rooms = v.filter(isRoomInfo);
  return { rooms, bad: rooms.length !== v.length };
}

/** A result with every field of the right type (whether it verifies is checked later). */
export function isResultPayload(v: unknown): v is ResultPayload {
  if (!isObj(v)) return false;
  return (
    isStr(v.room) &&
    typeof v.periodId === 'string' &&
    typeof v.duration === 'number' &&
    typeof v.timeline === 'string' &&
    Array.isArray(v.digits) && v.digits.length === 5 && v.digits.every((x) => typeof x === 'number') &&
    typeof v.sum === 'number' &&
    typeof v.seed === 'string' &&
    typeof v.commitment === 'string' &&
    (v.endsAt === undefined || typeof v.endsAt === 'number')
  );
}

/** A message naming a room and a period (void, closed, settled, tick). */
export function hasRoomAndPeriod(v: Obj): boolean {
  return isStr(v.room) && isPeriodId(v.periodId);
}

/** What is wrong with a frame of `type`, or null when it can be handled. */
export function frameProblem(m: Obj): string | null {
  switch (m.type) {
    case 'hello':
      return isTime(m.serverTime) ? null : 'hello without a valid serverTime';
    case 'period':
      return isRoomInfo(m) ? null : 'period with malformed fields';
    case 'tick':
      return hasRoomAndPeriod(m) && isTime(m.now) ? null : 'tick with malformed fields';
    case 'closed':
    case 'void':
      return hasRoomAndPeriod(m) ? null : `${m.type} without a valid room and period id`;
    case 'settled':
      return hasRoomAndPeriod(m) && Array.isArray(m.bets) ? null : 'settled with malformed fields';
    case 'result':
      return isResultPayload(m) ? null : 'result with malformed fields';
    case 'recovery':
      return isStr(m.room) && Array.isArray(m.results) ? null : 'recovery without a room and a list of results';
    case 'pong':
      return isTime(m.now) ? null : 'pong without a valid time';
    case 'error':
      return typeof m.code === 'string' && typeof m.message === 'string' ? null : 'error frame without a code and message';
    default:
      return null;
  }
}
