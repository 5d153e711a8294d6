// fived's player tokens (src/gateway/auth.ts): the common case is checked synchronously with one
// HMAC (src/gateway/jwt.ts), everything else by jose. Whichever path a token takes, the verdict and
// the reason a client is told are the same as jose's alone.
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { TokenVerifier } from '../src/gateway/auth.js';

const SECRET = 'unit-test-secret-of-some-length';
const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);
const key = new TextEncoder().encode(SECRET);
const s = Math.floor(NOW / 1000);

async function sign(claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }, secret = key): Promise<string> {
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(secret);
}

const refusal = async (v: TokenVerifier, token: string): Promise<string> => {
  try {
    await v.verify(token);
  } catch (err) {
    return `${(err as { code?: string }).code}: ${(err as Error).message}`;
  }
  return 'accepted';
};

describe('TokenVerifier', () => {
  const v = new TokenVerifier(SECRET, 86_400, () => NOW);

  it('accepts a current token and names its user and expiry', async () => {
    const t = await v.sign('player-1', 3600, NOW);
    expect(await v.verify(t)).toEqual({ userId: 'player-1', expiresAt: (s + 3600) * 1000 });
    // a header with kid and no typ is still the common case
    expect(await v.verify(await sign({ sub: 'p2', exp: s + 60 }, { alg: 'HS256', kid: 'k1' }))).toEqual({ userId: 'p2', expiresAt: (s + 60) * 1000 });
  });

  it('refuses with the reason jose gives, on either path', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['no exp', await sign({ sub: 'p', iat: s }), /^E_UNAUTHORIZED: invalid token: missing required "exp" claim/],
      ['expired', await sign({ sub: 'p', exp: s - 1 }), /^E_UNAUTHORIZED: invalid token: "exp" claim timestamp check failed/],
      ['not yet valid', await sign({ sub: 'p', exp: s + 60, nbf: s + 30 }), /^E_UNAUTHORIZED: invalid token: "nbf" claim timestamp check failed/],
      ['another secret', await sign({ sub: 'p', exp: s + 60 }, undefined, new TextEncoder().encode('another-secret-entirely')), /^E_UNAUTHORIZED: invalid token: signature verification failed/],
      ['HS512', await sign({ sub: 'p', exp: s + 60 }, { alg: 'HS512' }), /^E_UNAUTHORIZED: invalid token: .*"alg" \(Algorithm\) Header Parameter value not allowed/],
      ['a bad user id', await sign({ sub: 'a b', exp: s + 60 }), /^E_UNAUTHORIZED: invalid token: sub must be a user id/],
      ['no sub', await sign({ exp: s + 60 }), /^E_UNAUTHORIZED: invalid token: sub must be a user id/],
      ['exp beyond the age bound', await sign({ sub: 'p', exp: s + 86_401 }), /^E_UNAUTHORIZED: invalid token: "exp" lies more than 86400 s ahead/],
      ['lives too long', await sign({ sub: 'p', iat: s - 86_400, exp: s + 60 }), /^E_UNAUTHORIZED: invalid token: the token lives longer than 86400 s/],
      ['not a JWT', 'abc.def', /^E_UNAUTHORIZED: invalid token: Invalid Compact JWS/],
    ];
    for (const [what, token, reason] of cases) expect(await refusal(v, token), what).toMatch(reason);
  });

  it('refuses every token when no secret is set', async () => {
    const off = new TokenVerifier('', 86_400, () => NOW);
    expect(off.enabled).toBe(false);
    expect(await refusal(off, await sign({ sub: 'p', exp: s + 60 }))).toMatch(/^E_UNAUTHORIZED: player tokens are disabled/);
  });
});
