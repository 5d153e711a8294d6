// The common case of a player's token check (fived's WebSocket and the Socket.IO layer alike)
// without jose's asynchronous WebCrypto path: a plain HS256 JWT with a good signature and current
// claims is accepted here, synchronously, with one node:crypto HMAC. jose's path allocated ~25 KiB
// per check (promises, key import, buffers), so a connection burst grew V8's young generation and
// the gateway's memory per connection (docs/benchmarks.md "The compat stack"). Anything else — a
// bad signature, an unusual header, an expired or not-yet-valid token, bytes that are not clean
// base64url or UTF-8 — gets null, and the caller asks jose, whose answer (and so the error text a
// client sees) decides. This accepts only what jose would accept with { algorithms: ['HS256'] }
// and no other option; a caller that requires more (fived's own check requires exp) checks it
// before taking the answer.

import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';

/** base64url without padding; a length of 4n+1 is no base64 at all */
const B64URL = /^[A-Za-z0-9_-]+$/;

function b64urlOk(s: string): boolean {
  return s.length % 4 !== 1 && B64URL.test(s);
}

/** A base64url part as a plain JSON object, or null (jose decides those). */
function jsonObject(part: string): Record<string, unknown> | null {
  const text = Buffer.from(part, 'base64url').toString('utf8');
  if (text.includes('\uFFFD')) return null; // not clean UTF-8 (or a literal U+FFFD): jose's strict decoder decides
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/** jose's claim checks with no clock tolerance: iat a number if given, nbf not after now, exp after now. */
function current(claims: Record<string, unknown>, nowMs: number): boolean {
  const now = Math.floor(nowMs / 1000);
  const { iat, nbf, exp } = claims;
  if (iat !== undefined && typeof iat !== 'number') return false;
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now)) return false;
  if (exp !== undefined && (typeof exp !== 'number' || exp <= now)) return false;
  return true;
}

/** The claims of a plain, well-signed, current HS256 JWT; null when jose has to decide. */
export function acceptedHs256(token: string, key: KeyObject, nowMs: number): Record<string, unknown> | null {
  const a = token.indexOf('.');
  const b = token.indexOf('.', a + 1);
  if (a <= 0 || b <= a + 1 || token.indexOf('.', b + 1) !== -1) return null;
  const [head, body, sig] = [token.slice(0, a), token.slice(a + 1, b), token.slice(b + 1)];
  if (!b64urlOk(head) || !b64urlOk(body) || !b64urlOk(sig)) return null;
  const header = jsonObject(head);
  // crit and b64 change how jose reads the token: those go to jose
  if (header === null || header.alg !== 'HS256' || 'crit' in header || 'b64' in header) return null;
  const given = Buffer.from(sig, 'base64url');
  const mac = createHmac('sha256', key).update(token.slice(0, b), 'latin1').digest();
  if (given.length !== mac.length || !timingSafeEqual(given, mac)) return null;
  const claims = jsonObject(body);
  return claims !== null && current(claims, nowMs) ? claims : null;
}
