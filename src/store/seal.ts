// Sealing of committed seeds: a period's secret seed is never stored in clear (docs/design.md
// rule 4: no seed readable at rest while its period takes bets). It is stored as AES-256-GCM
// ciphertext under the seed key (FIVED_SEED_KEY), with the key's id beside it so keys can be
// rotated: the current key seals, retired keys only unseal. The additional authenticated data is
// the period's identity, so a sealed seed copied into another period's hash does not open.
//
// Neither half predicts a result alone: Redis (or its AOF/RDB, a backup) holds only ciphertext,
// and the key holds no seed. The public verification (docs/fairness.md) is untouched: at the end
// the result carries the seed in clear, as before.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { PeriodRef } from '../core/types.js';
import { normalizeHex64 } from '../core/draw.js';
import { ErrorCode, FivedError } from '../errors.js';
// the seed key's text form and public id are read by the config too: one place, core/seed-key.ts
import { parseSeedKey, SEED_KEY_BYTES, seedKeyId } from '../core/seed-key.js';

export { parseSeedKey, SEED_KEY_BYTES, seedKeyId } from '../core/seed-key.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const SEED_BYTES = 32;
// ciphertext + tag = 48 bytes = 64 base64 characters: each field stays within Redis's default
// hash-max-listpack-value (64), so a period's meta hash keeps its compact encoding
const SEALED_BYTES = SEED_BYTES + TAG_BYTES;

/** The additional authenticated data: the period's identity. */
function aadOf(p: PeriodRef): Buffer {
  return Buffer.from(`fived-seed-v1\0${p.duration}:${p.timeline}:${p.periodId}`, 'utf8');
}

/** A sealed seed as stored (meta hash fields seedKeyId, seedIv, sealedSeed). */
export interface SealedSeed {
  /** id of the key that sealed it (16 hex) */
  keyId: string;
  /** the random 12-byte GCM nonce, base64 */
  iv: string;
  /** AES-256-GCM ciphertext of the 32 seed bytes followed by the 16-byte tag, base64 (64 characters) */
  sealed: string;
}

export class SeedSealer {
  /** id of the key new seeds are sealed under */
  readonly keyId: string;
  private readonly current: Buffer;
  private readonly keys = new Map<string, Buffer>();

  private constructor(current: Buffer, retired: readonly Buffer[]) {
    this.current = current;
    this.keyId = seedKeyId(current);
    this.keys.set(this.keyId, current);
    for (const k of retired) {
      const id = seedKeyId(k);
      if (!this.keys.has(id)) this.keys.set(id, k);
    }
  }

  /** From the settings' text (FIVED_SEED_KEY, FIVED_SEED_KEYS_RETIRED); a bad key is E_CONFIG_INVALID. */
  static fromText(current: string, retired: readonly string[] = []): SeedSealer {
    const parse = (t: string, what: string): Buffer => {
      const k = parseSeedKey(t);
      if (!k) throw new FivedError(ErrorCode.CONFIG_INVALID, `${what}: expected 32 bytes as 64 hex characters or base64`);
      return k;
    };
    return new SeedSealer(parse(current, 'seed key'), retired.map((t, i) => parse(t, `retired seed key #${i + 1}`)));
  }

  /** A key that lives only in this process (the embedded in-memory store). */
  static random(): SeedSealer {
    return new SeedSealer(randomBytes(SEED_KEY_BYTES), []);
  }

  /** Ids of every key this sealer can unseal with (current first). */
  keyIds(): string[] {
    return [...this.keys.keys()];
  }

  seal(period: PeriodRef, seedHex: string): SealedSeed {
    const seed = Buffer.from(normalizeHex64(seedHex, 'seed'), 'hex');
    const iv = randomBytes(IV_BYTES);
    const c = createCipheriv('aes-256-gcm', this.current, iv, { authTagLength: TAG_BYTES });
    c.setAAD(aadOf(period));
    const ct = Buffer.concat([c.update(seed), c.final(), c.getAuthTag()]);
    return { keyId: this.keyId, iv: iv.toString('base64'), sealed: ct.toString('base64') };
  }

  /**
   * The seed (64 lowercase hex). E_SEED_KEY_UNKNOWN when no key of this process has that id;
   * E_SEED_UNSEAL_FAILED when the blob is malformed, tampered with, or sealed for another period.
   */
  unseal(period: PeriodRef, s: SealedSeed): string {
    const { keyId } = s;
    const key = this.keys.get(keyId);
    const details = { periodId: period.periodId, keyId };
    if (!key) {
      throw new FivedError(ErrorCode.SEED_KEY_UNKNOWN, `the seed of period ${period.periodId} is sealed under key ${JSON.stringify(keyId)}, which is neither FIVED_SEED_KEY nor in FIVED_SEED_KEYS_RETIRED (keys here: ${this.keyIds().join(', ')})`, details);
    }
    const bad = (why: string) => new FivedError(ErrorCode.SEED_UNSEAL_FAILED, `the sealed seed of period ${period.periodId} does not open: ${why}`, details);
    const b = typeof s.sealed === 'string' ? Buffer.from(s.sealed, 'base64') : Buffer.alloc(0);
    const iv = typeof s.iv === 'string' ? Buffer.from(s.iv, 'base64') : Buffer.alloc(0);
    if (b.length !== SEALED_BYTES || iv.length !== IV_BYTES) throw bad('malformed');
    const ct = b.subarray(0, SEED_BYTES);
    const tag = b.subarray(SEED_BYTES);
    try {
      const d = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      d.setAAD(aadOf(period));
      d.setAuthTag(tag);
      return Buffer.concat([d.update(ct), d.final()]).toString('hex');
    } catch {
      throw bad('authentication failed (tampered, or sealed for another period)');
    }
  }
}

/** True for the errors that mean a sealed seed can never be opened here: the period has to be void. */
export function isUnsealError(err: unknown): err is FivedError {
  return err instanceof FivedError && (err.code === ErrorCode.SEED_KEY_UNKNOWN || err.code === ErrorCode.SEED_UNSEAL_FAILED);
}
