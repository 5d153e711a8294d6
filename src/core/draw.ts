// The fair draw with the synchronous node:crypto backend (worker, scheduler, gateway, CLI).
// The algorithm, its message format and the digit rule live in draw-stream.ts (platform-neutral,
// also used by browsers through its WebCrypto backend); this file only supplies HMAC and SHA-256.
// No randomness here: the caller draws the seed (src/worker/seed.ts: randomSeed()).

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { digitsFromStream, hexToBytes, normalizeHex64, roundData, validateDrawMessage, type DrawVerification } from './draw-stream.js';
import type { DrawResult } from './types.js';

export * from './draw-stream.js';

/** SHA-256 of the 32 seed bytes, lowercase hex: the commitment published before betting opens. */
export function commitmentOf(seedHex: string): string {
  return createHash('sha256').update(hexToBytes(normalizeHex64(seedHex))).digest('hex');
}

/** The five digits (and sum) drawn from a seed for a draw message. */
export function drawDigits(seedHex: string, message: string): DrawResult {
  const key = hexToBytes(normalizeHex64(seedHex));
  validateDrawMessage(message);
  return digitsFromStream((round) => createHmac('sha256', key).update(roundData(message, round), 'utf8').digest());
}

/** Digits from the seed, and whether SHA-256(seed) equals the commitment. */
export function verifyDraw(seedHex: string, commitmentHex: string, message: string): DrawVerification {
  const expected = Buffer.from(normalizeHex64(commitmentHex, 'commitment'), 'hex');
  const draw = drawDigits(seedHex, message);
  const actual = Buffer.from(commitmentOf(seedHex), 'hex');
  return { ...draw, commitmentOk: timingSafeEqual(actual, expected) };
}

/** True when a stored result (seed, commitment, digits) is exactly what the algorithm gives. */
export function resultMatches(seedHex: string, commitmentHex: string, message: string, digits: ArrayLike<number>): boolean {
  const v = verifyDraw(seedHex, commitmentHex, message);
  return v.commitmentOk && v.digits.every((d, i) => d === digits[i]);
}
