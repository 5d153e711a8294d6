// SHA-256 and HMAC-SHA256 for the fair draw: @noble/hashes (audited, synchronous, no platform
// crypto), the one implementation the scheduler, worker, gateway, CLI, client SDK and page all
// use. It runs the same in Node and in every browser context, including plain-HTTP pages where
// WebCrypto (crypto.subtle) is missing. docs/fairness.md describes the algorithm.

import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

/** SHA-256 of `data`: 32 bytes. */
export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

/** HMAC-SHA256(key, data): 32 bytes. */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return hmac(nobleSha256, key, data);
}
