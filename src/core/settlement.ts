// Settlement of a period: each bet's payout for a result (net stake × multiplier when its
// pattern wins, else 0) and per-user totals. Two entry points with one rule: the compact buffer
// (worker, 1,000,000 bets) and a plain list of bets (small lists, tools, tests).

import { ErrorCode, FivedError } from '../errors.js';
import { recordViews, validateRecords, type RecordViews } from './betbuf.js';
import { validateDrawResult } from './draw-stream.js';
import { MAX_AMOUNT, multiplierTable, netStake, validateBet, validatePaytable, winningPatterns } from './rules.js';
import { BET_RECORD_BYTES, PATTERN_COUNT, type Bet, type BetSnapshot, type DrawResult, type Paytable, type SettlementSummary } from './types.js';

/**
 * Payout per pattern for a result: net-stake multiplier if it wins, else 0. A bet's payout is
 * netStake(amount) × this; one table lookup per bet in the hot loop.
 */
export function winMultipliers(draw: DrawResult, paytable: Paytable): Float64Array {
  const wins = winningPatterns(draw.digits, draw.sum);
  const mult = multiplierTable(paytable);
  const out = new Float64Array(PATTERN_COUNT);
  for (let i = 0; i < PATTERN_COUNT; i++) out[i] = wins[i] ? mult[i]! : 0;
  return out;
}

/**
 * The settlement loop. It validates every record as it goes (pattern 0..73, user index within
 * `userCount`, amount a positive integer ≤ MAX_AMOUNT) and throws E_INVALID_BETS if any is bad;
 * everything it fills is freshly allocated and returned only at the end, so a throw leaves
 * nothing half-applied, and a 1,000,000-bet buffer is read once, not twice. Also fills
 * per-pattern gross/net totals (pass zeroed arrays; the worker computes exposure from them).
 */
export function settleViews(
  v: RecordViews,
  userCount: number,
  winMult: Float64Array,
  feeBps: number,
  totals: { gross: Float64Array; net: Float64Array } = { gross: new Float64Array(PATTERN_COUNT), net: new Float64Array(PATTERN_COUNT) },
): SettlementSummary {
  const { count, u32, u8, f64 } = v;
  const { gross, net: netTotals } = totals;
  const payouts = new Float64Array(count);
  const userPayouts = new Float64Array(userCount);
  const perPattern = new Float64Array(PATTERN_COUNT); // bet count per pattern
  const keep = 10_000 - feeBps;
  // Branch-light loop: per-bet work is the payout and the user total; the period totals
  // (stake, payout, winners) follow from the per-pattern sums afterwards (exact integers).
  // Invalid records are counted without a branch and reported after the loop (a bad record's
  // out-of-range writes to typed arrays are no-ops, and nothing computed here escapes a throw).
  let invalid = 0;
  for (let i = 0; i < count; i++) {
    const p = u8[i * BET_RECORD_BYTES + 4]!;
    const a = f64[i * 2 + 1]!;
    const u = u32[i * 4]!;
    invalid += +(p >= PATTERN_COUNT) + +(u >= userCount) + +(a < 1) + +(a > MAX_AMOUNT) + +(Math.floor(a) !== a);
    const net = Math.floor((a * keep) / 10_000);
    gross[p] = gross[p]! + a;
    netTotals[p] = netTotals[p]! + net;
    perPattern[p] = perPattern[p]! + 1;
    const pay = net * winMult[p]!;
    payouts[i] = pay;
    if (pay !== 0) userPayouts[u] = userPayouts[u]! + pay;
  }
  if (invalid !== 0) {
    validateRecords(v, userCount, MAX_AMOUNT); // throws, naming the first bad record
    throw new FivedError(ErrorCode.INVALID_BETS, `${invalid} invalid bet records`);
  }
  let totalStake = 0;
  let totalPayout = 0;
  let winnerCount = 0;
  for (let p = 0; p < PATTERN_COUNT; p++) {
    totalStake += gross[p]!;
    if (winMult[p] !== 0) {
      totalPayout += netTotals[p]! * winMult[p]!;
      winnerCount += perPattern[p]!;
    }
  }
  if (totalStake > Number.MAX_SAFE_INTEGER || totalPayout > Number.MAX_SAFE_INTEGER) {
    throw new FivedError(ErrorCode.INVALID_BETS, 'stake or payout totals exceed the exact integer range');
  }
  return { betCount: count, winnerCount, totalStake, totalPayout, payouts, userPayouts };
}

/** Settles a compact snapshot for a result (every record validated before any is settled). */
export function settleSnapshot(draw: DrawResult, snapshot: BetSnapshot, paytable: Paytable): SettlementSummary {
  validateDrawResult(draw);
  validatePaytable(paytable);
  if (!Array.isArray(snapshot.users)) throw new FivedError(ErrorCode.INVALID_BETS, 'snapshot.users must be an array of user ids');
  const v = recordViews(snapshot.records);
  return settleViews(v, snapshot.users.length, winMultipliers(draw, paytable), paytable.feeBps);
}

export interface SettledBet {
  win: boolean;
  net: number;
  payout: number;
}

export interface UserTotal {
  stake: number;
  payout: number;
}

export interface BetsSettlement {
  bets: SettledBet[];
  users: Map<string, UserTotal>;
  betCount: number;
  winnerCount: number;
  totalStake: number;
  totalPayout: number;
}

/** Settles a plain list of bets (all validated before any is settled). */
export function settleBets(bets: readonly Bet[], draw: DrawResult, paytable: Paytable): BetsSettlement {
  validateDrawResult(draw);
  validatePaytable(paytable);
  const patterns = bets.map(validateBet);
  const winMult = winMultipliers(draw, paytable);
  const users = new Map<string, UserTotal>();
  let totalStake = 0;
  let totalPayout = 0;
  let winnerCount = 0;
  const settled = bets.map((b, i): SettledBet => {
    const m = winMult[patterns[i]!]!;
    const net = netStake(b.amount, paytable.feeBps);
    const payout = net * m;
    const u = users.get(b.userId) ?? { stake: 0, payout: 0 };
    u.stake += b.amount;
    u.payout += payout;
    users.set(b.userId, u);
    totalStake += b.amount;
    totalPayout += payout;
    if (m !== 0) winnerCount++;
    return { win: m !== 0, net, payout };
  });
  return { bets: settled, users, betCount: bets.length, winnerCount, totalStake, totalPayout };
}
