// Checks a revealed result against its commitment with the core's draw (hashed with @noble/hashes,
// which needs no WebCrypto: plain-HTTP pages on another host verify too), so the same code runs in
// every browser and in Node. The digit rule itself lives only in core/draw-stream.

import { drawMessage, normalizeHex64, verifyDrawAsync } from '../../../src/core/draw-stream.js';
import { isFivedError } from '../../../src/errors.js';
import type { ResultPayload } from '../../../src/protocol.js';
import type { Digits } from '../../../src/core/types.js';

export interface ResultVerification {
  /** every check below passed */
  verified: boolean;
  /** SHA-256(seed) equals the commitment carried by the result */
  commitmentOk: boolean;
  /** the digits and sum recomputed from the seed equal the announced ones */
  digitsOk: boolean;
  /** the result's commitment equals the one announced when the period opened (null: not seen) */
  announcedOk: boolean | null;
  /** digits recomputed from the seed (absent when the seed or message was invalid) */
  expected?: { digits: Digits; sum: number };
  /** why verification failed, in words */
  reason?: string;
}

/**
 * Recomputes the draw of `r` from its revealed seed and compares it with the announced digits, the
 * commitment it carries and, when known, the commitment announced before betting opened.
 * Never throws: a malformed seed or period makes `verified: false` with a reason.
 */
export async function verifyResult(r: ResultPayload, announcedCommitment?: string | null): Promise<ResultVerification> {
  let announcedOk: boolean | null = null;
  try {
    const commitment = normalizeHex64(r.commitment, 'commitment');
    if (announcedCommitment) announcedOk = normalizeHex64(announcedCommitment, 'commitment') === commitment;
    const message = drawMessage({ duration: r.duration, timeline: r.timeline, periodId: r.periodId });
    const v = await verifyDrawAsync(r.seed, commitment, message);
    const expected = { digits: v.digits, sum: v.sum };
    const digitsOk = Array.isArray(r.digits) && r.digits.length === 5 && v.digits.every((d, i) => r.digits[i] === d) && r.sum === v.sum;
    const verified = v.commitmentOk && digitsOk && announcedOk !== false;
    const reason = verified
      ? undefined
      : !v.commitmentOk
        ? 'SHA-256 of the revealed seed differs from the commitment'
        : !digitsOk
          ? `the seed draws ${v.digits.join('')} (sum ${v.sum}), not ${Array.isArray(r.digits) ? r.digits.join('') : '?'} (sum ${r.sum})`
          : 'the commitment differs from the one announced before betting opened';
    return reason === undefined ? { verified, commitmentOk: v.commitmentOk, digitsOk, announcedOk, expected } : { verified, commitmentOk: v.commitmentOk, digitsOk, announcedOk, expected, reason };
  } catch (err) {
    const reason = isFivedError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
    return { verified: false, commitmentOk: false, digitsOk: false, announcedOk, reason };
  }
}
