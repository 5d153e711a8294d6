import { describe, expect, it } from 'vitest';
import { aggregateBets, computeExposure } from '../src/core/exposure.js';
import { liabilityUpperBound, multiplierOf, netStake, patternIndex, patternOf, patternWins, validateAmount, validatePaytable, winningPatterns } from '../src/core/rules.js';
import { DEFAULT_PAYTABLE, PATTERN_COUNT, type Bet } from '../src/core/types.js';
import { FivedError } from '../src/errors.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof FivedError ? e.code : `other: ${String(e)}`;
  }
  return undefined;
}

describe('rules', () => {
  it('indexes all 74 patterns densely and invertibly', () => {
    const seen = new Set<number>();
    for (let i = 0; i < PATTERN_COUNT; i++) {
      const { kind, pick } = patternOf(i);
      expect(patternIndex(kind, pick)).toBe(i);
      seen.add(i);
    }
    expect(seen.size).toBe(74);
    expect(patternIndex('A', 0)).toBe(0);
    expect(patternIndex('E', 'even')).toBe(69);
    expect(patternIndex('SUM', 'big')).toBe(70);
    expect(patternIndex('SUM', 'even')).toBe(73);
    expect(code(() => patternOf(74))).toBe('E_INVALID_PICK');
  });

  it('takes the fee off the stake first, rounding down: 100 at 2 % nets 98', () => {
    expect(netStake(100, 200)).toBe(98);
    expect(netStake(51, 200)).toBe(49); // 49.98 floored
    expect(netStake(2, 200)).toBe(1);
    expect(netStake(1, 200)).toBe(0); // why the minimum stake exists
    expect(netStake(1_000_000_000_000, 200)).toBe(980_000_000_000);
    expect(code(() => netStake(1.5, 200))).toBe('E_INVALID_AMOUNT');
    expect(code(() => netStake(100, 10_000))).toBe('E_INVALID_AMOUNT');
  });

  it('pays the docs/design.md multipliers and wins by the docs/design.md table', () => {
    expect(multiplierOf(patternIndex('C', 4), DEFAULT_PAYTABLE)).toBe(9);
    for (const pick of ['big', 'small', 'odd', 'even'] as const) {
      expect(multiplierOf(patternIndex('B', pick), DEFAULT_PAYTABLE)).toBe(2);
      expect(multiplierOf(patternIndex('SUM', pick), DEFAULT_PAYTABLE)).toBe(2);
    }
    const digits = [7, 4, 5, 0, 9];
    const w = winningPatterns(digits, 25);
    const winners = [...w.keys()].filter((i) => w[i] === 1).map((i) => patternOf(i));
    expect(winners).toEqual([
      { kind: 'A', pick: 7 }, { kind: 'A', pick: 'big' }, { kind: 'A', pick: 'odd' },
      { kind: 'B', pick: 4 }, { kind: 'B', pick: 'small' }, { kind: 'B', pick: 'even' },
      { kind: 'C', pick: 5 }, { kind: 'C', pick: 'big' }, { kind: 'C', pick: 'odd' },
      { kind: 'D', pick: 0 }, { kind: 'D', pick: 'small' }, { kind: 'D', pick: 'even' },
      { kind: 'E', pick: 9 }, { kind: 'E', pick: 'big' }, { kind: 'E', pick: 'odd' },
      { kind: 'SUM', pick: 'big' }, { kind: 'SUM', pick: 'odd' },
    ]);
    expect(patternWins(patternIndex('SUM', 'small'), [4, 4, 4, 5, 5], 22)).toBe(true);
    expect(patternWins(patternIndex('SUM', 'big'), [4, 4, 5, 5, 5], 23)).toBe(true);
  });

  it('bounds the liability from above, exactly for bets on one position and SUM', () => {
    const bets: Bet[] = [
      { userId: 'u', kind: 'A', pick: 3, amount: 1000 },
      { userId: 'u', kind: 'A', pick: 'odd', amount: 500 },
      { userId: 'u', kind: 'SUM', pick: 'big', amount: 300 },
    ];
    const t = aggregateBets(bets, DEFAULT_PAYTABLE);
    const max = computeExposure(t, DEFAULT_PAYTABLE).summary.maxLiability;
    expect(max).toBe(980 * 9 + 490 * 2 + 294 * 2); // A=3 (odd) with a big sum is possible
    expect(liabilityUpperBound(t.net, DEFAULT_PAYTABLE)).toBe(max);
    expect(code(() => liabilityUpperBound(new Float64Array(10), DEFAULT_PAYTABLE))).toBe('E_INVALID_BETS');
    expect(code(() => liabilityUpperBound(t.net, { ...DEFAULT_PAYTABLE, oddEven: 1.5 }))).toBe('E_INVALID_PAYTABLE');
  });

  it('refuses unknown kinds, out-of-range picks and bad amounts', () => {
    expect(code(() => patternIndex('F', 1))).toBe('E_INVALID_KIND');
    expect(code(() => patternIndex('sum', 'big'))).toBe('E_INVALID_KIND');
    expect(code(() => patternIndex('A', 10))).toBe('E_INVALID_PICK');
    expect(code(() => patternIndex('A', 2.5))).toBe('E_INVALID_PICK');
    expect(code(() => patternIndex('A', '5'))).toBe('E_INVALID_PICK');
    expect(code(() => patternIndex('SUM', 5))).toBe('E_INVALID_PICK');
    for (const bad of [0, -1, 1.5, Number.NaN, Infinity, '5', 1e13]) expect(code(() => validateAmount(bad))).toBe('E_INVALID_AMOUNT');
    expect(validateAmount(1)).toBe(1);
    expect(code(() => validatePaytable({ ...DEFAULT_PAYTABLE, feeBps: -1 }))).toBe('E_INVALID_PAYTABLE');
  });
});
