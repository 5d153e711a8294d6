// The seed key's form (FIVED_SEED_KEY, docs/operations.md "The seed key"): 32 bytes given as 64
// hex characters or base64, and its public id. Read by the config (to check and describe the key)
// and by the store's sealing (store/seal.ts), so both agree on what a key is.

import { createHash } from 'node:crypto';

export const SEED_KEY_BYTES = 32;

/** A 32-byte key from 64 hex characters or from base64 (standard or url-safe); null otherwise. */
export function parseSeedKey(text: string): Buffer | null {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(t)) {
    const b = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (b.length === SEED_KEY_BYTES) return b;
  }
  return null;
}

/** The key's public id: 16 hex characters of a domain-separated SHA-256 (reveals nothing of the key). */
export function seedKeyId(key: Buffer): string {
  return createHash('sha256').update('fived seed key id\0').update(key).digest('hex').slice(0, 16);
}
