// What the verify button shows: the SDK's verification (recomputed in this browser with WebCrypto,
// or with the core's pure SHA-256 on plain-HTTP pages where crypto.subtle is missing) turned into
// a verdict and a sentence. Pure; unit-tested in test/web-verify.test.ts.

import type { HashBackendOption } from '../src/core/draw-stream.js';
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
  return { ok: false, label: '✗ Does not match', detail: v.reason ?? 'The revealed seed does not reproduce this result.' };
}

/** Recomputes the draw in this browser and returns the verdict. */
export async function verifyInBrowser(r: ResultPayload, announcedCommitment: string | null, backend?: HashBackendOption): Promise<VerifyVerdict> {
  return verdictOf(await verifyResult(r, announcedCommitment, backend));
}
