// The fair draw for Node runtimes (worker, scheduler, gateway, CLI): the algorithm, its message
// format, the digit rule and the hashing (@noble/hashes) live in draw-stream.ts, which browsers use
// too; this file adds the constant-time commitment check of node:crypto.
// No randomness here: the caller draws the seed (src/runtime/commit.ts, from the OS CSPRNG).

import { timingSafeEqual } from 'node:crypto';
import { commitmentOf, drawDigits, normalizeHex64, type DrawVerification } from './draw-stream.js';

export * from './draw-stream.js';

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
