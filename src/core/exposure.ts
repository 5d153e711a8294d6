// Exposure (liability) over all 100,000 outcomes, for reporting and acceptance limits only —
// never for choosing a result (docs/design.md rule 1).
//
// Outcome o = A*10^4 + B*10^3 + C*100 + D*10 + E. A pattern's payout depends on one digit or on
// the sum only, so the payout of an outcome is PA[A] + PB[B] + PC[C] + PD[D] + PE[E] + PS[sum],
// with per-position per-digit tables (number + big/small + odd/even bets that digit satisfies)
// and a sum table (46 sums). Building the tables is O(74); the table of all outcomes is one
// nested loop of 100,000 additions — no per-bet or per-pattern work per outcome.

import { ErrorCode, FivedError } from '../errors.js';
import { recordViews, validateRecords } from './betbuf.js';
import { MAX_AMOUNT, multiplierTable, netStake, validateBet, validatePaytable } from './rules.js';
import {
  BET_RECORD_BYTES,
  OUTCOME_COUNT,
  PATTERN_COUNT,
  PICKS_PER_POSITION,
  SUM_PATTERN_BASE,
  type Bet,
  type ExposureSummary,
  type Paytable,
} from './types.js';

/** Per-pattern stake totals (length 74 each): gross as staked, net after the fee (floored per bet). */
export interface PatternTotals {
  gross: Float64Array;
  net: Float64Array;
}

export function emptyTotals(): PatternTotals {
  return { gross: new Float64Array(PATTERN_COUNT), net: new Float64Array(PATTERN_COUNT) };
}

/** Per-pattern totals of a compact bet buffer (every record validated first). */
export function aggregate(records: Uint8Array, paytable: Paytable): PatternTotals {
  validatePaytable(paytable);
  const v = recordViews(records);
  validateRecords(v, Number.MAX_SAFE_INTEGER, MAX_AMOUNT);
  const t = emptyTotals();
  const keep = 10_000 - paytable.feeBps;
  for (let i = 0; i < v.count; i++) {
    const p = v.u8[i * BET_RECORD_BYTES + 4]!;
    const a = v.f64[i * 2 + 1]!;
    t.gross[p] = t.gross[p]! + a;
    t.net[p] = t.net[p]! + Math.floor((a * keep) / 10_000);
  }
  return t;
}

/** Per-pattern totals of a list of bets (all validated before any is counted). */
export function aggregateBets(bets: readonly Bet[], paytable: Paytable): PatternTotals {
  validatePaytable(paytable);
  const patterns = bets.map(validateBet);
  const t = emptyTotals();
  bets.forEach((b, i) => {
    const p = patterns[i]!;
    t.gross[p] = t.gross[p]! + b.amount;
    t.net[p] = t.net[p]! + netStake(b.amount, paytable.feeBps);
  });
  return t;
}

function validateTotals(a: ArrayLike<number>, what: string): void {
  if (a == null || a.length !== PATTERN_COUNT) throw new FivedError(ErrorCode.INVALID_BETS, `${what} must have ${PATTERN_COUNT} entries`);
  for (let i = 0; i < PATTERN_COUNT; i++) {
    const x = a[i]!;
    if (!(x >= 0 && x <= Number.MAX_SAFE_INTEGER && Math.floor(x) === x)) {
      throw new FivedError(ErrorCode.INVALID_BETS, `${what}[${i}]=${x} must be a non-negative integer`);
    }
  }
}

/**
 * Payout tables: pos[p*10 + d] = total payout of the position-p bets won when digit p is d;
 * sum[s] = total payout of the SUM bets won when the sum is s (0..45).
 */
export function payoutTables(net: ArrayLike<number>, paytable: Paytable): { pos: Float64Array; sum: Float64Array } {
  const mult = multiplierTable(paytable);
  const pos = new Float64Array(50);
  for (let p = 0; p < 5; p++) {
    const b = p * PICKS_PER_POSITION;
    for (let d = 0; d <= 9; d++) {
      pos[p * 10 + d] =
        net[b + d]! * mult[b + d]! +
        (d >= 5 ? net[b + 10]! * mult[b + 10]! : net[b + 11]! * mult[b + 11]!) +
        (d % 2 === 1 ? net[b + 12]! * mult[b + 12]! : net[b + 13]! * mult[b + 13]!);
    }
  }
  const s = SUM_PATTERN_BASE;
  const sum = new Float64Array(46);
  for (let v = 0; v <= 45; v++) {
    sum[v] =
      (v >= 23 ? net[s]! * mult[s]! : net[s + 1]! * mult[s + 1]!) +
      (v % 2 === 1 ? net[s + 2]! * mult[s + 2]! : net[s + 3]! * mult[s + 3]!);
  }
  return { pos, sum };
}

export interface ExposureResult {
  summary: ExposureSummary;
  /** total payout per outcome (length 100,000), when asked for */
  table?: Float64Array;
}

/**
 * Exposure of a period from its per-pattern totals: the payout of every outcome (written into
 * `out` when given), its maximum and minimum with the first outcome reaching the maximum.
 */
export function exposureSummary(totals: PatternTotals, paytable: Paytable, out?: Float64Array): ExposureSummary {
  validatePaytable(paytable);
  validateTotals(totals.net, 'net totals');
  validateTotals(totals.gross, 'gross totals');
  if (out !== undefined && (!(out instanceof Float64Array) || out.length !== OUTCOME_COUNT)) {
    throw new FivedError(ErrorCode.BAD_REQUEST, `exposure output must be a Float64Array(${OUTCOME_COUNT})`);
  }
  const { pos, sum } = payoutTables(totals.net, paytable);
  let max = -1;
  let maxOutcome = 0;
  let min = Infinity;
  let o = 0;
  for (let a = 0; a <= 9; a++) {
    const va = pos[a]!;
    for (let b = 0; b <= 9; b++) {
      const vb = va + pos[10 + b]!;
      const sb = a + b;
      for (let c = 0; c <= 9; c++) {
        const vc = vb + pos[20 + c]!;
        const sc = sb + c;
        for (let d = 0; d <= 9; d++) {
          const vd = vc + pos[30 + d]!;
          const sd = sc + d;
          for (let e = 0; e <= 9; e++) {
            const v = vd + pos[40 + e]! + sum[sd + e]!;
            if (out !== undefined) out[o] = v;
            if (v > max) {
              max = v;
              maxOutcome = o;
            }
            if (v < min) min = v;
            o++;
          }
        }
      }
    }
  }
  const mult = multiplierTable(paytable);
  let totalStake = 0;
  let totalNet = 0;
  let totalExposure = 0;
  let patternCount = 0;
  for (let i = 0; i < PATTERN_COUNT; i++) {
    totalStake += totals.gross[i]!;
    totalNet += totals.net[i]!;
    totalExposure += totals.net[i]! * mult[i]!;
    if (totals.gross[i]! > 0) patternCount++;
  }
  if (totalExposure > Number.MAX_SAFE_INTEGER || totalStake > Number.MAX_SAFE_INTEGER) {
    throw new FivedError(ErrorCode.INVALID_BETS, 'stake totals exceed the exact integer range');
  }
  return { totalStake, totalNet, patternCount, maxLiability: max, maxOutcome, minLiability: min, totalExposure };
}

/** Exposure summary plus, when `withTable`, the payout of all 100,000 outcomes. */
export function computeExposure(totals: PatternTotals, paytable: Paytable, withTable = false): ExposureResult {
  if (!withTable) return { summary: exposureSummary(totals, paytable) };
  const table = new Float64Array(OUTCOME_COUNT);
  return { summary: exposureSummary(totals, paytable, table), table };
}

/** Outcome number of five digits (A*10^4 + … + E), and back. */
export function outcomeOf(digits: ArrayLike<number>): number {
  return digits[0]! * 10_000 + digits[1]! * 1000 + digits[2]! * 100 + digits[3]! * 10 + digits[4]!;
}

export function digitsOfOutcome(o: number): [number, number, number, number, number] {
  return [Math.floor(o / 10_000) % 10, Math.floor(o / 1000) % 10, Math.floor(o / 100) % 10, Math.floor(o / 10) % 10, o % 10];
}
