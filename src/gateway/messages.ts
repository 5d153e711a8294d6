// Validation of client messages at the edge: a decoded frame is `unknown` until it passes here.
// Anything wrong is a coded FivedError, thrown before any state is touched.

import { ErrorCode, FivedError } from '../errors.js';
import { patternIndex, validateAmount } from '../core/rules.js';
import type { BetKind, BetPick } from '../core/types.js';
import { ClientType, LEDGER_PAGE_WS_MAX, type ClientMessage } from '../protocol.js';
import { isEntryId } from '../core/ledger.js';
import { isPeriodId } from '../core/ids.js';

export const MAX_CLIENT_BET_ID = 64;
const MAX_ROOMS_PER_MESSAGE = 32;
const ROOM = /^[A-Za-z0-9_]{1,32}$/;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function bad(message: string): never {
  throw new FivedError(ErrorCode.BAD_REQUEST, message);
}

/** The correlation id echoed in replies: a short string or a safe integer. */
export function requestId(v: unknown): string | number | undefined {
  if (isObj(v)) {
    const id = v.id;
    if ((typeof id === 'string' && id.length <= 64) || (typeof id === 'number' && Number.isSafeInteger(id))) return id;
  }
  return undefined;
}

function optId(o: Obj): { id?: string | number } {
  if (o.id === undefined) return {};
  const id = requestId(o);
  if (id === undefined) bad('id must be a string of at most 64 characters or a safe integer');
  return { id };
}

function roomList(v: unknown): string[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_ROOMS_PER_MESSAGE) bad(`rooms must be a non-empty array of at most ${MAX_ROOMS_PER_MESSAGE} room names`);
  return v.map((r) => {
    if (typeof r !== 'string' || !ROOM.test(r)) throw new FivedError(ErrorCode.INVALID_ROOM, `room ${JSON.stringify(r)} is not a room name`);
    return r;
  });
}

export function periodIdOf(v: unknown, what = 'periodId'): string {
  if (!isPeriodId(v)) throw new FivedError(ErrorCode.INVALID_PERIOD, `${what} must be a string of 17 digits`);
  return v;
}

export function clientBetIdOf(v: unknown): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_CLIENT_BET_ID) {
    throw new FivedError(ErrorCode.INVALID_ID, `clientBetId must be a non-empty string of at most ${MAX_CLIENT_BET_ID} characters`);
  }
  return v;
}

export interface BetFields {
  room: string;
  periodId: string;
  kind: BetKind;
  pick: BetPick;
  amount: number;
  clientBetId: string;
}

/** The fields of a bet (shared by WS and POST /api/bets); the user id is never taken from here. */
export function betFields(o: Obj): BetFields {
  if (typeof o.room !== 'string' || !ROOM.test(o.room)) throw new FivedError(ErrorCode.INVALID_ROOM, 'room must be a room name');
  const periodId = periodIdOf(o.periodId);
  patternIndex(o.kind, o.pick); // E_INVALID_KIND / E_INVALID_PICK
  const amount = validateAmount(o.amount);
  const clientBetId = clientBetIdOf(o.clientBetId);
  return { room: o.room, periodId, kind: o.kind as BetKind, pick: o.pick as BetPick, amount, clientBetId };
}

/** Parses a decoded frame into a client message, or throws a coded error. */
export function parseClientMessage(v: unknown): ClientMessage {
  if (!isObj(v)) throw new FivedError(ErrorCode.MALFORMED, 'a message must be an object with a type');
  const type = v.type;
  if (typeof type !== 'string') throw new FivedError(ErrorCode.MALFORMED, 'a message must have a string type');
  switch (type) {
    case ClientType.SUBSCRIBE: {
      const rooms = roomList(v.rooms);
      if (v.since === undefined || v.since === null) return { type, rooms };
      if (!isObj(v.since)) bad('since must be an object { room: lastPeriodId }');
      const since: Record<string, string> = {};
      for (const r of rooms) {
        const s = (v.since as Obj)[r];
        if (s !== undefined && s !== null) since[r] = periodIdOf(s, `since.${r}`);
      }
      return { type, rooms, since };
    }
    case ClientType.UNSUBSCRIBE:
      return { type, rooms: roomList(v.rooms) };
    case ClientType.BET:
      if ('userId' in v) throw new FivedError(ErrorCode.FORBIDDEN, 'userId is taken from the token; a bet must not carry one');
      return { type, ...optId(v), ...betFields(v) };
    case ClientType.MY_BETS: {
      const out: ClientMessage = { type, ...optId(v) };
      if (v.room !== undefined) {
        if (typeof v.room !== 'string' || !ROOM.test(v.room)) throw new FivedError(ErrorCode.INVALID_ROOM, 'room must be a room name');
        out.room = v.room;
      }
      if (v.periodId !== undefined) out.periodId = periodIdOf(v.periodId);
      if (out.periodId !== undefined && out.room === undefined) bad('periodId needs a room');
      if (v.limit !== undefined) {
        if (typeof v.limit !== 'number' || !Number.isSafeInteger(v.limit) || v.limit < 1 || v.limit > 200) bad('limit must be an integer from 1 to 200');
        out.limit = v.limit;
      }
      return out;
    }
    case ClientType.BALANCE:
      return { type, ...optId(v) };
    case ClientType.LEDGER: {
      const out: ClientMessage = { type, ...optId(v) };
      if (v.before !== undefined) {
        if (!isEntryId(v.before)) bad('before must be an entryId (16 digits)');
        out.before = v.before;
      }
      if (v.limit !== undefined) {
        if (typeof v.limit !== 'number' || !Number.isSafeInteger(v.limit) || v.limit < 1 || v.limit > LEDGER_PAGE_WS_MAX) bad(`limit must be an integer from 1 to ${LEDGER_PAGE_WS_MAX}`);
        out.limit = v.limit;
      }
      return out;
    }
    case ClientType.PING:
      return { type, ...optId(v) };
    default:
      throw new FivedError(ErrorCode.UNKNOWN_TYPE, `unknown message type ${JSON.stringify(type.slice(0, 40))}`);
  }
}
