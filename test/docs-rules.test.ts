// docs/rules.md says what the code does: its return-to-player table is regenerated from src/core
// and must equal the committed text; a few facts are counted here independently of the core's
// predicates; the fee examples, the settings defaults and the amount limits are checked against
// the code they describe.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BEGIN, END, rulesTable, winCounts, withTable } from '../scripts/rules-table.js';
import { loadConfig } from '../src/config.js';
import { multiplierOf, netStake, patternIndex, patternWins } from '../src/core/rules.js';
import { DEFAULT_PAYTABLE } from '../src/core/types.js';
import { checkBet } from '../src/store/validate.js';
import { REPO } from './support/gateway.js';

const DOC_PATH = path.join(REPO, 'docs/rules.md');
const doc = () => readFileSync(DOC_PATH, 'utf8');

/** Rows of the markdown table that follows `heading` (cells trimmed, header and rule skipped). */
function tableAfter(text: string, heading: string): string[][] {
  const lines = text.slice(text.indexOf(heading)).split('\n');
  const start = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (let i = start + 2; i < lines.length && lines[i]!.startsWith('|'); i++) {
    rows.push(lines[i]!.split('|').slice(1, -1).map((c) => c.trim()));
  }
  return rows;
}

const num = (s: string) => Number(s.replace(/[,`]/g, ''));

describe('docs/rules.md', () => {
  it('carries exactly the return-to-player table generated from src/core', () => {
    const text = doc();
    expect(text).toContain(BEGIN);
    expect(text).toContain(END);
    // a stale table (e.g. after a paytable default changed) fails here: run npm run docs:rules
    expect(withTable(text, rulesTable())).toBe(text);
  });

  it('the generator notices a drifted table (npm run docs:rules -- --check)', () => {
    const drifted = doc().replace('| 441/500 | 88.2 % |', '| 9/10 | 90 % |');
    expect(drifted).not.toBe(doc());
    expect(withTable(drifted, rulesTable())).not.toBe(drifted);
    const r = spawnSync(process.execPath, [path.join(REPO, 'node_modules/tsx/dist/cli.mjs'), 'scripts/rules-table.ts', '--check'], { cwd: REPO, encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('counts independently: SUM big 50,000, a number 10,000, big/odd 50,000 of the 100,000 outcomes', () => {
    let sumBig = 0;
    let sumOdd = 0;
    let aIs7 = 0;
    let cBig = 0;
    let eOdd = 0;
    for (let a = 0; a < 10; a++)
      for (let b = 0; b < 10; b++)
        for (let c = 0; c < 10; c++)
          for (let d = 0; d < 10; d++)
            for (let e = 0; e < 10; e++) {
              const s = a + b + c + d + e;
              if (s >= 23) sumBig++;
              if (s % 2 === 1) sumOdd++;
              if (a === 7) aIs7++;
              if (c >= 5) cBig++;
              if (e % 2 === 1) eOdd++;
            }
    expect({ sumBig, sumOdd, aIs7, cBig, eOdd }).toEqual({ sumBig: 50_000, sumOdd: 50_000, aIs7: 10_000, cBig: 50_000, eOdd: 50_000 });
    // and the core's predicate agrees, pattern by pattern
    const counts = winCounts();
    expect(counts[patternIndex('SUM', 'big')]).toBe(sumBig);
    expect(counts[patternIndex('SUM', 'odd')]).toBe(sumOdd);
    expect(counts[patternIndex('A', 7)]).toBe(aIs7);
    expect(counts[patternIndex('C', 'big')]).toBe(cBig);
    expect(counts[patternIndex('E', 'odd')]).toBe(eOdd);
    // the boundary of SUM big sits between 22 and 23
    expect(patternWins(patternIndex('SUM', 'big'), [9, 9, 5, 0, 0], 23)).toBe(true);
    expect(patternWins(patternIndex('SUM', 'small'), [9, 9, 4, 0, 0], 22)).toBe(true);
    expect(patternWins(patternIndex('SUM', 'big'), [9, 9, 4, 0, 0], 22)).toBe(false);
  });

  it('states the returns worked out by hand: a number 88.2 %, every even-money bet 98 %', () => {
    const rows = tableAfter(doc(), BEGIN);
    expect(rows).toHaveLength(9);
    expect(rows[0]).toEqual(['A–E (each position)', 'a number 0–9 (each)', '10,000', '1/10', '9', '441/500', '88.2 %']); // 1/10 × 9 × 0.98
    for (const r of rows.slice(1)) expect(r.slice(2)).toEqual(['50,000', '1/2', '2', '49/50', '98 %']); // 1/2 × 2 × 0.98
  });

  it('fee examples are what netStake and the multipliers give', () => {
    const rows = tableAfter(doc(), 'Examples with the default paytable');
    expect(rows.length).toBeGreaterThanOrEqual(4);
    for (const [amount, net, number, even] of rows) {
      const n = netStake(num(amount!), DEFAULT_PAYTABLE.feeBps);
      expect(num(net!)).toBe(n);
      expect(num(number!)).toBe(n * multiplierOf(patternIndex('A', 7), DEFAULT_PAYTABLE));
      expect(num(even!)).toBe(n * multiplierOf(patternIndex('SUM', 'big'), DEFAULT_PAYTABLE));
    }
    expect(netStake(50 * 37, 200)).toBe(50 * 37 * 0.98); // a multiple of 50 loses exactly 2 %
  });

  it('settings defaults are those of src/config.ts', () => {
    const cfg = loadConfig({});
    const defaults = Object.fromEntries(tableAfter(doc(), '## The paytable and its settings').map((r) => [r[0]!.replace(/`/g, ''), num(r[1]!)]));
    expect(defaults).toEqual({
      FIVED_FEE_BPS: cfg.paytable.feeBps,
      FIVED_PAY_NUMBER: cfg.paytable.number,
      FIVED_PAY_BIG_SMALL: cfg.paytable.bigSmall,
      FIVED_PAY_ODD_EVEN: cfg.paytable.oddEven,
      FIVED_PAY_SUM_BIG_SMALL: cfg.paytable.sumBigSmall,
      FIVED_PAY_SUM_ODD_EVEN: cfg.paytable.sumOddEven,
    });
    expect(cfg.limits).toMatchObject({ minStake: 2, maxStake: 10_000_000, maxUserStakePerPeriod: 100_000_000, maxBetsPerUserPerPeriod: 100, maxLiability: 0 });
    expect(cfg.maxBalance).toBe(1e15);
  });

  it('the 10^12 bound sits between E_STAKE_TOO_HIGH and E_INVALID_AMOUNT as documented', () => {
    const cfg = loadConfig({});
    const now = Date.now();
    const period = { duration: 60, timeline: 'default', periodId: '20250101000000001', startsAt: now - 1000, freezeAt: now + 60_000, endsAt: now + 65_000 };
    const code = (amount: unknown, limits = cfg.limits) => {
      try {
        checkBet({ period, userId: 'u1', clientBetId: 'c1', kind: 'SUM', pick: 'big', amount } as never, limits, cfg.paytable, now);
        return 'ok';
      } catch (err) {
        return (err as { code: string }).code;
      }
    };
    const cases: Array<[unknown, string]> = [
      [1, 'E_STAKE_TOO_LOW'],
      [2, 'ok'],
      [10_000_000, 'ok'],
      [10_000_001, 'E_STAKE_TOO_HIGH'],
      [1e12, 'E_STAKE_TOO_HIGH'],
      [1e12 + 1, 'E_INVALID_AMOUNT'],
      [0, 'E_INVALID_AMOUNT'],
      [-5, 'E_INVALID_AMOUNT'],
      [2.5, 'E_INVALID_AMOUNT'],
      ['100', 'E_INVALID_AMOUNT'],
      [2 ** 53, 'E_INVALID_AMOUNT'],
    ];
    expect(cases.map(([a]) => [a, code(a)])).toEqual(cases);
    // whatever FIVED_MAX_STAKE says, above 10^12 is not an amount
    const huge = loadConfig({ FIVED_MAX_STAKE: String(Number.MAX_SAFE_INTEGER) }).limits;
    expect([code(1e12, huge), code(1e12 + 1, huge)]).toEqual(['ok', 'E_INVALID_AMOUNT']);
    const text = doc();
    expect(text).toContain('1,000,000,000,001 is `E_INVALID_AMOUNT`');
    expect(text).toContain('10,000,001 and 1,000,000,000,000 are `E_STAKE_TOO_HIGH`');
  });
});
