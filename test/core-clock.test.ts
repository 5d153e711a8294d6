import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextPeriod, parsePeriodId, periodAt, periodById, periodsPerDay, phaseAt, previousPeriod, validateClockSpec } from '../src/core/clock.js';
import type { ClockSpec, DayStart } from '../src/core/types.js';
import { FivedError } from '../src/errors.js';

const UTC: DayStart = { minutes: 0, offsetMinutes: 0 };
const KOLKATA_2AM: DayStart = { minutes: 120, offsetMinutes: 330 };
const spec = (duration: number, freezeMs = Math.min(5000, duration * 500), dayStart: DayStart = UTC): ClockSpec => ({ duration, freezeMs, dayStart });

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof FivedError ? e.code : `not a FivedError: ${String(e)}`;
  }
  return undefined;
}

const DIVISORS = Array.from({ length: 86_400 }, (_, i) => i + 1).filter((d) => 86_400 % d === 0);

describe('period clock', () => {
  it('numbers the first period of a UTC day 000000001 with its start, freeze and end', () => {
    const t = Date.UTC(2025, 6, 31, 0, 0, 0);
    const w = periodAt(t, spec(60, 5000));
    expect(w).toEqual({ duration: 60, timeline: 'default', periodId: '20250731000000001', startsAt: t, freezeAt: t + 55_000, endsAt: t + 60_000, phase: 'betting' });
    expect(periodAt(t + 54_999, spec(60, 5000)).phase).toBe('betting');
    expect(periodAt(t + 55_000, spec(60, 5000)).phase).toBe('frozen');
    expect(periodAt(t + 59_999, spec(60, 5000)).periodId).toBe('20250731000000001');
    expect(periodAt(t + 60_000, spec(60, 5000)).periodId).toBe('20250731000000002');
  });

  it('puts the last millisecond of a day in the previous day’s last period', () => {
    const t = Date.UTC(2025, 6, 31) - 1;
    expect(periodAt(t, spec(60)).periodId).toBe('20250730000001440');
    expect(periodAt(t, spec(600)).periodId).toBe('20250730000000144');
    expect(periodAt(t, spec(1, 0)).periodId).toBe('20250730000086400');
  });

  it('starts the game day at 02:00 Asia/Kolkata (20:30 UTC the evening before)', () => {
    const dayStart = Date.UTC(2025, 6, 30, 20, 30); // 2025-07-31 02:00 +05:30
    const s = spec(60, 5000, KOLKATA_2AM);
    expect(periodAt(dayStart, s)).toMatchObject({ periodId: '20250731000000001', startsAt: dayStart });
    expect(periodAt(dayStart - 1, s)).toMatchObject({ periodId: '20250730000001440', endsAt: dayStart });
    // 01:59 IST on Aug 1 still belongs to the game day of Jul 31
    expect(periodAt(Date.UTC(2025, 6, 31, 20, 29), s).periodId.slice(0, 8)).toBe('20250731');
    expect(periodById('20250731000000001', s).startsAt).toBe(dayStart);
  });

  it('handles negative offsets and a day start late in the evening', () => {
    const ny = { minutes: 0, offsetMinutes: -300 };
    expect(periodAt(Date.UTC(2025, 0, 1, 5, 0), spec(300, 5000, ny)).periodId).toBe('20250101000000001');
    expect(periodAt(Date.UTC(2025, 0, 1, 4, 59, 59), spec(300, 5000, ny)).periodId).toBe('20241231000000288');
    const late = { minutes: 23 * 60 + 30, offsetMinutes: 840 }; // 23:30 at +14:00 = 09:30 UTC the same date
    expect(periodAt(Date.UTC(2025, 0, 1, 9, 30), spec(180, 5000, late))).toMatchObject({ periodId: '20250101000000001', startsAt: Date.UTC(2025, 0, 1, 9, 30) });
  });

  it.each([60, 180, 300, 600, 1, 2, 3, 4, 5])('covers a whole day of %i s periods without gaps and crosses midnight', (d) => {
    const s = spec(d, d === 1 ? 200 : 1000, KOLKATA_2AM);
    const count = periodsPerDay(d);
    expect(count).toBe(86_400 / d);
    const first = periodById('20240229000000001', s);
    const last = periodById(`20240229${String(count).padStart(9, '0')}`, s);
    expect(last.endsAt - first.startsAt).toBe(86_400_000);
    expect(last.freezeAt).toBe(last.endsAt - s.freezeMs);
    const next = nextPeriod(last, s);
    expect(next.periodId).toBe('20240301000000001');
    expect(next.startsAt).toBe(last.endsAt);
    expect(previousPeriod(next, s)).toEqual(last);
    expect(previousPeriod(first, s).periodId).toBe(`20240228${String(count).padStart(9, '0')}`);
    // walking forward period by period keeps windows contiguous
    let w = first;
    for (let i = 0; i < Math.min(count, 500); i++) {
      const n = nextPeriod(w, s);
      expect(n.startsAt).toBe(w.endsAt);
      expect(periodAt(n.startsAt, s).periodId).toBe(n.periodId);
      w = n;
    }
  });

  it('round-trips ids for any time, duration and day start (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) }),
        fc.constantFrom(...DIVISORS),
        fc.integer({ min: 0, max: 1439 }),
        fc.integer({ min: -720, max: 840 }),
        fc.constantFrom('default', 'vip', 'a_b-1'),
        (t, d, minutes, offsetMinutes, timeline) => {
          const s = spec(d, Math.floor(d * 1000 * 0.5), { minutes, offsetMinutes });
          const w = periodAt(t, s, timeline);
          expect(w.periodId).toMatch(/^\d{17}$/);
          expect(w.startsAt).toBeLessThanOrEqual(t);
          expect(t).toBeLessThan(w.endsAt);
          expect(w.phase).toBe(t < w.freezeAt ? 'betting' : 'frozen');
          const { phase: _p, ...win } = w;
          expect(periodById(w.periodId, s, timeline)).toEqual(win);
          expect(periodById(win, s)).toEqual(win);
          const n = nextPeriod(win, s);
          expect(n.startsAt).toBe(win.endsAt);
          expect(n.periodId > win.periodId).toBe(true);
          expect(previousPeriod(n, s)).toEqual(win);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('gives the phase of a window at a time', () => {
    const w = periodById('20250731000000010', spec(60, 5000));
    expect(phaseAt(w, w.freezeAt - 1)).toBe('betting');
    expect(phaseAt(w, w.freezeAt)).toBe('frozen');
  });

  it('refuses bad durations, freezes, day starts and times with coded errors', () => {
    expect(code(() => validateClockSpec(spec(7, 1000)))).toBe('E_INVALID_DURATION');
    expect(code(() => periodAt(0, spec(0, 0)))).toBe('E_INVALID_DURATION');
    expect(code(() => periodAt(0, spec(1.5, 0)))).toBe('E_INVALID_DURATION');
    expect(code(() => periodAt(0, spec(172_800, 0)))).toBe('E_INVALID_DURATION');
    expect(code(() => periodAt(0, spec(60, 60_000)))).toBe('E_INVALID_FREEZE');
    expect(code(() => periodAt(0, spec(1, 1000)))).toBe('E_INVALID_FREEZE');
    expect(code(() => periodAt(0, spec(60, -1)))).toBe('E_INVALID_FREEZE');
    expect(code(() => periodAt(0, spec(60, 0.5)))).toBe('E_INVALID_FREEZE');
    expect(code(() => periodAt(0, spec(60, 5000, { minutes: 1440, offsetMinutes: 0 })))).toBe('E_INVALID_TIME');
    expect(code(() => periodAt(0, spec(60, 5000, { minutes: 0, offsetMinutes: 900 })))).toBe('E_INVALID_TIME');
    expect(code(() => periodAt(Number.NaN, spec(60)))).toBe('E_INVALID_TIME');
    expect(code(() => periodAt(0, spec(60), 'bad timeline'))).toBe('E_INVALID_TIMELINE');
    expect(code(() => periodAt(0, spec(60, 0)))).toBeUndefined();
  });

  it('validates period ids: 17 digits, a real date, a sequence within the day', () => {
    const s = spec(60);
    expect(parsePeriodId('20240229000000001', 60)).toEqual({ day: Date.UTC(2024, 1, 29) / 86_400_000, seq: 1 });
    for (const bad of ['20230229000000001', '20251301000000001', '20250732000000001', '20250731000000000', '20250731000001441', '2025073100000001', '2025073100000000a', '']) {
      expect(code(() => periodById(bad, s))).toBe('E_INVALID_PERIOD');
    }
    // biome-ignore lint/correctness/noPrecisionLoss: a number where the id string belongs is the bad input
    expect(code(() => periodById(20250731000000001 as unknown as string, s))).toBe('E_INVALID_PERIOD');
    expect(code(() => periodById({ duration: 180, timeline: 'default', periodId: '20250731000000001' }, s))).toBe('E_INVALID_PERIOD');
    expect(code(() => periodById('20250731000000480', spec(180)))).toBeUndefined();
    expect(code(() => periodById('20250731000000481', spec(180)))).toBe('E_INVALID_PERIOD');
  });
});
