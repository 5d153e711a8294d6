// Checks a revealed result against its commitment with the core's draw (hashed with @noble/hashes,
// which needs no WebCrypto: plain-HTTP pages on another host verify too), so the same code runs in
// every browser and in Node. The digit rule itself lives only in core/draw-stream.

import { drawMessage, normalizeHex64, verifyDrawAsync } from '../../../src/core/draw-stream.js';
import { isFivedError } from '../../../src/errors.js';
import type { ResultPayload } from '../../../src/protocol.js';
import type { Digits } from '../../../src/core/types.js';

export interface ResultVerification {
  /** every check below passed (a check that is null was not made) */
  verified: boolean;
  /** SHA-256(seed) equals the commitment carried by the result */
  commitmentOk: boolean;
  /** the digits and sum recomputed from the seed equal the announced ones */
  digitsOk: boolean;
  /** the result's commitment equals the one announced when the period opened (null: not seen) */
  announcedOk: boolean | null;
  /**
   * the result's `duration` and `timeline` equal the room's as announced (null: the room's were not
   * given, and the draw was recomputed from the result's own fields: self-consistency only)
   */
  roomOk?: boolean | null;
  /** digits recomputed from the seed (absent when the seed or message was invalid) */
  expected?: { digits: Digits; sum: number };
  /** why verification failed, in words */
  reason?: string;
}

/**
 * What the verifier knows independently of the result: the commitment announced before betting
 * opened, and the room's duration and timeline as announced. The draw message is built from these
 * when given, never from the result's own fields; a result whose fields differ is a mismatch.
 */
export interface AnnouncedPeriod {
  commitment?: string | null;
  duration?: number;
  timeline?: string;
}

function reasonOf(commitmentOk: boolean, digitsOk: boolean, announcedOk: boolean | null, roomOk: boolean | null, r: ResultPayload, v: { digits: Digits; sum: number }): string | undefined {
  if (roomOk === false) return `the result's duration/timeline (${String(r.duration)}/${String(r.timeline)}) differ from the room's as announced`;
  if (!commitmentOk) return 'SHA-256 of the revealed seed differs from the commitment';
  if (!digitsOk) return `the seed draws ${v.digits.join('')} (sum ${v.sum}), not ${Array.isArray(r.digits) ? r.digits.map(String).join('') : '?'} (sum ${String(r.sum)})`;
  if (announcedOk === false) return 'the commitment differs from the one announced before betting opened';
  return undefined;
}

/**
 * Recomputes the draw of `r` from its revealed seed and compares it with the announced digits, the
 * commitment it carries and, when known, the commitment announced before betting opened.
 * `announced` is that commitment (a string), or `{ commitment, duration, timeline }`: with the
 * room's duration and timeline the draw message is the room's, and a result claiming others fails.
 * Without them the check only proves the result is consistent with itself.
 * Never throws: a malformed seed or period makes `verified: false` with a reason.
 */
export async function verifyResult(r: ResultPayload, announced?: string | null | AnnouncedPeriod): Promise<ResultVerification> {
  const a: AnnouncedPeriod = typeof announced === 'string' || announced === null || announced === undefined ? { commitment: announced ?? null } : announced;
  let announcedOk: boolean | null = null;
  const hasRoom = a.duration !== undefined || a.timeline !== undefined;
  const roomOk: boolean | null = hasRoom ? r.duration === a.duration && r.timeline === a.timeline : null;
  try {
    const commitment = normalizeHex64(r.commitment, 'commitment');
    if (a.commitment) announcedOk = normalizeHex64(a.commitment, 'commitment') === commitment;
    const message = drawMessage({ duration: a.duration ?? r.duration, timeline: a.timeline ?? r.timeline, periodId: r.periodId });
    const v = await verifyDrawAsync(r.seed, commitment, message);
    const expected = { digits: v.digits, sum: v.sum };
    const digitsOk = Array.isArray(r.digits) && r.digits.length === 5 && v.digits.every((d, i) => r.digits[i] === d) && r.sum === v.sum;
    const reason = reasonOf(v.commitmentOk, digitsOk, announcedOk, roomOk, r, v);
    const base = { verified: reason === undefined, commitmentOk: v.commitmentOk, digitsOk, announcedOk, ...(hasRoom ? { roomOk } : {}), expected };
    return reason === undefined ? base : { ...base, reason };
  } catch (err) {
    const reason = isFivedError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
    return { verified: false, commitmentOk: false, digitsOk: false, announcedOk, ...(hasRoom ? { roomOk } : {}), reason };
  }
}
