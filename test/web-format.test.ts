// The demo page's pure logic: formatting, the bet slip, the demo session's token expiry.
import { describe, expect, it } from 'vitest';
import { betLabel, clockTime, durationLabel, formatCountdown, formatMoney, parseMoney, periodSeq, progress, shortHex, sumTags } from '../web/format.js';
import { multiplierOf, picksFor, readSlip } from '../web/slip.js';
import { isFresh, jwtExpiry } from '../web/session.js';

describe('format', () => {
  it('countdown rounds up and switches to hours', () => {
    expect(formatCountdown(59_001)).toBe('1:00');
    expect(formatCountdown(59_000)).toBe('0:59');
    expect(formatCountdown(1)).toBe('0:01');
    expect(formatCountdown(0)).toBe('0:00');
    expect(formatCountdown(-500)).toBe('0:00');
    expect(formatCountdown(600_000)).toBe('10:00');
    expect(formatCountdown(3_725_000)).toBe('1:02:05');
  });
  it('money is integer minor units shown with two decimals', () => {
    expect(formatMoney(0)).toBe('0.00');
    expect(formatMoney(5)).toBe('0.05');
    expect(formatMoney(882)).toBe('8.82');
    expect(formatMoney(123_456_789)).toBe('1,234,567.89');
    expect(formatMoney(-1050)).toBe('-10.50');
    expect(formatMoney(1.5)).toBe('—');
  });
  it('parseMoney accepts at most two decimals and positive amounts only', () => {
    expect(parseMoney('1')).toBe(100);
    expect(parseMoney(' 12.5 ')).toBe(1250);
    expect(parseMoney('0.01')).toBe(1);
    expect(parseMoney('1,000.00')).toBe(100_000);
    expect(parseMoney('3.')).toBe(300);
    for (const bad of ['', '0', '0.00', '-1', '1.234', 'abc', '1e3', '.5', '1.2.3', '9999999999999']) expect(parseMoney(bad), bad).toBeNull();
  });
  it('labels', () => {
    expect(durationLabel(5)).toBe('5 s');
    expect(durationLabel(60)).toBe('1 min');
    expect(durationLabel(600)).toBe('10 min');
    expect(durationLabel(90)).toBe('90 s');
    expect(durationLabel(3600)).toBe('1 h');
    expect(shortHex('ab'.repeat(32), 4)).toBe('abab…abab');
    expect(shortHex('abc')).toBe('abc');
    expect(periodSeq('20250731000000123')).toBe('123');
    expect(periodSeq('oops')).toBe('oops');
    expect(betLabel('A', 7)).toBe('A = 7');
    expect(betLabel('SUM', 'big')).toBe('SUM big');
    expect(sumTags(22)).toEqual(['small', 'even']);
    expect(sumTags(23)).toEqual(['big', 'odd']);
    expect(clockTime(new Date(2025, 0, 1, 9, 5, 7).getTime())).toBe('09:05:07');
    expect(progress(30_000, 60)).toBe(0.5);
    expect(progress(-1, 60)).toBe(1);
    expect(progress(90_000, 60)).toBe(0);
    expect(progress(1, 0)).toBe(0);
  });
});

describe('slip', () => {
  it('offers digits and sides on positions, only sides on SUM', () => {
    expect(picksFor('C')).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 'big', 'small', 'odd', 'even']);
    expect(picksFor('SUM')).toEqual(['big', 'small', 'odd', 'even']);
    expect(multiplierOf(3)).toBe(9);
    expect(multiplierOf('odd')).toBe(2);
  });
  it('reads a valid slip into a bet in minor units', () => {
    expect(readSlip({ room: 'fiveD_60', kind: 'A', pick: '7', amount: '1.00' })).toEqual({ ok: true, bet: { room: 'fiveD_60', kind: 'A', pick: 7, amount: 100 } });
    expect(readSlip({ room: 'fiveD_60', kind: 'SUM', pick: 'big', amount: '2.5' })).toEqual({ ok: true, bet: { room: 'fiveD_60', kind: 'SUM', pick: 'big', amount: 250 } });
  });
  it('rejects what the server would reject, with a readable reason', () => {
    const bad = [
      { room: '', kind: 'A', pick: '7', amount: '1' },
      { room: 'r', kind: 'F', pick: '7', amount: '1' },
      { room: 'r', kind: 'SUM', pick: '7', amount: '1' },
      { room: 'r', kind: 'A', pick: '10', amount: '1' },
      { room: 'r', kind: 'A', pick: 'huge', amount: '1' },
      { room: 'r', kind: 'A', pick: '7', amount: '0' },
      { room: 'r', kind: 'A', pick: '7', amount: '1.001' },
    ];
    for (const b of bad) {
      const r = readSlip(b);
      expect(r.ok, JSON.stringify(b)).toBe(false);
      if (!r.ok) expect(r.error.length).toBeGreaterThan(5);
    }
  });
});

describe('demo session', () => {
  const jwt = (payload: object) => `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`;
  it('reads exp from a JWT', () => {
    expect(jwtExpiry(jwt({ sub: 'u1', exp: 1_800_000_000 }))).toBe(1_800_000_000_000);
    expect(jwtExpiry(jwt({ sub: 'u1' }))).toBeNull();
    expect(jwtExpiry('garbage')).toBeNull();
    expect(jwtExpiry('a.!!!.c')).toBeNull();
  });
  it('a session is fresh until a margin before exp', () => {
    const s = { token: jwt({ exp: 1000 }), userId: 'u', balance: 0 };
    expect(isFresh(s, 900_000, 60_000)).toBe(true);
    expect(isFresh(s, 950_000, 60_000)).toBe(false);
    expect(isFresh({ ...s, token: 'opaque' }, 0)).toBe(true);
  });
});

describe('player messages (issue 16: page units, no codes, exact wins)', () => {
  it('stake limits from the server (minor units) in the page units', async () => {
    const { playerError } = await import('../web/format.js');
    expect(playerError('E_STAKE_TOO_LOW', 'stake 1 is below the minimum 2')).toBe('The minimum stake is 0.02.');
    expect(playerError('E_STAKE_TOO_HIGH', 'stake 20000000 is above the maximum 10000000')).toBe('The maximum stake is 100,000.00.');
    expect(playerError('E_STAKE_TOO_LOW', 'stake 1 leaves no net stake after the fee')).toMatch(/too small/);
    for (const code of ['E_INSUFFICIENT_FUNDS', 'E_PERIOD_FROZEN', 'E_SOMETHING_NEW', undefined]) expect(playerError(code, 'period 20250101000000001 FIVED_X')).not.toMatch(/E_|FIVED_|\d{17}/);
  });
  it('void reasons and outcomes', async () => {
    const { outcomeText, voidText } = await import('../web/format.js');
    expect(voidText('no commitment before the period opened')).toBe('Void: this period has no result because its draw was not prepared in time. Every bet on it is refunded in full.');
    expect(voidText('the committed seed cannot be unsealed (E_SEED_KEY_UNKNOWN)')).not.toMatch(/E_/);
    expect(voidText('operator typed FIVED_X')).toMatch(/cancelled by the operator/);
    expect(outcomeText('won', 500, 980)).toBe('won: paid 9.80 (stake 5.00, profit 4.80)');
    expect(outcomeText('lost', 250, 0)).toBe('lost the 2.50 stake');
    expect(outcomeText('refunded', 250, 250)).toBe('refunded 2.50');
  });
});
