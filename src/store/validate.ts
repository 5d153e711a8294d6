// Input checks shared by MemoryStore and RedisStore: both refuse the same input with the same code
// before anything is written.

import { parsePeriodId, validateDuration, validateTimeline } from '../core/clock.js';
import { normalizeHex64, resultMatches } from '../core/draw.js';
import { drawMessage } from '../core/draw-stream.js';
import { isUserId, USER_ID_RULE } from '../core/ids.js';
import { netStake, patternIndex, validateAmount } from '../core/rules.js';
import type { Paytable, PeriodRef, PeriodWindow } from '../core/types.js';
import { ErrorCode, FivedError } from '../errors.js';
import type { BetLimits, Fence, HeldEntry, HistoryEntry, PlaceBetInput, SettlementPlan, StoredResult } from './types.js';

/** FIVED_MAX_BALANCE's default: 10^15 minor units, far below 2^53. */
export const DEFAULT_MAX_BALANCE = 1e15;

/** The maximum balance of StoreOptions: an integer 1..2^53-1 (every balance stays exact in Lua and JS). */
export function maxBalanceOf(opts: { maxBalance?: number }): number {
  const v = opts.maxBalance ?? DEFAULT_MAX_BALANCE;
  if (!Number.isSafeInteger(v) || v < 1) throw new FivedError(ErrorCode.CONFIG_INVALID, `maxBalance ${v} must be an integer from 1 to ${Number.MAX_SAFE_INTEGER}`);
  return v;
}

/** A stored balance read exactly: E_BALANCE_OUT_OF_RANGE unless it is an integer 0..2^53-1. */
export function exactBalance(raw: string | number | null | undefined, userId: string): number {
  const v = raw === null || raw === undefined ? 0 : typeof raw === 'number' ? raw : /^(0|[1-9]\d{0,15})$/.test(raw) ? Number(raw) : NaN; // as HINCRBY reads it: no leading zero
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new FivedError(ErrorCode.BALANCE_OUT_OF_RANGE, `the stored balance of ${userId} (${String(raw)}) is not an exact integer within 0..2^53-1; an operator must correct it`, { userId, stored: String(raw) });
  }
  return v;
}

/** One wallet:heldlog entry, `${member}|${kind}|${userId}|${amount}` (a user id may hold '|': split at both ends). */
export function parseHeldEntry(line: string): HeldEntry | null {
  const first = line.indexOf('|');
  const second = line.indexOf('|', first + 1);
  const last = line.lastIndexOf('|');
  if (first < 0 || second < 0 || last <= second) return null;
  const kind = line.slice(first + 1, second);
  if (kind !== 'payout' && kind !== 'refund') return null;
  return { member: line.slice(0, first), kind, userId: line.slice(second + 1, last), amount: Number(line.slice(last + 1)) };
}

// Ids end up inside key names and journal entries: the one user-id rule of core/ids.ts.
const CLIENT_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

export function validateRef(p: PeriodRef): PeriodRef {
  if (typeof p !== 'object' || p === null) throw new FivedError(ErrorCode.INVALID_PERIOD, 'period missing');
  validateDuration(p.duration);
  validateTimeline(p.timeline);
  parsePeriodId(p.periodId, p.duration);
  return p;
}

export function validateWindow(p: PeriodWindow): PeriodWindow {
  validateRef(p);
  const ok = [p.startsAt, p.freezeAt, p.endsAt].every((t) => typeof t === 'number' && Number.isSafeInteger(t) && t >= 0);
  if (!ok || !(p.startsAt <= p.freezeAt && p.freezeAt <= p.endsAt && p.startsAt < p.endsAt)) {
    throw new FivedError(ErrorCode.INVALID_TIME, 'period window must have integer startsAt <= freezeAt <= endsAt');
  }
  return p;
}

export function validateNow(now: unknown): number {
  if (typeof now !== 'number' || !Number.isFinite(now) || now < 0) throw new FivedError(ErrorCode.INVALID_TIME, `time ${JSON.stringify(now)} must be a finite epoch ms`);
  return Math.floor(now);
}

export function validateUserId(userId: unknown): string {
  if (!isUserId(userId)) throw new FivedError(ErrorCode.INVALID_ID, `userId must be ${USER_ID_RULE}`);
  return userId;
}

/** Bus channels are the game's own (5d_precalc:*). */
export function validateChannel(channel: unknown): string {
  if (typeof channel !== 'string' || !channel.startsWith('5d_precalc:')) throw new FivedError(ErrorCode.BAD_REQUEST, 'channel names begin with 5d_precalc:');
  return channel;
}

export function validateTtl(ttlMs: unknown): number {
  if (!Number.isSafeInteger(ttlMs) || (ttlMs as number) < 1) throw new FivedError(ErrorCode.BAD_REQUEST, 'ttlMs must be a positive integer');
  return ttlMs as number;
}

/** A lease holder is written as `holder|epoch`: non-empty, without '|'. */
export function validateLeaseRequest(holder: unknown, ttlMs: unknown): void {
  if (typeof holder !== 'string' || holder.length === 0 || holder.includes('|')) throw new FivedError(ErrorCode.BAD_REQUEST, 'lease holder must be a non-empty string without |');
  validateTtl(ttlMs);
}

export function validateClaim(period: PeriodRef, claimant: unknown, ttlMs: unknown): void {
  validateRef(period);
  if (typeof claimant !== 'string' || claimant.length === 0) throw new FivedError(ErrorCode.BAD_REQUEST, 'claimant must be a non-empty string');
  validateTtl(ttlMs);
}

/** A history read: the room, an optional cursor period; returns the limit clamped to 1..5000. */
export function validateHistoryQuery(duration: number, timeline: string, opts: { afterPeriodId?: string; limit: number }): number {
  validateRef({ duration, timeline, periodId: opts.afterPeriodId ?? '20000101000000001' });
  return Math.max(1, Math.min(Number.isSafeInteger(opts.limit) ? opts.limit : 100, 5000));
}

export function validateVoid(period: PeriodRef, reason: unknown): void {
  validateRef(period);
  if (typeof reason !== 'string' || reason.length === 0 || reason.length > 500) throw new FivedError(ErrorCode.BAD_REQUEST, 'void reason must be 1-500 characters');
}

export function validateClientId(id: unknown, what = 'clientBetId'): string {
  if (typeof id !== 'string' || !CLIENT_ID.test(id)) throw new FivedError(ErrorCode.INVALID_ID, `${what} must be 1-64 characters of A-Z a-z 0-9 _ . : -`);
  return id;
}

export function validateSeed(seedHex: unknown): string {
  return normalizeHex64(seedHex, 'seed');
}

export function validateFence(f: Fence | undefined): string {
  if (f === undefined) return '';
  if (typeof f !== 'object' || f === null || !Number.isSafeInteger(f.epoch) || f.epoch < 1 || typeof f.holder !== 'string') {
    throw new FivedError(ErrorCode.BAD_REQUEST, 'fence must be { holder, epoch >= 1 }');
  }
  return String(f.epoch);
}

export interface CheckedBet {
  pattern: number;
  amount: number;
  net: number;
  now: number;
}

/** Everything about a bet that does not depend on stored state (ids, kind/pick, amount, per-bet limits). */
export function checkBet(input: PlaceBetInput, limits: BetLimits, paytable: Paytable, now: number): CheckedBet {
  if (typeof input !== 'object' || input === null) throw new FivedError(ErrorCode.BAD_REQUEST, 'bet missing');
  validateWindow(input.period);
  validateUserId(input.userId);
  validateClientId(input.clientBetId);
  const pattern = patternIndex(input.kind, input.pick);
  const amount = validateAmount(input.amount);
  const t = validateNow(now);
  if (amount < limits.minStake) throw new FivedError(ErrorCode.STAKE_TOO_LOW, `stake ${amount} is below the minimum ${limits.minStake}`);
  if (amount > limits.maxStake) throw new FivedError(ErrorCode.STAKE_TOO_HIGH, `stake ${amount} is above the maximum ${limits.maxStake}`);
  const net = netStake(amount, paytable.feeBps);
  if (net < 1) throw new FivedError(ErrorCode.STAKE_TOO_LOW, `stake ${amount} leaves no net stake after the fee`);
  return { pattern, amount, net, now: t };
}

export function validateResult(r: StoredResult): void {
  validateDrawn(r);
}

/** A revealed draw (a result or a history entry): ref, digits, sum, seed, commitment. */
export function validateDrawn(r: Omit<HistoryEntry, never>): void {
  if (typeof r !== 'object' || r === null) throw new FivedError(ErrorCode.BAD_REQUEST, 'result missing');
  validateRef(r);
  if (!Array.isArray(r.digits) || r.digits.length !== 5 || !r.digits.every((d) => Number.isInteger(d) && d >= 0 && d <= 9)) {
    throw new FivedError(ErrorCode.BAD_REQUEST, 'result digits must be five integers 0-9');
  }
  if (r.sum !== r.digits.reduce((a, b) => a + b, 0)) throw new FivedError(ErrorCode.BAD_REQUEST, 'result sum must equal the sum of its digits');
  normalizeHex64(r.seed, 'seed');
  normalizeHex64(r.commitment, 'commitment');
}

/** Checks a plan's internal consistency; returns the winners (user index, payout) in user order. */
export function checkPlan(plan: SettlementPlan): { winners: number[]; total: number } {
  if (typeof plan !== 'object' || plan === null) throw new FivedError(ErrorCode.BAD_REQUEST, 'plan missing');
  validateWindow(plan.period);
  const bad = (m: string) => new FivedError(ErrorCode.INVALID_BETS, `settlement plan: ${m}`);
  if (!Number.isSafeInteger(plan.betCount) || plan.betCount < 0) throw bad('betCount must be a non-negative integer');
  if (!(plan.payouts instanceof Float64Array) || plan.payouts.length !== plan.betCount) throw bad('payouts must be a Float64Array of betCount entries');
  if (!Array.isArray(plan.users) || !(plan.userPayouts instanceof Float64Array) || plan.userPayouts.length !== plan.users.length) {
    throw bad('userPayouts must be a Float64Array with one entry per user');
  }
  const winners: number[] = [];
  let total = 0;
  for (let i = 0; i < plan.userPayouts.length; i++) {
    const v = plan.userPayouts[i]!;
    if (!Number.isSafeInteger(v) || v < 0) throw bad(`user payout ${v} is not a non-negative integer`);
    if (v > 0) {
      validateUserId(plan.users[i]);
      winners.push(i);
      total += v;
    }
  }
  let betTotal = 0;
  for (let i = 0; i < plan.payouts.length; i++) {
    const v = plan.payouts[i]!;
    if (!Number.isSafeInteger(v) || v < 0) throw bad(`bet payout ${v} is not a non-negative integer`);
    betTotal += v;
  }
  if (!Number.isSafeInteger(total) || !Number.isSafeInteger(betTotal)) throw bad('the total payout must stay below 2^53');
  if (total !== plan.totalPayout || betTotal !== total) throw bad(`totals disagree (users ${total}, bets ${betTotal}, plan ${plan.totalPayout})`);
  return { winners, total };
}

/**
 * True when a stored result is exactly what its seed gives and its seed opens the period's
 * commitment (`expectedCommitment`, when given, must also be the result's). Never throws: a
 * malformed result simply does not verify.
 */
export function storedResultVerifies(r: Pick<StoredResult, 'duration' | 'timeline' | 'periodId' | 'digits' | 'sum' | 'seed' | 'commitment'>, expectedCommitment?: string | null): boolean {
  try {
    if (expectedCommitment !== undefined && expectedCommitment !== null && expectedCommitment !== r.commitment) return false;
    if (!Array.isArray(r.digits) || r.digits.length !== 5) return false;
    return resultMatches(r.seed, r.commitment, drawMessage(r), r.digits) && r.digits.reduce((a, b) => a + b, 0) === r.sum;
  } catch {
    return false;
  }
}
