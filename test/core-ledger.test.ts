// Issue 14: the reconciliation check itself (src/core/ledger.ts checkUserLedger), on hand-made
// ledgers: each kind of mismatch `fived reconcile` and the chaos checker must report, and the
// entry text both stores share.
import { describe, expect, it } from 'vitest';
import { checkUserLedger, entryIdOf, formatLedgerEntry, parseLedgerEntry, type LedgerBet, type LedgerEntry, type LedgerKind } from '../src/core/ledger.js';

const P = '60:default:20250731000000001';
let n = 0;
function e(kind: LedgerKind, amount: number, balance: number, ref: string): LedgerEntry {
  n += 1;
  return { entryId: entryIdOf(n), userId: 'u|1', at: 1_753_920_000_000 + n, kind, amount, balance, ref };
}
const bet = (seq: number, amount: number, state: LedgerBet['state'], payout = 0): LedgerBet => ({ member: P, seq, amount, placedAt: 1_753_920_000_000, state, payout });

/** deposit 1000, two stakes of 100 and 50, a payout of 196 for the first */
function good(): { entries: LedgerEntry[]; bets: LedgerBet[]; balance: number } {
  return {
    entries: [e('deposit', 1000, 1000, 'dep-1'), e('stake', -100, 900, `${P}:0`), e('stake', -50, 850, `${P}:1`), e('payout', 196, 1046, P)],
    bets: [bet(0, 100, 'won', 196), bet(1, 50, 'lost')],
    balance: 1046,
  };
}
const check = (x: ReturnType<typeof good>, complete = true, held = new Set<string>()) => checkUserLedger({ userId: 'u|1', ...x, held, complete });

describe('checkUserLedger', () => {
  it('a whole ledger passes', () => {
    expect(check(good())).toEqual([]);
  });

  it('reports a broken chain, a balance that differs, a wrong sign, and an opening above zero when complete', () => {
    const x = good();
    x.entries[2] = { ...x.entries[2]!, balance: 851 };
    expect(check(x)).toEqual(expect.arrayContaining([expect.stringMatching(/balance 851 is not 900 - 50/), expect.stringMatching(/balance 1046 is not 851 \+ 196/)]));
    const y = good();
    y.balance = 1000;
    expect(check(y)).toEqual(['u|1: the entries add up to 1046, the balance is 1000']);
    const z = good();
    z.entries[0] = { ...z.entries[0]!, amount: -1000, balance: 1000 };
    expect(check(z).join('\n')).toMatch(/a deposit of -1000/);
    const w = good();
    w.entries.shift();
    expect(check(w)).toEqual([`u|1: the oldest entry ${w.entries[0]!.entryId} opens at balance 1000, not 0`]);
    expect(check(w, false)).toEqual([]); // a window: checked from its opening balance
  });

  it('every bet exactly one stake of its amount; a period at most one payout or refund, of what was owed', () => {
    const missing = good();
    missing.entries.splice(2, 1);
    missing.entries[2] = { ...missing.entries[2]!, balance: 1096 };
    missing.balance = 1096;
    expect(check(missing)).toEqual([`u|1: bet ${P}:1 has 0 stake entries, not 1`]);
    const twice = good();
    twice.entries.push(e('payout', 196, 1242, P));
    twice.balance = 1242;
    expect(check(twice)).toEqual([`u|1: period ${P} has 2 payout/refund entries`]);
    const wrong = good();
    wrong.entries[3] = { ...wrong.entries[3]!, amount: 195, balance: 1045 };
    wrong.balance = 1045;
    expect(check(wrong)).toEqual([`u|1: period ${P}: payout entry 195, owed payout 196`]);
    const none = good();
    none.entries.pop();
    none.balance = 850;
    expect(check(none)).toEqual([`u|1: period ${P}: no payout entry for 196`]);
    expect(check(none, true, new Set([P]))).toEqual([]); // held: no entry
    const refund = good();
    refund.bets = [bet(0, 100, 'refunded', 100), bet(1, 50, 'refunded', 50)];
    refund.entries[3] = { ...refund.entries[3]!, kind: 'refund', amount: 150, balance: 1000 };
    refund.balance = 1000;
    expect(check(refund)).toEqual([]);
    const stake = good();
    stake.entries[1] = { ...stake.entries[1]!, amount: -99, balance: 901 };
    stake.entries[2] = { ...stake.entries[2]!, balance: 851 };
    stake.entries[3] = { ...stake.entries[3]!, balance: 1047 };
    stake.balance = 1047;
    expect(check(stake)).toEqual([`u|1: bet ${P}:0: stake entry -99, bet 100`]);
  });

  it('the stored text round-trips, a user id with | included; anything else is no entry', () => {
    const x = e('withdrawal', -2500, 7500, 'wd-1');
    const text = formatLedgerEntry(x);
    expect(text).toBe(`${Number(x.entryId)}|${x.at}|w|-2500|7500|wd-1|u|1`);
    expect(parseLedgerEntry(text)).toEqual(x);
    for (const bad of ['', 'x', '1|2|q|3|4|r|u', '1|2|d|3|4|r|']) expect(parseLedgerEntry(bad)).toBeNull();
  });
});
