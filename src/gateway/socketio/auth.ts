// Who a Socket.IO connection (or a compatibility REST request) is: the replaced system's token
// rules (docs/socketio.md "Connecting"): the token is looked up in the handshake's `auth.token`,
// then `?token=`, then `Authorization: Bearer …`, then `x-auth-token`; it is an HS256 JWT signed
// with the platform secret (FIVED_JWT_SECRET); the user is the first of the claims `userId`, `id`,
// `user_id`, `sub` (an integer id n is fived's user "n"). Refusals carry the replaced system's
// exact `connect_error` texts. fived adds its own bound: `exp` is required and at most
// FIVED_MAX_TOKEN_AGE_S ahead (docs/design.md: a stolen token is worth a day at most).

import { acceptedHs256 } from '../jwt.js';
import { jwtVerify } from 'jose';
import { createSecretKey, type KeyObject } from 'node:crypto';
import { USER_ID } from '../../core/ids.js';

export const AUTH_TEXT = {
  NO_TOKEN: 'Authentication required - no token provided',
  NULL_STRING: 'Invalid token - frontend sending "null" string',
  TOO_SHORT: 'Token too short - minimum 10 characters required',
  FORMAT: 'Invalid JWT format',
  MALFORMED: 'Malformed JWT token',
  EXPIRED: 'Token expired',
  NOT_ACTIVE: 'Token not active yet',
  FAILED: 'Token verification failed',
  NO_USER: 'Invalid token - no user ID',
  INTERNAL: 'Authentication failed - internal error',
} as const;

export class CompatAuthError extends Error {}

export interface CompatIdentity {
  userId: string;
  /** epoch ms */
  expiresAt: number;
}

export interface HandshakeLike {
  auth?: Record<string, unknown>;
  query?: Record<string, unknown>;
  headers?: Record<string, string | string[] | undefined>;
}

const header = (h: HandshakeLike['headers'], name: string): string | undefined => {
  const v = h?.[name];
  return Array.isArray(v) ? v[0] : v;
};

/** The token in the replaced system's lookup order, or null when none is given anywhere. */
export function findToken(h: HandshakeLike): string | null {
  const auth = h.auth?.token;
  if (typeof auth === 'string' && auth !== '') return auth;
  const query = h.query?.token;
  if (typeof query === 'string' && query !== '') return query;
  const bearer = header(h.headers, 'authorization');
  if (bearer?.startsWith('Bearer ')) return bearer.slice(7);
  const x = header(h.headers, 'x-auth-token');
  if (x !== undefined && x !== '') return x;
  return null;
}

/** The user id of the claims: the first truthy of userId, id, user_id, sub (integers accepted). */
export function userIdOf(claims: Record<string, unknown>): string | null {
  for (const name of ['userId', 'id', 'user_id', 'sub']) {
    const v = claims[name];
    if (!v) continue;
    const id = typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : v;
    return typeof id === 'string' && USER_ID.test(id) ? id : null;
  }
  return null;
}

function joseText(err: unknown): string {
  const code = (err as { code?: string }).code;
  const claim = (err as { claim?: string }).claim;
  if (code === 'ERR_JWT_EXPIRED') return AUTH_TEXT.EXPIRED;
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && claim === 'nbf') return AUTH_TEXT.NOT_ACTIVE;
  if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' || code === 'ERR_JWS_INVALID' || code === 'ERR_JWT_INVALID') return AUTH_TEXT.MALFORMED;
  return AUTH_TEXT.FAILED;
}

export class CompatVerifier {
  /** a KeyObject: imported once, not for every connection */
  private readonly key: KeyObject | null;

  constructor(secret: string, private readonly maxAgeS: number, private readonly now: () => number) {
    this.key = secret === '' ? null : createSecretKey(Buffer.from(secret, 'utf8'));
  }

  /** Verifies a token as found by findToken; throws CompatAuthError with the exact text. */
  async verify(found: string | null): Promise<CompatIdentity> {
    if (found === null) throw new CompatAuthError(AUTH_TEXT.NO_TOKEN);
    let token = found.trim();
    if (token.startsWith('Bearer ')) token = token.slice(7).trim();
    if (token === '' || token === 'null' || token === 'undefined' || token === 'false') throw new CompatAuthError(AUTH_TEXT.NULL_STRING);
    if (token.length < 10) throw new CompatAuthError(AUTH_TEXT.TOO_SHORT);
    if (token.split('.').length !== 3) throw new CompatAuthError(AUTH_TEXT.FORMAT);
    if (!this.key) throw new CompatAuthError(AUTH_TEXT.INTERNAL); // no FIVED_JWT_SECRET: nobody can sign in
    const nowMs = this.now();
    // the common case synchronously (jwt.ts); jose decides everything else
    let claims = acceptedHs256(token, this.key, nowMs);
    if (claims === null) {
      try {
        ({ payload: claims } = await jwtVerify(token, this.key, { algorithms: ['HS256'], currentDate: new Date(nowMs) }));
      } catch (err) {
        throw new CompatAuthError(joseText(err));
      }
    }
    const userId = userIdOf(claims);
    if (userId === null) throw new CompatAuthError(AUTH_TEXT.NO_USER);
    const exp = claims.exp;
    // fived's bound on a token's life (FIVED_MAX_TOKEN_AGE_S): exp required, not too far ahead
    if (typeof exp !== 'number' || exp * 1000 - nowMs > this.maxAgeS * 1000) throw new CompatAuthError(AUTH_TEXT.FAILED);
    if (typeof claims.iat === 'number' && exp - claims.iat > this.maxAgeS) throw new CompatAuthError(AUTH_TEXT.FAILED);
    return { userId, expiresAt: exp * 1000 };
  }
}
