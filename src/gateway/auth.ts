// Player identity: an HS256 JWT whose `sub` is the user id. Browsers cannot set headers on a
// WebSocket, so the token rides in Sec-WebSocket-Protocol as `fived.jwt.<token>` next to plain
// `fived` (the server echoes `fived`, or browsers drop the connection), or in `?token=`.
// The user id of a bet always comes from here, never from a message field.

import { SignJWT, jwtVerify } from 'jose';
import { createHash, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { ErrorCode, FivedError } from '../errors.js';
import { WS_PROTOCOL, WS_TOKEN_PROTOCOL_PREFIX } from '../protocol.js';
import { isUserId, USER_ID_RULE } from '../core/ids.js';
import { acceptedHs256 } from './jwt.js';

export interface Identity {
  userId: string;
  /** epoch ms when the token expires (exp is required) */
  expiresAt: number;
}


export class TokenVerifier {
  /** a KeyObject: imported once, not for every connection */
  private readonly key: KeyObject | null;
  /**
   * maxAgeS bounds a token's life: exp at most maxAgeS ahead of now, and exp - iat at most maxAgeS
   * when iat is given. A stolen token is then worth a day at most, not forever (issue 12, row 8).
   */
  constructor(secret: string, private readonly maxAgeS = 86_400, private readonly now: () => number = Date.now) {
    this.key = secret === '' ? null : createSecretKey(Buffer.from(secret, 'utf8'));
  }

  get enabled(): boolean {
    return this.key !== null;
  }

  /** Verifies a token; throws E_UNAUTHORIZED with the reason. */
  async verify(token: string): Promise<Identity> {
    if (!this.key) throw new FivedError(ErrorCode.UNAUTHORIZED, 'player tokens are disabled on this gateway (no FIVED_JWT_SECRET)');
    try {
      const nowMs = this.now();
      // the common case synchronously (jwt.ts; a token without exp too goes to jose, whose message
      // names it); jose checks exp (when present) against this clock, its requiredClaims makes exp
      // mandatory
      const fast = acceptedHs256(token, this.key, nowMs);
      const payload = fast !== null && typeof fast.exp === 'number' ? fast
        : (await jwtVerify(token, this.key, { algorithms: ['HS256'], requiredClaims: ['exp'], currentDate: new Date(nowMs) })).payload;
      const sub = payload.sub;
      if (!isUserId(sub)) throw new Error(`sub must be a user id (${USER_ID_RULE})`);
      const exp = payload.exp;
      if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new Error('"exp" claim is required');
      if (exp * 1000 - nowMs > this.maxAgeS * 1000) throw new Error(`"exp" lies more than ${this.maxAgeS} s ahead (FIVED_MAX_TOKEN_AGE_S)`);
      if (typeof payload.iat === 'number' && exp - payload.iat > this.maxAgeS) throw new Error(`the token lives longer than ${this.maxAgeS} s (exp - iat; FIVED_MAX_TOKEN_AGE_S)`);
      return { userId: sub, expiresAt: exp * 1000 };
    } catch (err) {
      if (err instanceof FivedError) throw err;
      throw new FivedError(ErrorCode.UNAUTHORIZED, `invalid token: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  async sign(userId: string, ttlS: number, nowMs: number): Promise<string> {
    if (!this.key) throw new FivedError(ErrorCode.UNAUTHORIZED, 'player tokens are disabled on this gateway (no FIVED_JWT_SECRET)');
    const iat = Math.floor(nowMs / 1000);
    return new SignJWT({}).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(userId).setIssuedAt(iat).setExpirationTime(iat + ttlS).sign(this.key);
  }
}

export interface OfferedProtocols {
  /** the protocol to echo (`fived`) when the client offered it, else null */
  accept: string | null;
  token: string | null;
}

/** Splits a Sec-WebSocket-Protocol header into the protocol to echo and the token, if any. */
export function parseProtocols(header: string): OfferedProtocols {
  let accept: string | null = null;
  let token: string | null = null;
  for (const raw of header.split(',')) {
    const p = raw.trim();
    if (p === WS_PROTOCOL) accept = WS_PROTOCOL;
    else if (p.startsWith(WS_TOKEN_PROTOCOL_PREFIX)) token = p.slice(WS_TOKEN_PROTOCOL_PREFIX.length);
  }
  return { accept, token };
}

/** A fresh demo user id. */
export function demoUserId(): string {
  return `demo-${randomBytes(6).toString('hex')}`;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Compares the Authorization header with `Bearer <operator token>` in constant time: both are
 * hashed to 32 bytes first, so neither the content nor the length of the token leaks through
 * the time a refusal takes.
 */
export function operatorAllowed(authorization: string, operatorToken: string): boolean {
  if (operatorToken === '') return false;
  return timingSafeEqual(digest(authorization), digest(`Bearer ${operatorToken}`));
}
