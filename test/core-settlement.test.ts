import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BetBufferWriter, decodeBets, encodeBets, readRecord, recordCount, writeRecord } from '../src/core/betbuf.js';
import { computePeriod } from '../src/core/compute.js';
import { drawDigits, drawMessage } from '../src/core/draw.js';
import { aggregateBets, exposureSummary } from '../src/core/exposure.js';
import { patternIndex } from '../src/core/rules.js';
import { settleBets, settleSnapshot } from '../src/core/settlement.js';
import { BET_RECORD_BYTES, DEFAULT_PAYTABLE, SIDE_PICKS, type Bet, type BetKind, type BetPick, type Digits, type Paytable } from '../src/core/types.js';
import { FivedError } from '../src/errors.js';

// independent reference from the docs/design.md table
function refSettle(b: Bet, digits: number[], p: Paytable): { win: boolean; payout: number } {
  const sum = digits.reduce((a, x) => a + x, 0);
  const value = b.kind === 'SUM' ? sum : digits['ABCDE'.indexOf(b.kind)]!;
  const bigFrom = b.kind === 'SUM' ? 23 : 5;
  let win: boolean;
  let mult: number;
  if (typeof b.pick === 'number') [win, mult] = [value === b.pick, p.number];
  else if (b.pick === 'big' || b.pick === 'small') [win, mult] = [(value >= bigFrom) === (b.pick === 'big'), b.kind === 'SUM' ? p.sumBigSmall : p.bigSmall];
  else [win, mult] = [(value % 2 === 1) === (b.pick === 'odd'), b.kind === 'SUM' ? p.sumOddEven : p.oddEven];
  return { win, payout: win ? Math.floor((b.amount * (10_000 - p.feeBps)) / 10_000) * mult : 0 };
}

const KINDS: BetKind[] = ['A', 'B', 'C', 'D', 'E', 'SUM'];
const arbBet = fc
  .record({
    userId: fc.constantFrom('alice', 'bob', 'carol', 'dave', 'eve'),
    kind: fc.constantFrom(...KINDS),
    num: fc.integer({ min: 0, max: 9 }),
    side: fc.constantFrom(...SIDE_PICKS),
    useNum: fc.boolean(),
    amount: fc.integer({ min: 1, max: 1_000_000_000 }),
  })
  .map(({ userId, kind, num, side, useNum, amount }): Bet => ({ userId, kind, pick: (kind !== 'SUM' && useNum ? num : side) as BetPick, amount }));
const arbDigits = fc.tuple(...Array.from({ length: 5 }, () => fc.integer({ min: 0, max: 9 }))) as fc.Arbitrary<Digits>;
const draw = (digits: Digits) => ({ digits, sum: digits.reduce((a, b) => a + b, 0) });

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof FivedError ? e.code : `other: ${String(e)}`;
  }
  return undefined;
}

describe('settlement', () => {
  it('pays the docs/design.md example: 100 on A=7 wins 98 x 9 = 882; big on A wins 196', () => {
    const bets: Bet[] = [
      { userId: 'u', kind: 'A', pick: 7, amount: 100 },
      { userId: 'u', kind: 'A', pick: 'big', amount: 100 },
      { userId: 'v', kind: 'A', pick: 'small', amount: 100 },
      { userId: 'v', kind: 'SUM', pick: 'small', amount: 50 }, // sum 7+0+0+0+0 = 7
    ];
    const r = settleBets(bets, draw([7, 0, 0, 0, 0]), DEFAULT_PAYTABLE);
    expect(r.bets.map((b) => b.payout)).toEqual([882, 196, 0, 98]);
    expect(r.users.get('u')).toEqual({ stake: 200, payout: 1078 });
    expect(r.users.get('v')).toEqual({ stake: 150, payout: 98 });
    expect(r).toMatchObject({ betCount: 4, winnerCount: 3, totalStake: 350, totalPayout: 1176 });
  });

  it('equals the reference for random bets and results; totals add up exactly (property)', () => {
    fc.assert(
      fc.property(fc.array(arbBet, { maxLength: 300 }), arbDigits, fc.integer({ min: 0, max: 9999 }), (bets, digits, feeBps) => {
        const p = { ...DEFAULT_PAYTABLE, feeBps };
        const refs = bets.map((b) => refSettle(b, digits, p));
        const ref = refs.map((r) => r.payout);
        const snap = encodeBets(bets);
        const s = settleSnapshot(draw(digits), snap, p);
        expect(Array.from(s.payouts)).toEqual(ref);
        expect(s.betCount).toBe(bets.length);
        // a winner is a bet whose pattern won (a 1-unit stake under a fee nets 0 and wins 0)
        expect(s.winnerCount).toBe(refs.filter((r) => r.win).length);
        expect(s.totalStake).toBe(bets.reduce((a, b) => a + b.amount, 0));
        expect(s.totalPayout).toBe(ref.reduce((a, b) => a + b, 0));
        expect(Array.from(s.userPayouts).reduce((a, b) => a + b, 0)).toBe(s.totalPayout);
        snap.users.forEach((u, i) => {
          expect(s.userPayouts[i]).toBe(bets.reduce((a, b, j) => a + (b.userId === u ? ref[j]! : 0), 0));
        });
        const list = settleBets(bets, draw(digits), p);
        expect(list.bets.map((b) => b.payout)).toEqual(ref);
        expect(list.bets.map((b) => b.win)).toEqual(refs.map((r) => r.win));
        expect(list.winnerCount).toBe(s.winnerCount);
        expect(list.totalPayout).toBe(s.totalPayout);
        expect([...list.users.values()].reduce((a, u) => a + u.payout, 0)).toBe(s.totalPayout);
        expect(list.bets.every((b) => Number.isSafeInteger(b.payout))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('computePeriod = draw + settlement + exposure, computed separately', () => {
    fc.assert(
      fc.property(fc.array(arbBet, { maxLength: 200 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (bets, seedBytes) => {
        const seed = Buffer.from(seedBytes).toString('hex');
        const ref = { duration: 60, timeline: 'default', periodId: '20250731000000042' };
        const snap = encodeBets(bets);
        const c = computePeriod(seed, ref, snap, DEFAULT_PAYTABLE);
        const d = drawDigits(seed, drawMessage(ref));
        expect(c.draw).toEqual(d);
        expect(c.settlement).toEqual(settleSnapshot(d, snap, DEFAULT_PAYTABLE));
        expect(c.exposure).toEqual(exposureSummary(aggregateBets(bets, DEFAULT_PAYTABLE), DEFAULT_PAYTABLE));
      }),
      { numRuns: 50 },
    );
  });

  it('validates everything before settling anything', () => {
    const ok: Bet = { userId: 'u', kind: 'B', pick: 'odd', amount: 10 };
    const d = draw([1, 2, 3, 4, 5]);
    expect(code(() => settleBets([ok, { ...ok, kind: 'X' as BetKind }], d, DEFAULT_PAYTABLE))).toBe('E_INVALID_KIND');
    expect(code(() => settleBets([ok, { ...ok, pick: -1 }], d, DEFAULT_PAYTABLE))).toBe('E_INVALID_PICK');
    expect(code(() => settleBets([ok, { ...ok, pick: 'huge' as BetPick }], d, DEFAULT_PAYTABLE))).toBe('E_INVALID_PICK');
    expect(code(() => settleBets([ok, { ...ok, amount: -5 }], d, DEFAULT_PAYTABLE))).toBe('E_INVALID_AMOUNT');
    expect(code(() => settleBets([ok, { ...ok, amount: 2.5 }], d, DEFAULT_PAYTABLE))).toBe('E_INVALID_AMOUNT');
    expect(code(() => settleBets([ok, { ...ok, amount: '10' as unknown as number }], d, DEFAULT_PAYTABLE))).toBe('E_INVALID_AMOUNT');
    expect(code(() => settleBets([ok], { digits: [1, 2, 3, 4, 10], sum: 20 } as never, DEFAULT_PAYTABLE))).toBe('E_INVALID_RESULT');
    expect(code(() => settleBets([ok], { digits: [1, 2, 3, 4, 5], sum: 14 }, DEFAULT_PAYTABLE))).toBe('E_INVALID_RESULT');

    const snap = encodeBets([ok, ok]);
    // a corrupt record (pattern 74, amount 0, unknown user) is refused as a whole
    for (const [offset, value] of [[4, 74], [8, 0], [0, 7]] as const) {
      const bad = snap.records.slice();
      const view = new DataView(bad.buffer);
      if (offset === 8) view.setFloat64(BET_RECORD_BYTES + 8, value, true);
      else if (offset === 4) view.setUint8(BET_RECORD_BYTES + 4, value);
      else view.setUint32(BET_RECORD_BYTES, value, true);
      expect(code(() => settleSnapshot(d, { records: bad, users: snap.users }, DEFAULT_PAYTABLE))).toBe('E_INVALID_BETS');
    }
    expect(code(() => settleSnapshot(d, { records: snap.records.subarray(0, 20), users: snap.users }, DEFAULT_PAYTABLE))).toBe('E_INVALID_BETS');
  });
});

describe('compact bet buffer', () => {
  it('lays records out as u32 user, u8 pattern, f64 amount at offset 8 (little-endian)', () => {
    const snap = encodeBets([
      { userId: 'x', kind: 'C', pick: 3, amount: 123 },
      { userId: 'y', kind: 'SUM', pick: 'even', amount: 2 ** 39 },
      { userId: 'x', kind: 'E', pick: 'big', amount: 7 },
    ]);
    expect(snap.users).toEqual(['x', 'y']);
    expect(recordCount(snap.records)).toBe(3);
    const dv = new DataView(snap.records.buffer);
    expect([dv.getUint32(16, true), dv.getUint8(20), dv.getFloat64(24, true)]).toEqual([1, 73, 2 ** 39]);
    expect([dv.getUint8(5), dv.getUint16(6, true)]).toEqual([0, 0]);
    expect(readRecord(snap.records, 0)).toEqual({ userIdx: 0, pattern: patternIndex('C', 3), amount: 123 });
    expect(readRecord(snap.records, 2)).toEqual({ userIdx: 0, pattern: 4 * 14 + 10, amount: 7 });
    expect(code(() => readRecord(snap.records, 3))).toBe('E_INVALID_BETS');
  });

  it('round-trips bets through the buffer (property), also from an unaligned view', () => {
    fc.assert(
      fc.property(fc.array(arbBet, { maxLength: 200 }), arbDigits, (bets, digits) => {
        const snap = encodeBets(bets);
        expect(snap.records.byteLength).toBe(bets.length * BET_RECORD_BYTES);
        expect(decodeBets(snap)).toEqual(bets);
        const shifted = new Uint8Array(snap.records.byteLength + 3);
        shifted.set(snap.records, 3);
        const unaligned = { records: shifted.subarray(3), users: snap.users };
        expect(settleSnapshot(draw(digits), unaligned, DEFAULT_PAYTABLE)).toEqual(settleSnapshot(draw(digits), snap, DEFAULT_PAYTABLE));
      }),
      { numRuns: 100 },
    );
  });

  it('grows the writer and hands out a trimmed buffer of its own', () => {
    const w = new BetBufferWriter(1);
    for (let i = 0; i < 1000; i++) w.push(w.userIdx(`u${i % 7}`), i % 74, i + 1);
    const snap = w.finish();
    expect(w.count).toBe(1000);
    expect(snap.records.byteLength).toBe(16_000);
    expect(snap.records.buffer.byteLength).toBe(16_000);
    expect(snap.users).toHaveLength(7);
    expect(readRecord(snap.records, 999)).toEqual({ userIdx: 999 % 7, pattern: 999 % 74, amount: 1000 });
  });

  it('refuses bad records at the writer and a bad bet before encoding anything', () => {
    const w = new BetBufferWriter();
    expect(code(() => w.push(0, 74, 1))).toBe('E_INVALID_PICK');
    expect(code(() => w.push(-1, 0, 1))).toBe('E_INVALID_BETS');
    expect(code(() => w.push(0, 0, 0))).toBe('E_INVALID_AMOUNT');
    expect(w.count).toBe(0);
    expect(code(() => encodeBets([{ userId: 'a', kind: 'A', pick: 1, amount: 1 }, { userId: '', kind: 'A', pick: 1, amount: 1 }]))).toBe('E_INVALID_ID');
    expect(code(() => writeRecord(new Uint8Array(16), 0, 0, 0, Number.NaN))).toBe('E_INVALID_AMOUNT');
  });
});
