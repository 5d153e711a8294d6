import { describe, expect, it } from 'vitest';
import { FinalPeriods } from '../src/gateway/final-periods.js';
import { json } from '../src/gateway/http.js';

describe('FinalPeriods (cache of immutable period responses)', () => {
  it('returns what was remembered, keyed by room and period', () => {
    const c = new FinalPeriods(10);
    const r = json(200, { periodId: '20250731000000001' });
    c.remember('fiveD_60', '20250731000000001', r);
    expect(c.get('fiveD_60', '20250731000000001')).toBe(r);
    expect(c.get('fiveD_180', '20250731000000001')).toBeUndefined();
    expect(c.get('fiveD_60', '20250731000000002')).toBeUndefined();
  });

  it('keeps the first reply for a period and stays within its bound, evicting the oldest', () => {
    const c = new FinalPeriods(3);
    const first = json(200, { n: 1 });
    c.remember('r', '1', first);
    c.remember('r', '1', json(200, { n: 99 }));
    expect(c.get('r', '1')).toBe(first);
    for (let i = 2; i <= 5; i++) c.remember('r', String(i), json(200, { n: i }));
    expect(c.size).toBe(3);
    expect(c.get('r', '1')).toBeUndefined();
    expect(c.get('r', '2')).toBeUndefined();
    expect(JSON.parse(String(c.get('r', '5')!.body))).toEqual({ n: 5 });
  });
});
