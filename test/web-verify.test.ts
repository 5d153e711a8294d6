// The verify button's logic: the SDK's verification (@noble/hashes, in any browser context) turned into a verdict.
import { randomBytes } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { commitmentOf, drawDigits, drawMessage } from '../src/core/draw.js';
import type { ResultPayload } from '../src/protocol.js';
import { verdictOf, verifyInBrowser } from '../web/verify-view.js';

function genuine(): ResultPayload {
  const seed = randomBytes(32).toString('hex');
  const ref = { duration: 5, timeline: 'default', periodId: '20250731000001234' };
  const d = drawDigits(seed, drawMessage(ref));
  return { room: 'fiveD_5', ...ref, digits: d.digits, sum: d.sum, seed, commitment: commitmentOf(seed), endsAt: 0 };
}

describe('verify button', () => {
  it('says it matches for a genuine result, and shows the recomputed digits', async () => {
    const r = genuine();
    const v = await verifyInBrowser(r, r.commitment);
    expect(v.ok).toBe(true);
    expect(v.label).toMatch(/Matches/);
    expect(v.detail).toContain(r.digits.join(' '));
    expect(v.detail).toMatch(/announced before betting/);
  });
  it('says it does not match for a tampered result and explains why', async () => {
    const r = genuine();
    const tampered = { ...r, digits: [...r.digits].reverse() as ResultPayload['digits'] };
    if (tampered.digits.join() === r.digits.join()) tampered.digits[0] = (tampered.digits[0] + 1) % 10;
    tampered.sum = tampered.digits.reduce((a, b) => a + b, 0);
    const v = await verifyInBrowser(tampered, null);
    expect(v.ok).toBe(false);
    expect(v.label).toMatch(/Does not match/);
    expect(v.detail).toMatch(/the seed draws/);
    const wrongSeed = await verifyInBrowser({ ...r, seed: randomBytes(32).toString('hex') }, null);
    expect(wrongSeed.ok).toBe(false);
    expect(wrongSeed.detail).toMatch(/SHA-256/);
  });
  it('verifies in a browser without WebCrypto too (plain-HTTP page on another host: @noble/hashes)', async () => {
    const r = genuine();
    // what an insecure browser context exposes: crypto without subtle
    vi.stubGlobal('crypto', { getRandomValues: globalThis.crypto.getRandomValues.bind(globalThis.crypto) });
    try {
      expect(globalThis.crypto.subtle).toBeUndefined();
      const v = await verifyInBrowser(r, r.commitment);
      expect(v).toMatchObject({ ok: true, label: '✓ Matches commitment' });
    } finally {
      vi.unstubAllGlobals();
    }
    expect(verdictOf({ verified: false, commitmentOk: false, digitsOk: false, announcedOk: null }).label).toMatch(/Does not match/);
  });
});
