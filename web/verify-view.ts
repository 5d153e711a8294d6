// What the verify button shows: the SDK's verification (recomputed in this browser, with
// @noble/hashes, so plain-HTTP pages without crypto.subtle verify too) turned into a verdict and a
// sentence. Pure; unit-tested in test/web-verify.test.ts.

import { verifyResult, type ResultVerification } from '@fived/client';
import type { ResultPayload } from '../src/protocol.js';

export interface VerifyVerdict {
  ok: boolean;
  label: string; // short, on the button's badge
  detail: string; // one sentence under it
}

export function verdictOf(v: ResultVerification): VerifyVerdict {
  if (v.verified) {
    const d = v.expected ? v.expected.digits.join(' ') : '';
    return {
      ok: true,
      label: '✓ Matches commitment',
      detail: `SHA-256(seed) equals the commitment${v.announcedOk ? ' announced before betting' : ''}, and the seed draws ${d}.`,
    };
  }
  // the reasons are plain sentences, except a malformed seed or commitment (a coded error): players read no codes
  const plain = v.reason && !/\bE_[A-Z_]+/.test(v.reason) ? v.reason : undefined;
  return { ok: false, label: '✗ Does not match', detail: plain ?? 'The revealed seed does not reproduce this result.' };
}

/** Recomputes the draw in this browser and returns the verdict. */
export async function verifyInBrowser(r: ResultPayload, announcedCommitment: string | null): Promise<VerifyVerdict> {
  return verdictOf(await verifyResult(r, announcedCommitment));
}

/** A result read from the history API (`result` of a period object), as the SDK would have delivered it, verified here. */
export async function verifiedFromHistory(
  entry: { room: string; periodId: string; endsAt: number; commitment: string; result: { digits: ResultPayload['digits']; sum: number; seed: string } },
  room: { duration: number; timeline: string },
  receivedAt: number,
): Promise<ResultPayload & { verified: boolean; verification: ResultVerification; early: boolean; recovered: boolean; receivedAt: number }> {
  const r: ResultPayload = { room: entry.room, duration: room.duration, timeline: room.timeline, periodId: entry.periodId, digits: entry.result.digits, sum: entry.result.sum, seed: entry.result.seed, commitment: entry.commitment, endsAt: entry.endsAt };
  const verification = await verifyResult(r, null);
  return { ...r, verified: verification.verified, verification, early: false, recovered: true, receivedAt };
}
