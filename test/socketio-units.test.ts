// The Socket.IO compatibility layer's edge rules without a server: rupees ↔ minor units (more
// than two decimals refused), the token lookup order and user id claims, the connect_error texts
// for each kind of bad token, the bet mapping (invalid selections refused, not stored), and the
// one guard around every handler (a payload's values are never stringified; a throw is answered).
import { createHmac, createSecretKey } from 'node:crypto';
import { jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { AUTH_TEXT, CompatVerifier, findToken, userIdOf } from '../src/gateway/socketio/auth.js';
import { acceptedHs256 } from '../src/gateway/jwt.js';
import { betTypeOf, compatBetError, kindAndPick, oddsOf, parsePlaceBet } from '../src/gateway/socketio/bets.js';
import { minorToRupees, rupeesToMinor } from '../src/gateway/socketio/rupees.js';
import type { CompatConn } from '../src/gateway/socketio/conn.js';
import { echoed, shown } from '../src/gateway/socketio/events.js';
import { dispatch, type SessionDeps } from '../src/gateway/socketio/session.js';
import { DEFAULT_PAYTABLE } from '../src/core/types.js';
import { ErrorCode, FivedError } from '../src/errors.js';
import { claimsToken } from './support/sio.js';

const SECRET = 'socketio-units-secret-0123456789';

describe('rupees at the edge', () => {
  it('converts exactly to minor units and refuses more than two decimals', () => {
    expect(rupeesToMinor(10)).toBe(1000);
    expect(rupeesToMinor(10.5)).toBe(1050);
    expect(rupeesToMinor('0.97')).toBe(97);
    expect(rupeesToMinor(0.1)).toBe(10);
    expect(rupeesToMinor(1234.56)).toBe(123456);
    for (const bad of [10.555, '1.001', 0, -1, NaN, Infinity, '1e3', '', 'abc', null, {}, 1e-7]) expect(rupeesToMinor(bad)).toBeNull();
    expect(minorToRupees(8820)).toBe(88.2);
  });
});

describe('tokens', () => {
  it('looks in auth, then the query, then Authorization: Bearer, then x-auth-token', () => {
    const all = { auth: { token: 'a' }, query: { token: 'q' }, headers: { authorization: 'Bearer b', 'x-auth-token': 'x' } };
    expect(findToken(all)).toBe('a');
    expect(findToken({ ...all, auth: {} })).toBe('q');
    expect(findToken({ ...all, auth: {}, query: {} })).toBe('b');
    expect(findToken({ auth: {}, query: {}, headers: { authorization: 'Basic b', 'x-auth-token': 'x' } })).toBe('x');
    expect(findToken({ auth: {}, query: {}, headers: {} })).toBeNull();
  });

  it('takes the user from userId, id, user_id or sub, integers as their decimal text', () => {
    expect(userIdOf({ userId: 1042, sub: 'other' })).toBe('1042');
    expect(userIdOf({ id: 'p-7' })).toBe('p-7');
    expect(userIdOf({ user_id: 9 })).toBe('9');
    expect(userIdOf({ sub: 'abc' })).toBe('abc');
    expect(userIdOf({ userId: 0, sub: 'z' })).toBe('z'); // first truthy, as the replaced system
    expect(userIdOf({ name: 'x' })).toBeNull();
    expect(userIdOf({ userId: 'bad id with spaces' })).toBeNull();
  });

  it('refuses each bad token with the replaced system\'s exact text', async () => {
    let now = Date.now();
    const v = new CompatVerifier(SECRET, 86_400, () => now);
    const text = async (t: string | null) => v.verify(t).then(() => 'ok', (e: Error) => e.message);
    expect(await text(null)).toBe(AUTH_TEXT.NO_TOKEN);
    expect(await text('null')).toBe(AUTH_TEXT.NULL_STRING);
    expect(await text('Bearer undefined')).toBe(AUTH_TEXT.NULL_STRING);
    expect(await text('abc')).toBe(AUTH_TEXT.TOO_SHORT);
    expect(await text('abcdefghijkl.mno')).toBe(AUTH_TEXT.FORMAT);
    expect(await text(await claimsToken('another-secret-0123456789', { userId: 1 }))).toBe(AUTH_TEXT.MALFORMED);
    expect(await text(await claimsToken(SECRET, { userId: 1 }, { expS: -10 }))).toBe(AUTH_TEXT.EXPIRED);
    expect(await text(await claimsToken(SECRET, { userId: 1 }, { nbfS: 600 }))).toBe(AUTH_TEXT.NOT_ACTIVE);
    expect(await text(await claimsToken(SECRET, { role: 'x' }))).toBe(AUTH_TEXT.NO_USER);
    expect(await text(await claimsToken(SECRET, { userId: 1 }, { noExp: true }))).toBe(AUTH_TEXT.FAILED);
    expect(await text(await claimsToken(SECRET, { userId: 1 }, { expS: 3 * 86_400 }))).toBe(AUTH_TEXT.FAILED);
    const good = await claimsToken(SECRET, { userId: 1042 });
    expect(await v.verify(`Bearer ${good}`)).toMatchObject({ userId: '1042' });
    now += 2 * 3600_000; // the verifier's clock (the gateway's) decides expiry
    expect(await text(good)).toBe(AUTH_TEXT.EXPIRED);
    expect(await new CompatVerifier('', 86_400, () => Date.now()).verify(good).catch((e: Error) => e.message)).toBe(AUTH_TEXT.INTERNAL);
  });
});

describe('bets', () => {
  it('maps positions and selections to fived bets and the replaced system\'s names', () => {
    expect(kindAndPick('a', 7)).toEqual({ kind: 'A', pick: 7 });
    expect(kindAndPick('E', '0')).toEqual({ kind: 'E', pick: 0 });
    expect(kindAndPick('sum', 'BIG')).toEqual({ kind: 'SUM', pick: 'big' });
    expect(kindAndPick('C', 'Even')).toEqual({ kind: 'C', pick: 'even' });
    expect(betTypeOf('A', 7)).toEqual({ betType: 'POSITION', betValue: 'A_7' });
    expect(betTypeOf('B', 'big')).toEqual({ betType: 'POSITION_SIZE', betValue: 'B_big' });
    expect(betTypeOf('C', 'odd')).toEqual({ betType: 'POSITION_PARITY', betValue: 'C_odd' });
    expect(betTypeOf('SUM', 'small')).toEqual({ betType: 'SUM_SIZE', betValue: 'SUM_small' });
    expect(betTypeOf('SUM', 'even')).toEqual({ betType: 'SUM_PARITY', betValue: 'SUM_even' });
    expect(oddsOf(DEFAULT_PAYTABLE, 'A', 7)).toBe(9);
    expect(oddsOf(DEFAULT_PAYTABLE, 'SUM', 'big')).toBe(2);
    for (const [pos, sel] of [['F', 5], ['A', 12], ['SUM', 23], ['A', 'huge'], [undefined, 1], ['B', 3.5]] as const) {
      expect(() => kindAndPick(pos, sel)).toThrowError();
    }
  });

  it('refuses bad placeBet payloads with the replaced system\'s codes', () => {
    const cur = () => '20261206000000100';
    const base = { gameType: 'fiveD', duration: 60, type: 'number', position: 'A', selection: 7, amount: 10 };
    const code = (p: unknown) => {
      try {
        parsePlaceBet(p, [60, 180], 'default', cur);
        return 'ok';
      } catch (e) {
        return (e as { code: string }).code;
      }
    };
    expect(code(base)).toBe('ok');
    expect(parsePlaceBet(base, [60], 'default', cur).fields).toMatchObject({ room: 'fiveD_60', periodId: '20261206000000100', kind: 'A', pick: 7, amount: 1000 });
    expect(parsePlaceBet({ ...base, betAmount: '0.97', amount: undefined }, [60], 'default', cur).fields.amount).toBe(97);
    expect(code({ ...base, gameType: '5d' })).toBe('INVALID_GAME_TYPE');
    expect(code({ ...base, duration: '60' })).toBe('INVALID_DURATION');
    expect(code({ ...base, duration: 30 })).toBe('INVALID_DURATION');
    expect(code({ ...base, timeline: 'other' })).toBe('INVALID_TIMELINE');
    expect(code({ ...base, amount: 10.001 })).toBe('INVALID_DATA');
    expect(code({ ...base, amount: undefined })).toBe('INVALID_DATA');
    expect(code({ ...base, periodId: 'x' })).toBe('INVALID_DATA');
    expect(code(null)).toBe('INVALID_DATA');
    // a client's objects are named by their type, never stringified (a toString that is not a
    // function, or nesting deep enough to overflow the stack, made the message itself throw)
    const deep = JSON.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`) as unknown;
    const message = (p: unknown) => {
      try {
        parsePlaceBet(p, [60], 'default', cur);
        return 'ok';
      } catch (e) {
        return `${(e as { code: string }).code}: ${(e as Error).message}`;
      }
    };
    expect(message({ ...base, gameType: { toString: 1 } })).toBe('INVALID_GAME_TYPE: Invalid game type object: fiveD');
    expect(message({ ...base, gameType: deep })).toBe('INVALID_GAME_TYPE: Invalid game type object: fiveD');
    expect(message({ ...base, duration: deep })).toBe('INVALID_DURATION: Invalid duration object: 60');
    expect(message({ ...base, timeline: { toString: 1 } })).toBe('INVALID_TIMELINE: Invalid timeline object: default');
    expect(message({ ...base, selection: deep })).toBe('INVALID_DATA: Invalid selection object for position A: a digit 0-9, big, small, odd or even');
    expect(message({ ...base, gameType: '5d' })).toBe('INVALID_GAME_TYPE: Invalid game type "5d": fiveD');
    expect(message({ ...base, duration: null })).toBe('INVALID_DURATION: Invalid duration null: 60');
  });

  it('translates fived refusals into betError codes', () => {
    const c = (code: ErrorCode) => compatBetError(new FivedError(code, 'm'), 10_000, 200);
    expect(c(ErrorCode.PERIOD_FROZEN).code).toBe('BETTING_CLOSED');
    expect(c(ErrorCode.PERIOD_CLOSED).code).toBe('BETTING_CLOSED');
    expect(c(ErrorCode.INSUFFICIENT_FUNDS)).toMatchObject({ code: 'INSUFFICIENT_BALANCE', message: 'Insufficient balance. Required: ₹100.00 (including ₹2.00 platform fee)' });
    expect(c(ErrorCode.STAKE_TOO_LOW).code).toBe('MINIMUM_NET_BET');
    expect(c(ErrorCode.STAKE_TOO_HIGH).code).toBe('MAXIMUM_BET');
    expect(c(ErrorCode.TOO_MANY_BETS).code).toBe('MAX_BETS_REACHED');
    expect(c(ErrorCode.STORE_UNAVAILABLE).code).toBe('REDIS_STORAGE_FAILED');
    expect(compatBetError(new Error('boom'), null, 200).code).toBe('PROCESSING_ERROR');
  });
});

describe('the synchronous HS256 check (jwt.ts)', () => {
  const key = createSecretKey(Buffer.from(SECRET, 'utf8'));
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const signed = (header: unknown, claims: unknown, secret = SECRET) => {
    const input = `${b64(header)}.${b64(claims)}`;
    return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
  };
  const jose = (t: string, nowMs: number) => jwtVerify(t, key, { algorithms: ['HS256'], currentDate: new Date(nowMs) }).then((r) => r.payload as Record<string, unknown>, () => null);

  it('accepts what jose accepts in the common case, with the same claims', async () => {
    const now = Date.now();
    const t = await claimsToken(SECRET, { userId: 1042, sessionToken: 'ab'.repeat(32) });
    expect(acceptedHs256(t, key, now)).toEqual(await jose(t, now));
    expect(acceptedHs256(t, key, now)).toMatchObject({ userId: 1042 });
  });

  it('never accepts what jose refuses: those are left to jose (null), so its error text decides', async () => {
    const now = Date.now();
    const s = Math.floor(now / 1000);
    const good = await claimsToken(SECRET, { userId: 1 });
    const [h, p, sig] = good.split('.') as [string, string, string];
    const cases = [
      await claimsToken('another-secret-0123456789', { userId: 1 }),
      await claimsToken(SECRET, { userId: 1 }, { expS: -10 }),
      await claimsToken(SECRET, { userId: 1 }, { nbfS: 600 }),
      signed({ alg: 'HS256' }, { userId: 1, exp: s }), // exp == now is expired
      signed({ alg: 'HS256' }, { userId: 1, exp: String(s + 60) }),
      signed({ alg: 'HS256' }, { userId: 1, iat: 'yesterday' }),
      signed({ alg: 'HS256' }, { userId: 1, nbf: null }),
      signed({ alg: 'HS256' }, [1, 2]),
      signed({ alg: 'HS256' }, 'text'),
      signed({ alg: 'HS384' }, { userId: 1 }),
      signed({ alg: 'none' }, { userId: 1 }),
      signed({ alg: 'HS256', crit: ['b64'], b64: true }, { userId: 1 }),
      signed({ alg: 'HS256', crit: ['exp'] }, { userId: 1 }),
      signed(['HS256'], { userId: 1 }),
      `${h}.${p}.${sig}=`,
      `${h}=.${p}.${sig}`,
      `${h}.${p}.${sig.slice(0, -1)}`,
      `${h}.${p}`,
      `${h}.${p}.${sig}.x`,
      `${h}..${sig}`,
      `${h}.${p}!.${sig}`,
    ];
    for (const t of cases) {
      const mine = acceptedHs256(t, key, now);
      if (mine !== null) expect(await jose(t, now)).toEqual(mine); // anything accepted here jose accepts too
      expect(mine, t).toBeNull(); // and these are all left to jose
    }
    // accepted by both (claims jose takes): a typ, a kid, a numeric nbf in the past
    for (const t of [signed({ alg: 'HS256', typ: 'JWT', kid: 'k1' }, { sub: 'u', nbf: s - 5, exp: s + 60, iat: s - 5 }), signed({ alg: 'HS256' }, { id: 7 })]) {
      expect(acceptedHs256(t, key, now)).toEqual(await jose(t, now));
      expect(acceptedHs256(t, key, now)).not.toBeNull();
    }
  });
});

describe('the one guard around every handler (session.ts dispatch)', () => {
  const setup = () => {
    const emitted: Array<[string, unknown]> = [];
    const errors: string[] = [];
    const logged: unknown[] = [];
    const c = { path: 'package', id: 's1', connected: true, userId: 'u1', remote: '127.0.0.1', bucket: null, uws: () => null, emit: (e: string, p: unknown) => void emitted.push([e, p]), later: () => {}, write: () => {}, closeTransport: () => {}, disconnect: () => {} } as CompatConn;
    const ctx = {
      cfg: { durations: [60, 180], rateLimitPerS: 50 }, clock: { now: () => Date.parse('2026-01-01T00:00:00Z') }, rooms: [],
      metrics: { errors: { inc: (l: { where: string }) => void errors.push(l.where) } }, logger: { error: (o: unknown) => void logged.push(o) },
    };
    const d = { ctx } as unknown as SessionDeps;
    return { c, d, emitted, errors, logged };
  };

  it('names a client\'s object by its type in the answer, whatever its toString or nesting', () => {
    const { c, d, emitted } = setup();
    const deep = JSON.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`) as unknown;
    dispatch(d, c, 'joinGame', { gameType: { toString: 1 }, duration: 60 });
    dispatch(d, c, 'getPeriodInfo', { gameType: 'fiveD', duration: { toString: 1 } });
    dispatch(d, c, 'joinGame', { gameType: deep, duration: 60 });
    dispatch(d, c, 'getPeriodInfo', { gameType: 'fiveD', duration: null });
    expect(emitted.map(([e, p]) => [e, (p as { message: string }).message, (p as { code: string }).code])).toEqual([
      ['error', 'Invalid game: object 60s', 'INVALID_GAME_DURATION'],
      ['error', 'Invalid game: fiveD objects', 'INVALID_GAME_DURATION'],
      ['error', 'Invalid game: object 60s', 'INVALID_GAME_DURATION'],
      ['error', 'Invalid game: fiveD nulls', 'INVALID_GAME_DURATION'],
    ]);
    expect(shown('fiveD')).toBe('fiveD');
    expect(shown(30)).toBe(30);
    expect(shown([1])).toBe('object');
    expect(shown(undefined)).toBe('undefined');
    expect([echoed('x'), echoed(1), echoed(null), echoed(true), echoed({}), echoed([deep])]).toEqual(['x', 1, null, true, undefined, undefined]);
  });

  it('answers a handler that throws with error {code:"PROCESSING_ERROR"}, counted and logged, and never throws itself', () => {
    const { c, d, emitted, errors, logged } = setup();
    const hostile = Object.defineProperty({}, 'gameType', { enumerable: true, get: () => { throw new TypeError('hostile getter'); } });
    expect(() => dispatch(d, c, 'joinGame', hostile)).not.toThrow();
    expect(emitted).toEqual([['error', { message: 'Failed to process request due to server error', code: 'PROCESSING_ERROR' }]]);
    expect(errors).toEqual(['sio-handler']);
    expect(logged).toEqual([expect.objectContaining({ where: 'sio-handler', event: 'joinGame' })]);
    // an emit that throws as well is only counted
    const broken = { ...c, emit: () => { throw new Error('closed'); } } as CompatConn;
    expect(() => dispatch(d, broken, 'joinGame', hostile)).not.toThrow();
    expect(errors).toEqual(['sio-handler', 'sio-handler', 'sio-handler']);
  });
});
