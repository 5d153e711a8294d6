// The replaced system's bet model at the edge (docs/socketio.md "Bets"): a `placeBet` payload
// ({gameType, duration, periodId, type, position, selection, amount}) becomes a fived bet, and a
// fived acknowledgement or refusal becomes `betSuccess` / `betError` with the replaced system's
// field names and codes. Invalid selections are refused (the replaced system stored bets that
// could never win); a `periodId` other than the current one is refused (never moved silently).

import { randomUUID } from 'node:crypto';
import { isPeriodId } from '../../core/ids.js';
import { netStake } from '../../core/rules.js';
import type { BetKind, BetPick, Paytable } from '../../core/types.js';
import { ErrorCode, toFivedError } from '../../errors.js';
import type { BetAck } from '../../store/types.js';
import type { BetFields } from '../messages.js';
import { GAME_TYPE, iso, shown } from './events.js';
import { minorToRupees, rupeesToMinor, rupeeText } from './rupees.js';

/** A refusal in the replaced system's terms: `betError` {success:false, message, code, timestamp}. */
export class CompatBetError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

const SIDES = new Set(['big', 'small', 'odd', 'even']);

/** A client's value in a refusal's text: a string or number as JSON, anything else by its type, unquoted (events.ts shown). */
const quoted = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? JSON.stringify(v) : String(shown(v)));

/** position + selection → fived kind and pick, or a refusal. */
export function kindAndPick(position: unknown, selection: unknown): { kind: BetKind; pick: BetPick } {
  if (typeof position !== 'string') throw new CompatBetError('INVALID_DATA', 'Missing required fields');
  const pos = position.trim().toUpperCase();
  const word = typeof selection === 'string' ? selection.trim().toLowerCase() : null;
  if (pos === 'SUM') {
    if (word !== null && SIDES.has(word)) return { kind: 'SUM', pick: word as BetPick };
    throw new CompatBetError('INVALID_DATA', 'SUM bets take big, small, odd or even');
  }
  if (!['A', 'B', 'C', 'D', 'E'].includes(pos)) throw new CompatBetError('INVALID_DATA', `Invalid position ${JSON.stringify(position)}: A, B, C, D, E or SUM`);
  if (word !== null && SIDES.has(word)) return { kind: pos as BetKind, pick: word as BetPick };
  const digit = typeof selection === 'number' ? selection : word !== null && /^\d$/.test(word) ? Number(word) : NaN;
  if (Number.isInteger(digit) && digit >= 0 && digit <= 9) return { kind: pos as BetKind, pick: digit };
  throw new CompatBetError('INVALID_DATA', `Invalid selection ${quoted(selection)} for position ${pos}: a digit 0-9, big, small, odd or even`);
}

/** The replaced system's stored names: betType POSITION | POSITION_SIZE | POSITION_PARITY | SUM_SIZE | SUM_PARITY, betValue e.g. A_7. */
export function betTypeOf(kind: BetKind, pick: BetPick): { betType: string; betValue: string } {
  const size = pick === 'big' || pick === 'small';
  if (kind === 'SUM') return { betType: size ? 'SUM_SIZE' : 'SUM_PARITY', betValue: `SUM_${pick}` };
  if (typeof pick === 'number') return { betType: 'POSITION', betValue: `${kind}_${pick}` };
  return { betType: size ? 'POSITION_SIZE' : 'POSITION_PARITY', betValue: `${kind}_${pick}` };
}

/** The multiplier fived pays on the net stake (docs/rules.md). */
export function oddsOf(p: Paytable, kind: BetKind, pick: BetPick): number {
  const size = pick === 'big' || pick === 'small';
  if (kind === 'SUM') return size ? p.sumBigSmall : p.sumOddEven;
  if (typeof pick === 'number') return p.number;
  return size ? p.bigSmall : p.oddEven;
}

export interface CompatBet {
  fields: BetFields;
  duration: number;
}

/** Validates a placeBet payload against the configured rooms; `current` is the room's period now. */
export function parsePlaceBet(raw: unknown, durations: readonly number[], timeline: string, current: (duration: number) => string): CompatBet {
  if (typeof raw !== 'object' || raw === null) throw new CompatBetError('INVALID_DATA', 'Missing required fields');
  const o = raw as Record<string, unknown>;
  if (o.gameType !== GAME_TYPE) throw new CompatBetError('INVALID_GAME_TYPE', `Invalid game type ${quoted(o.gameType)}: ${GAME_TYPE}`);
  const duration = o.duration;
  if (typeof duration !== 'number' || !durations.includes(duration)) throw new CompatBetError('INVALID_DURATION', `Invalid duration ${quoted(duration)}: ${durations.join(', ')}`);
  if (o.timeline !== undefined && o.timeline !== timeline) throw new CompatBetError('INVALID_TIMELINE', `Invalid timeline ${quoted(o.timeline)}: ${timeline}`);
  const rawAmount = o.amount ?? o.betAmount;
  if (rawAmount === undefined || o.position === undefined || o.selection === undefined) throw new CompatBetError('INVALID_DATA', 'Missing required fields');
  const amount = rupeesToMinor(rawAmount);
  if (amount === null) throw new CompatBetError('INVALID_DATA', 'Invalid bet amount: a positive number of rupees with at most two decimals');
  const { kind, pick } = kindAndPick(o.position, o.selection);
  const periodId = o.periodId === undefined ? current(duration) : o.periodId;
  if (!isPeriodId(periodId)) throw new CompatBetError('INVALID_DATA', 'periodId must be a 17-digit period id string');
  return { duration, fields: { room: `${GAME_TYPE}_${duration}`, periodId, kind, pick, amount, clientBetId: randomUUID() } };
}

export function betSuccess(ack: BetAck, p: Paytable, timeline: string) {
  const net = netStake(ack.amount, p.feeBps);
  const odds = oddsOf(p, ack.kind, ack.pick);
  return {
    success: true, betId: ack.betId, periodId: ack.periodId, betAmount: minorToRupees(ack.amount), netAmount: minorToRupees(net),
    platformFee: minorToRupees(ack.amount - net), odds, expectedWin: minorToRupees(net * odds), walletBalance: minorToRupees(ack.balance),
    ...betTypeOf(ack.kind, ack.pick), gameType: GAME_TYPE, duration: ack.duration, timeline, message: 'Bet placed successfully',
  };
}

/** A fived refusal in the replaced system's codes (docs/socketio.md has the table). */
export function compatBetError(err: unknown, amountMinor: number | null, feeBps: number): CompatBetError {
  if (err instanceof CompatBetError) return err;
  const e = toFivedError(err);
  const fee = amountMinor === null ? 0 : amountMinor - netStake(amountMinor, feeBps);
  const table: Partial<Record<ErrorCode, [string, string]>> = {
    [ErrorCode.PERIOD_FROZEN]: ['BETTING_CLOSED', 'Betting closed for this period'],
    [ErrorCode.PERIOD_CLOSED]: ['BETTING_CLOSED', `Betting period has ended: ${e.message}`],
    [ErrorCode.PERIOD_VOID]: ['BETTING_CLOSED', e.message],
    [ErrorCode.PERIOD_NOT_OPEN]: ['VALIDATION_ERROR', e.message],
    [ErrorCode.INVALID_PERIOD]: ['VALIDATION_ERROR', e.message],
    [ErrorCode.INSUFFICIENT_FUNDS]: ['INSUFFICIENT_BALANCE', `Insufficient balance. Required: ${rupeeText(amountMinor ?? 0)} (including ${rupeeText(fee)} platform fee)`],
    [ErrorCode.STAKE_TOO_LOW]: ['MINIMUM_NET_BET', e.message],
    [ErrorCode.STAKE_TOO_HIGH]: ['MAXIMUM_BET', e.message],
    [ErrorCode.USER_LIMIT]: ['MAXIMUM_BET', e.message],
    [ErrorCode.LIABILITY_LIMIT]: ['MAXIMUM_BET', e.message],
    [ErrorCode.TOO_MANY_BETS]: ['MAX_BETS_REACHED', e.message],
    [ErrorCode.RATE_LIMITED]: ['VALIDATION_ERROR', e.message],
    [ErrorCode.BALANCE_LIMIT]: ['VALIDATION_ERROR', e.message],
    [ErrorCode.STORE_UNAVAILABLE]: ['REDIS_STORAGE_FAILED', 'System temporarily unavailable'],
    [ErrorCode.INVALID_KIND]: ['INVALID_DATA', e.message],
    [ErrorCode.INVALID_PICK]: ['INVALID_DATA', e.message],
    [ErrorCode.INVALID_AMOUNT]: ['INVALID_DATA', e.message],
  };
  const [code, message] = table[e.code] ?? ['PROCESSING_ERROR', 'Failed to process bet due to server error'];
  return new CompatBetError(code, message);
}

export function betErrorPayload(e: CompatBetError, now: number) {
  return { success: false, message: e.message, code: e.code, timestamp: iso(now) };
}
