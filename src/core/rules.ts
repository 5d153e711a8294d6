// Rules and paytable of 5D: bet validation, pattern indexing, win predicates, fee and payout.
// Pure: no I/O, no clock. Money is integer minor units.

import { ErrorCode, FivedError } from '../errors.js';
import {
  BET_KINDS,
  PATTERN_COUNT,
  PICKS_PER_POSITION,
  SIDE_PICKS,
  SUM_PATTERN_BASE,
  type Bet,
  type BetKind,
  type BetPick,
  type Paytable,
  type SidePick,
} from './types.js';

const SIDE_OFFSET: Record<SidePick, number> = { big: 10, small: 11, odd: 12, even: 13 };
const SUM_OFFSET: Record<SidePick, number> = { big: 0, small: 1, odd: 2, even: 3 };

/** Largest amount accepted anywhere (keeps amount × multiplier an exact integer in f64). */
export const MAX_AMOUNT = 1e12;

export function isBetKind(k: unknown): k is BetKind {
  return typeof k === 'string' && (BET_KINDS as readonly string[]).includes(k);
}

/** Validates kind + pick and returns the dense pattern index 0..73. */
export function patternIndex(kind: unknown, pick: unknown): number {
  if (!isBetKind(kind)) {
    throw new FivedError(ErrorCode.INVALID_KIND, `unknown bet kind ${JSON.stringify(kind)}; expected one of ${BET_KINDS.join(', ')}`);
  }
  if (kind === 'SUM') {
    if (typeof pick === 'string' && (SIDE_PICKS as readonly string[]).includes(pick)) {
      return SUM_PATTERN_BASE + SUM_OFFSET[pick as SidePick];
    }
    throw new FivedError(ErrorCode.INVALID_PICK, `pick ${JSON.stringify(pick)} is not valid for SUM; expected big, small, odd or even`);
  }
  const base = BET_KINDS.indexOf(kind) * PICKS_PER_POSITION;
  if (typeof pick === 'number') {
    if (Number.isInteger(pick) && pick >= 0 && pick <= 9) return base + pick;
  } else if (typeof pick === 'string' && (SIDE_PICKS as readonly string[]).includes(pick)) {
    return base + SIDE_OFFSET[pick as SidePick];
  }
  throw new FivedError(ErrorCode.INVALID_PICK, `pick ${JSON.stringify(pick)} is not valid for position ${kind}; expected 0-9, big, small, odd or even`);
}

/** The (kind, pick) of a pattern index; inverse of patternIndex. */
export function patternOf(index: number): { kind: BetKind; pick: BetPick } {
  if (!Number.isInteger(index) || index < 0 || index >= PATTERN_COUNT) {
    throw new FivedError(ErrorCode.INVALID_PICK, `pattern index ${index} out of range 0..${PATTERN_COUNT - 1}`);
  }
  if (index >= SUM_PATTERN_BASE) {
    return { kind: 'SUM', pick: SIDE_PICKS[index - SUM_PATTERN_BASE]! };
  }
  const pos = Math.floor(index / PICKS_PER_POSITION);
  const off = index % PICKS_PER_POSITION;
  return { kind: BET_KINDS[pos]!, pick: off < 10 ? off : SIDE_PICKS[off - 10]! };
}

export function validateAmount(amount: unknown): number {
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0 || amount > MAX_AMOUNT) {
    throw new FivedError(ErrorCode.INVALID_AMOUNT, `amount ${JSON.stringify(amount)} must be a positive integer of minor units up to ${MAX_AMOUNT}`);
  }
  return amount;
}

export function validatePaytable(p: Paytable): Paytable {
  const ints = ['number', 'bigSmall', 'oddEven', 'sumBigSmall', 'sumOddEven'] as const;
  for (const k of ints) {
    const v = p[k];
    if (!Number.isSafeInteger(v) || v < 1 || v > 1000) {
      throw new FivedError(ErrorCode.INVALID_PAYTABLE, `paytable.${k}=${v} must be an integer multiplier from 1 to 1000`);
    }
  }
  if (!Number.isSafeInteger(p.feeBps) || p.feeBps < 0 || p.feeBps >= 10_000) {
    throw new FivedError(ErrorCode.INVALID_PAYTABLE, `paytable.feeBps=${p.feeBps} must be an integer from 0 to 9999`);
  }
  return p;
}

/** Validates a bet at the boundary and returns its pattern index. */
export function validateBet(bet: Bet): number {
  if (typeof bet.userId !== 'string' || bet.userId.length === 0 || bet.userId.length > 128) {
    throw new FivedError(ErrorCode.INVALID_ID, 'userId must be a non-empty string of at most 128 characters');
  }
  validateAmount(bet.amount);
  return patternIndex(bet.kind, bet.pick);
}

/** Net stake after the service fee: floor(stake × (10000 − fee) / 10000). */
export function netStake(amount: number, feeBps: number): number {
  if (!Number.isSafeInteger(amount) || amount < 0 || !Number.isSafeInteger(feeBps) || feeBps < 0 || feeBps >= 10_000) {
    throw new FivedError(ErrorCode.INVALID_AMOUNT, `netStake(${amount}, ${feeBps}): amount must be a non-negative integer and the fee 0..9999 bps`);
  }
  // amount ≤ 1e12 and (10000 - fee) ≤ 1e4 keep the product below 2^53: exact.
  return Math.floor((amount * (10_000 - feeBps)) / 10_000);
}

/** Multiplier of a pattern under a paytable. */
export function multiplierOf(pattern: number, p: Paytable): number {
  if (pattern >= SUM_PATTERN_BASE) return pattern - SUM_PATTERN_BASE < 2 ? p.sumBigSmall : p.sumOddEven;
  const off = pattern % PICKS_PER_POSITION;
  if (off < 10) return p.number;
  return off < 12 ? p.bigSmall : p.oddEven;
}

/** Multipliers of all 74 patterns, in pattern order (hot loops index this table). */
export function multiplierTable(p: Paytable): Float64Array {
  const t = new Float64Array(PATTERN_COUNT);
  for (let i = 0; i < PATTERN_COUNT; i++) t[i] = multiplierOf(i, p);
  return t;
}

/** SUM big is 23..45, small 0..22: exactly 50/50 over the 100,000 outcomes. */
export const SUM_BIG_MIN = 23;

/** Does a pattern win for these digits (and their sum)? The reference predicate. */
export function patternWins(pattern: number, digits: ArrayLike<number>, sum: number): boolean {
  if (pattern >= SUM_PATTERN_BASE) {
    switch (pattern - SUM_PATTERN_BASE) {
      case 0: return sum >= SUM_BIG_MIN;
      case 1: return sum < SUM_BIG_MIN;
      case 2: return sum % 2 === 1;
      default: return sum % 2 === 0;
    }
  }
  const d = digits[Math.floor(pattern / PICKS_PER_POSITION)]!;
  const off = pattern % PICKS_PER_POSITION;
  if (off < 10) return d === off;
  switch (off) {
    case 10: return d >= 5;
    case 11: return d <= 4;
    case 12: return d % 2 === 1;
    default: return d % 2 === 0;
  }
}

/** The 74 winning flags for one result, as a table (settlement indexes it per bet). */
export function winningPatterns(digits: ArrayLike<number>, sum: number): Uint8Array {
  const w = new Uint8Array(PATTERN_COUNT);
  for (let i = 0; i < PATTERN_COUNT; i++) w[i] = patternWins(i, digits, sum) ? 1 : 0;
  return w;
}

/**
 * A cheap upper bound of the maximum liability, for bet acceptance limits: per position, the
 * largest payout any one digit can trigger (its number bet + the big/small and odd/even bets it
 * satisfies), summed over positions, plus the larger SUM big/small payout and the larger SUM
 * odd/even payout. Never below the true maximum (each outcome picks one digit per position and
 * one side of each SUM pair). `netTotals` are per-pattern net stakes (length 74).
 */
export function liabilityUpperBound(netTotals: ArrayLike<number>, p: Paytable): number {
  validatePaytable(p);
  if (netTotals == null || netTotals.length !== PATTERN_COUNT) {
    throw new FivedError(ErrorCode.INVALID_BETS, `net totals must have ${PATTERN_COUNT} entries`);
  }
  let bound = 0;
  for (let pos = 0; pos < 5; pos++) {
    const b = pos * PICKS_PER_POSITION;
    let best = 0;
    for (let d = 0; d <= 9; d++) {
      const v =
        netTotals[b + d]! * p.number +
        (d >= 5 ? netTotals[b + 10]! : netTotals[b + 11]!) * p.bigSmall +
        (d % 2 === 1 ? netTotals[b + 12]! : netTotals[b + 13]!) * p.oddEven;
      if (v > best) best = v;
    }
    bound += best;
  }
  const s = SUM_PATTERN_BASE;
  bound += Math.max(netTotals[s]!, netTotals[s + 1]!) * p.sumBigSmall;
  bound += Math.max(netTotals[s + 2]!, netTotals[s + 3]!) * p.sumOddEven;
  return bound;
}
