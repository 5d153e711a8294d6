import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeBets } from '../src/core/betbuf.js';
import { aggregate, aggregateBets, computeExposure, digitsOfOutcome, exposureSummary, outcomeOf, payoutTables } from '../src/core/exposure.js';
import { liabilityUpperBound } from '../src/core/rules.js';
import { DEFAULT_PAYTABLE, OUTCOME_COUNT, SIDE_PICKS, type Bet, type BetKind, type BetPick, type Paytable } from '../src/core/types.js';
import { FivedError } from '../src/errors.js';

// ---- an independent reference, written from the docs/design.md table (kind/pick, not pattern indices) ----
function refWins(kind: BetKind, pick: BetPick, digits: number[]): boolean {
  const value = kind === 'SUM' ? digits.reduce((a, b) => a + b, 0) : digits['ABCDE'.indexOf(kind)]!;
  if (typeof pick === 'number') return value === pick;
  const bigFrom = kind === 'SUM' ? 23 : 5;
  if (pick === 'big') return value >= bigFrom;
  if (pick === 'small') return value < bigFrom;
  return pick === 'odd' ? value % 2 === 1 : value % 2 === 0;
}
function refMultiplier(kind: BetKind, pick: BetPick, p: Paytable): number {
  if (kind === 'SUM') return pick === 'big' || pick === 'small' ? p.sumBigSmall : p.sumOddEven;
  if (typeof pick === 'number') return p.number;
  return pick === 'big' || pick === 'small' ? p.bigSmall : p.oddEven;
}
const refNet = (amount: number, feeBps: number) => Math.floor((amount * (10_000 - feeBps)) / 10_000);

/** Brute force: for every outcome, every distinct (kind, pick) with its summed net stake. */
function bruteForce(bets: Bet[], p: Paytable): Float64Array {
  const groups = new Map<string, { kind: BetKind; pick: BetPick; net: number }>();
  for (const b of bets) {
    const k = `${b.kind}/${b.pick}`;
    const g = groups.get(k) ?? { kind: b.kind, pick: b.pick, net: 0 };
    g.net += refNet(b.amount, p.feeBps);
    groups.set(k, g);
  }
  const list = [...groups.values()];
  const out = new Float64Array(OUTCOME_COUNT);
  for (let o = 0; o < OUTCOME_COUNT; o++) {
    const digits = [Math.floor(o / 10_000), Math.floor(o / 1000) % 10, Math.floor(o / 100) % 10, Math.floor(o / 10) % 10, o % 10];
    let total = 0;
    for (const g of list) if (refWins(g.kind, g.pick, digits)) total += g.net * refMultiplier(g.kind, g.pick, p);
    out[o] = total;
  }
  return out;
}

const KINDS: BetKind[] = ['A', 'B', 'C', 'D', 'E', 'SUM'];
const arbBet = fc
  .record({
    userId: fc.constantFrom('u1', 'u2', 'u3', 'u4'),
    kind: fc.constantFrom(...KINDS),
    num: fc.integer({ min: 0, max: 9 }),
    side: fc.constantFrom(...SIDE_PICKS),
    useNum: fc.boolean(),
    amount: fc.integer({ min: 1, max: 1_000_000 }),
  })
  .map(({ userId, kind, num, side, useNum, amount }): Bet => ({ userId, kind, pick: kind !== 'SUM' && useNum ? num : side, amount }));
const arbPaytable = fc.record({
  feeBps: fc.integer({ min: 0, max: 9999 }),
  number: fc.integer({ min: 1, max: 1000 }),
  bigSmall: fc.integer({ min: 1, max: 1000 }),
  oddEven: fc.integer({ min: 1, max: 1000 }),
  sumBigSmall: fc.integer({ min: 1, max: 1000 }),
  sumOddEven: fc.integer({ min: 1, max: 1000 }),
});

function allPatternBets(amount = 1000): Bet[] {
  const bets: Bet[] = [];
  for (const kind of ['A', 'B', 'C', 'D', 'E'] as const) {
    for (let d = 0; d <= 9; d++) bets.push({ userId: 'u', kind, pick: d, amount: amount + d });
    for (const s of SIDE_PICKS) bets.push({ userId: 'u', kind, pick: s, amount });
  }
  for (const s of SIDE_PICKS) bets.push({ userId: 'u', kind: 'SUM', pick: s, amount: amount * 3 });
  return bets;
}

function checkAgainstBruteForce(bets: Bet[], p: Paytable): void {
  const ref = bruteForce(bets, p);
  const { summary, table } = computeExposure(aggregateBets(bets, p), p, true);
  let firstDiff = -1;
  for (let o = 0; o < OUTCOME_COUNT && firstDiff < 0; o++) if (table![o] !== ref[o]) firstDiff = o;
  expect(firstDiff, `outcome ${firstDiff}: ${table![firstDiff]} vs reference ${ref[firstDiff]}`).toBe(-1);
  let max = -1;
  let maxOutcome = -1;
  let min = Infinity;
  for (let o = 0; o < OUTCOME_COUNT; o++) {
    if (ref[o]! > max) [max, maxOutcome] = [ref[o]!, o];
    min = Math.min(min, ref[o]!);
  }
  const distinct = new Set(bets.map((b) => `${b.kind}/${b.pick}`)).size;
  const totalStake = bets.reduce((s, b) => s + b.amount, 0);
  const totalNet = bets.reduce((s, b) => s + refNet(b.amount, p.feeBps), 0);
  const totalExposure = bets.reduce((s, b) => s + refNet(b.amount, p.feeBps) * refMultiplier(b.kind, b.pick, p), 0);
  expect(summary).toEqual({ totalStake, totalNet, patternCount: distinct, maxLiability: max, maxOutcome, minLiability: min, totalExposure });
  // the cheap bound used for acceptance limits is never below the truth
  expect(liabilityUpperBound(aggregateBets(bets, p).net, p)).toBeGreaterThanOrEqual(max);
  // the buffer path aggregates the same totals
  expect(aggregate(encodeBets(bets).records, p)).toEqual(aggregateBets(bets, p));
}

describe('exposure over all 100,000 outcomes', () => {
  it('equals the brute-force reference with all 74 patterns present', () => {
    checkAgainstBruteForce(allPatternBets(), DEFAULT_PAYTABLE);
    expect(computeExposure(aggregateBets(allPatternBets(), DEFAULT_PAYTABLE), DEFAULT_PAYTABLE).summary.patternCount).toBe(74);
  });

  it('equals the brute-force reference for random bet sets and paytables (property)', () => {
    fc.assert(
      fc.property(fc.array(arbBet, { minLength: 0, maxLength: 120 }), arbPaytable, (bets, p) => checkAgainstBruteForce(bets, p)),
      { numRuns: 40 },
    );
  });

  it('reports the docs/design.md example: 100 on A=7 pays 882 on the 10,000 outcomes with A=7', () => {
    const bets: Bet[] = [{ userId: 'u', kind: 'A', pick: 7, amount: 100 }];
    const table = new Float64Array(OUTCOME_COUNT);
    const s = exposureSummary(aggregateBets(bets, DEFAULT_PAYTABLE), DEFAULT_PAYTABLE, table);
    expect(s).toMatchObject({ totalStake: 100, totalNet: 98, patternCount: 1, maxLiability: 882, maxOutcome: 70_000, minLiability: 0, totalExposure: 882 });
    expect(table.filter((v) => v === 882).length).toBe(10_000);
    expect(table[outcomeOf([7, 1, 2, 3, 4])]).toBe(882);
    expect(table[outcomeOf([6, 1, 2, 3, 4])]).toBe(0);
  });

  it('splits SUM big/small exactly 50/50 (23-45 big)', () => {
    const bets: Bet[] = [{ userId: 'u', kind: 'SUM', pick: 'big', amount: 10_000 }];
    const { table } = computeExposure(aggregateBets(bets, DEFAULT_PAYTABLE), DEFAULT_PAYTABLE, true);
    expect(table!.filter((v) => v > 0).length).toBe(50_000);
    expect(payoutTables(aggregateBets(bets, DEFAULT_PAYTABLE).net, DEFAULT_PAYTABLE).sum[22]).toBe(0);
  });

  it('has no bets, no liability', () => {
    const s = computeExposure(aggregateBets([], DEFAULT_PAYTABLE), DEFAULT_PAYTABLE).summary;
    expect(s).toEqual({ totalStake: 0, totalNet: 0, patternCount: 0, maxLiability: 0, maxOutcome: 0, minLiability: 0, totalExposure: 0 });
  });

  it('maps outcomes to digits and back', () => {
    for (const o of [0, 1, 9, 10, 12_345, 70_000, 99_999]) expect(outcomeOf(digitsOfOutcome(o))).toBe(o);
    expect(digitsOfOutcome(12_345)).toEqual([1, 2, 3, 4, 5]);
  });

  it('refuses bad bets, totals and paytables before computing anything', () => {
    const c = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return e instanceof FivedError ? e.code : 'other';
      }
      return undefined;
    };
    const ok: Bet = { userId: 'u', kind: 'A', pick: 1, amount: 10 };
    expect(c(() => aggregateBets([ok, { ...ok, kind: 'F' as BetKind }], DEFAULT_PAYTABLE))).toBe('E_INVALID_KIND');
    expect(c(() => aggregateBets([ok, { ...ok, pick: 10 }], DEFAULT_PAYTABLE))).toBe('E_INVALID_PICK');
    expect(c(() => aggregateBets([ok, { ...ok, kind: 'SUM', pick: 3 }], DEFAULT_PAYTABLE))).toBe('E_INVALID_PICK');
    expect(c(() => aggregateBets([ok, { ...ok, amount: 1.5 }], DEFAULT_PAYTABLE))).toBe('E_INVALID_AMOUNT');
    expect(c(() => aggregateBets([ok, { ...ok, amount: 0 }], DEFAULT_PAYTABLE))).toBe('E_INVALID_AMOUNT');
    expect(c(() => aggregateBets([ok], { ...DEFAULT_PAYTABLE, number: 0 }))).toBe('E_INVALID_PAYTABLE');
    expect(c(() => aggregateBets([ok], { ...DEFAULT_PAYTABLE, feeBps: 10_000 }))).toBe('E_INVALID_PAYTABLE');
    const t = aggregateBets([ok], DEFAULT_PAYTABLE);
    expect(c(() => exposureSummary({ gross: t.gross, net: new Float64Array(73) }, DEFAULT_PAYTABLE))).toBe('E_INVALID_BETS');
    const neg = t.net.slice();
    neg[3] = -1;
    expect(c(() => exposureSummary({ gross: t.gross, net: neg }, DEFAULT_PAYTABLE))).toBe('E_INVALID_BETS');
    expect(c(() => aggregate(new Uint8Array(17), DEFAULT_PAYTABLE))).toBe('E_INVALID_BETS');
  });
});
