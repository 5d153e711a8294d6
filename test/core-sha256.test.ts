// The draw's SHA-256 / HMAC-SHA256 (@noble/hashes, src/core/hash.ts: every runtime, including
// browsers without crypto.subtle) against the standards' vectors and node:crypto, and the draw's
// digits and commitment against node:crypto's HMAC and SHA-256 and against the async forms.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { verifyResult } from '../packages/client/src/verify.js';
import { commitmentOf, commitmentOfAsync, digitsFromStream, drawDigits, drawDigitsAsync, drawMessage, verifyDrawAsync } from '../src/core/draw.js';
import { hmacSha256, sha256 } from '../src/core/hash.js';
import type { ResultPayload } from '../src/protocol.js';
import { verifyInBrowser } from '../web/verify-view.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const nodeSha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const nodeHmac = (k: Uint8Array, d: Uint8Array) => createHmac('sha256', k).update(d).digest('hex');

// Padding edges: 55 is the longest one-block message, 56..63 spill the length into a second
// block, 64 is exactly one block of data; the rest cover several blocks and their edges.
const EDGE_LENGTHS = [0, 1, 31, 32, 54, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 191, 192, 1000, 4096, 65_537];

describe('sha256 (@noble/hashes)', () => {
  it('matches the FIPS 180-4 examples', () => {
    const enc = new TextEncoder();
    expect(hex(sha256(new Uint8Array(0)))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hex(sha256(enc.encode('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hex(sha256(enc.encode('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')))).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
  });

  it('equals node:crypto at every padding edge and on multi-block inputs', () => {
    for (const n of EDGE_LENGTHS) {
      const data = randomBytes(n);
      expect(hex(sha256(data)), `length ${n}`).toBe(nodeSha(data));
    }
  });

  it('equals node:crypto for random inputs of 0..300 bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (data) => {
        expect(hex(sha256(data))).toBe(nodeSha(data));
      }),
      { numRuns: 400 },
    );
  });

  it('hashes a view of a larger buffer by its own bytes, and leaves the input unchanged', () => {
    const big = randomBytes(200);
    const view = big.subarray(17, 17 + 70);
    const before = hex(big);
    expect(hex(sha256(view))).toBe(nodeSha(view));
    expect(hex(big)).toBe(before);
  });
});

describe('hmacSha256 (@noble/hashes)', () => {
  it('matches RFC 4231 test case 2', () => {
    const enc = new TextEncoder();
    expect(hex(hmacSha256(enc.encode('Jefe'), enc.encode('what do ya want for nothing?')))).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  it('equals node:crypto for keys and data at the edges (short, 64-byte and hashed long keys)', () => {
    for (const kl of [0, 1, 32, 63, 64, 65, 131]) {
      for (const dl of EDGE_LENGTHS.slice(0, -1)) {
        const key = randomBytes(kl);
        const data = randomBytes(dl);
        expect(hex(hmacSha256(key, data)), `key ${kl}, data ${dl}`).toBe(nodeHmac(key, data));
      }
    }
  });

  it('equals node:crypto for random keys and data (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 150 }), fc.uint8Array({ minLength: 0, maxLength: 300 }), (key, data) => {
        expect(hex(hmacSha256(key, data))).toBe(nodeHmac(key, data));
      }),
      { numRuns: 300 },
    );
  });

  it('reproduces the round-0 HMAC of the fairness.md vectors', () => {
    const v = [
      ['888a9b3b39cf0a4cafdf930e1e68651056304a5f651253cc72abf29f6630e84b', 'fiveD:600:default:20240229000000144', '9279fef392f84cdd60f9df18787f3e7ad3ea7a43e05f55186d2c0a01735f4383'],
      ['5feceb66ffc86f38d952786c6d696c79c2dbc239dd4e91b46729d73a27fb57e9', 'fiveD:300:default:20251231000000288', 'c0f0deeafe5d39667858fbd445ab2239821f27dc81fbb7adad2c084d11897c07'],
    ] as const;
    for (const [seed, message, block0] of v) {
      expect(hex(hmacSha256(Buffer.from(seed, 'hex'), new TextEncoder().encode(`${message}:0`)))).toBe(block0);
    }
  });
});

describe('the draw with @noble/hashes', () => {
  // the reference: the same digit rule over node:crypto's HMAC, the commitment over its SHA-256
  const nodeDraw = (seed: string, message: string) =>
    digitsFromStream((round) => createHmac('sha256', Buffer.from(seed, 'hex')).update(`${message}:${round}`, 'utf8').digest());

  it('drawDigits and commitmentOf equal node:crypto, and the async forms equal them (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.string({ minLength: 1, maxLength: 256 }), async (bytes, message) => {
        const seed = hex(bytes);
        expect(drawDigits(seed, message)).toEqual(nodeDraw(seed, message));
        expect(commitmentOf(seed)).toBe(nodeSha(bytes));
        expect(await drawDigitsAsync(seed, message)).toEqual(drawDigits(seed, message));
        expect(await commitmentOfAsync(seed)).toBe(commitmentOf(seed));
      }),
      { numRuns: 200 },
    );
  });

  it('verifyDrawAsync reproduces fairness.md vector 3 and rejects a foreign commitment', async () => {
    const seed = '888a9b3b39cf0a4cafdf930e1e68651056304a5f651253cc72abf29f6630e84b';
    const commitment = 'f2d8386d29c54ad6e34f1fb1b120e041a0ca361f7a9afae2bc6b746c8acf1836';
    const message = 'fiveD:600:default:20240229000000144';
    expect(await verifyDrawAsync(seed, commitment, message)).toEqual({ digits: [6, 1, 3, 6, 8], sum: 24, commitmentOk: true });
    const other = commitmentOf(randomBytes(32).toString('hex'));
    expect((await verifyDrawAsync(seed, other, message)).commitmentOk).toBe(false);
  });

  it('bad input is refused the same way on the async path', async () => {
    await expect(drawDigitsAsync('xyz', 'fiveD:60:default:20250731000000001')).rejects.toMatchObject({ code: 'E_INVALID_SEED' });
    await expect(drawDigitsAsync('00'.repeat(32), '')).rejects.toMatchObject({ code: 'E_BAD_REQUEST' });
  });
});

describe('a page without crypto.subtle (plain HTTP on another host)', () => {
  afterEach(() => {
    vi.unstubAllGlobals(); // the stub below never outlives its test
  });

  function genuine(): ResultPayload {
    const seed = randomBytes(32).toString('hex');
    const ref = { duration: 60, timeline: 'default', periodId: '20250731000000042' };
    const d = drawDigits(seed, drawMessage(ref));
    return { room: 'fiveD_60', ...ref, digits: d.digits, sum: d.sum, seed, commitment: commitmentOf(seed), endsAt: 0 };
  }

  it('the SDK and the verify button still verify (no WebCrypto needed)', async () => {
    // what an insecure browser context exposes: crypto without subtle
    vi.stubGlobal('crypto', { getRandomValues: globalThis.crypto.getRandomValues.bind(globalThis.crypto) });
    expect(globalThis.crypto.subtle).toBeUndefined();

    const r = genuine();
    const v = await verifyResult(r, r.commitment);
    expect(v).toMatchObject({ verified: true, commitmentOk: true, digitsOk: true, announcedOk: true });
    const verdict = await verifyInBrowser(r, r.commitment);
    expect(verdict.ok).toBe(true);
    expect(verdict.label).toMatch(/Matches/);

    const tampered = { ...r, seed: randomBytes(32).toString('hex') };
    expect((await verifyInBrowser(tampered, null)).label).toMatch(/Does not match/);
  });
});
