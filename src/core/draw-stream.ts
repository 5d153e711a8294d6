// The fair draw, platform-neutral half: message format, seed validation, and the one place where
// digits are read from the HMAC byte stream, plus the async backends (WebCrypto, or the pure
// sha256.ts where a browser has no crypto.subtle). No node: imports here, so browsers (the client
// SDK) can import this file directly; src/core/draw.ts adds the synchronous node:crypto backend.
//
// Algorithm (docs/fairness.md is the public description; keep the two identical):
//   seed        32 random bytes chosen by the caller, shown as 64 lowercase hex chars
//   commitment  SHA-256(seed bytes), lowercase hex, published before betting opens
//   message     `fiveD:{duration}:{timeline}:{periodId}`
//   stream      HMAC-SHA256(key = seed bytes, data = message + ':' + round), round = 0, 1, 2, …
//   digits      read the stream byte by byte, skip bytes >= 250, digit = byte % 10;
//               the first five accepted are A, B, C, D, E
// Skipping 250..255 removes the modulo bias: 0..249 maps exactly 25 bytes to each digit.

import { ErrorCode, FivedError } from '../errors.js';
import { parsePeriodId, validateDuration, validateTimeline } from './clock.js';
import { hmacSha256, sha256 } from './sha256.js';
import type { Digits, DrawResult, PeriodRef } from './types.js';

export const SEED_BYTES = 32;
/** Bytes >= this are skipped (250 = 25 × 10). */
export const ACCEPT_BELOW = 250;
/** A round rejects all 32 bytes with probability (6/256)^32; 64 rounds never run out in practice. */
const MAX_ROUNDS = 64;

const HEX64 = /^[0-9a-fA-F]{64}$/;

/** Validates a 64-hex-char value (seed or commitment) and returns it in lowercase. */
export function normalizeHex64(value: unknown, what: 'seed' | 'commitment' = 'seed'): string {
  if (typeof value !== 'string' || !HEX64.test(value)) {
    throw new FivedError(ErrorCode.INVALID_SEED, `${what} must be 64 hexadecimal characters (32 bytes)`);
  }
  return value.toLowerCase();
}

export function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function bytesToHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += bytes[i]!.toString(16).padStart(2, '0');
  return s;
}

/** The draw message of a period: `fiveD:{duration}:{timeline}:{periodId}`. */
export function drawMessage(ref: PeriodRef): string {
  validateDuration(ref.duration);
  validateTimeline(ref.timeline);
  parsePeriodId(ref.periodId, ref.duration);
  return `fiveD:${ref.duration}:${ref.timeline}:${ref.periodId}`;
}

/** A draw message is a non-empty string of at most 256 characters (E_BAD_REQUEST otherwise). */
export function validateDrawMessage(message: unknown): string {
  if (typeof message !== 'string' || message.length === 0 || message.length > 256) {
    throw new FivedError(ErrorCode.BAD_REQUEST, 'draw message must be a non-empty string of at most 256 characters');
  }
  return message;
}

/** The HMAC data of one round: message + ':' + round. */
export function roundData(message: string, round: number): string {
  return `${message}:${round}`;
}

/**
 * Feeds one HMAC block into the digit accumulator; returns true once five digits are accepted.
 * Every backend (sync node:crypto, async WebCrypto or pure TypeScript) calls this, so the rule lives in one place.
 */
export function acceptDigits(block: Uint8Array, acc: number[]): boolean {
  for (let i = 0; i < block.length && acc.length < 5; i++) {
    const b = block[i]!;
    if (b < ACCEPT_BELOW) acc.push(b % 10);
  }
  return acc.length === 5;
}

function toResult(acc: number[]): DrawResult {
  const digits = acc as Digits;
  return { digits, sum: digits[0] + digits[1] + digits[2] + digits[3] + digits[4] };
}

function exhausted(): never {
  throw new FivedError(ErrorCode.INTERNAL, `draw stream produced fewer than 5 digits in ${MAX_ROUNDS} rounds`);
}

/** Digits from a synchronous block source: `nextBlock(round)` = HMAC(seed, message + ':' + round). */
export function digitsFromStream(nextBlock: (round: number) => Uint8Array): DrawResult {
  const acc: number[] = [];
  for (let round = 0; round < MAX_ROUNDS; round++) {
    if (acceptDigits(nextBlock(round), acc)) return toResult(acc);
  }
  return exhausted();
}

/** Digits from an asynchronous block source (WebCrypto or the pure fallback). */
export async function digitsFromStreamAsync(nextBlock: (round: number) => Promise<Uint8Array>): Promise<DrawResult> {
  const acc: number[] = [];
  for (let round = 0; round < MAX_ROUNDS; round++) {
    if (acceptDigits(await nextBlock(round), acc)) return toResult(acc);
  }
  return exhausted();
}

/**
 * The two primitives the async draw needs. WebCrypto where the page has it; the pure-TypeScript
 * fallback (sha256.ts) where it does not: browsers expose crypto.subtle only in secure contexts,
 * so a phone opening the demo over http://<lan-ip> has none.
 */
export interface HashBackend {
  sha256(data: Uint8Array): Promise<Uint8Array>;
  /** An HMAC-SHA256 signer for one key (WebCrypto imports the key once per draw, not per round). */
  hmacSha256(key: Uint8Array): Promise<(data: Uint8Array) => Promise<Uint8Array>>;
}

/** What the async functions accept: a backend, or a SubtleCrypto to wrap (older callers). */
export type HashBackendOption = HashBackend | SubtleCrypto;

// Uint8Array<ArrayBuffer> as BufferSource: WebCrypto's typings want a plain ArrayBuffer backing.
function bufferSource(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** HashBackend over WebCrypto. */
export function subtleHashBackend(subtle: SubtleCrypto): HashBackend {
  return {
    sha256: async (data) => new Uint8Array(await subtle.digest('SHA-256', bufferSource(data))),
    hmacSha256: async (keyBytes) => {
      const key = await subtle.importKey('raw', bufferSource(keyBytes), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      return async (data) => new Uint8Array(await subtle.sign('HMAC', key, bufferSource(data)));
    },
  };
}

/** HashBackend in plain TypeScript: works everywhere, including insecure browser contexts. */
export const pureHashBackend: HashBackend = Object.freeze({
  sha256: async (data: Uint8Array) => sha256(data),
  hmacSha256: async (key: Uint8Array) => {
    const k = key.slice(); // the caller's buffer may change later
    return async (data: Uint8Array) => hmacSha256(k, data);
  },
});

/** WebCrypto when this context has it, the pure fallback otherwise. */
export function defaultHashBackend(): HashBackend {
  const subtle = (globalThis as { crypto?: Crypto }).crypto?.subtle;
  return subtle ? subtleHashBackend(subtle) : pureHashBackend;
}

function resolveBackend(option: HashBackendOption | undefined): HashBackend {
  if (option === undefined) return defaultHashBackend();
  return 'hmacSha256' in option ? option : subtleHashBackend(option);
}

/** The draw with WebCrypto or the pure fallback (browsers, Node 20+): same digits as drawDigits. */
export async function drawDigitsAsync(seedHex: string, message: string, backend?: HashBackendOption): Promise<DrawResult> {
  const seed = hexToBytes(normalizeHex64(seedHex));
  validateDrawMessage(message);
  const sign = await resolveBackend(backend).hmacSha256(seed);
  const enc = new TextEncoder();
  return digitsFromStreamAsync((round) => sign(enc.encode(roundData(message, round))));
}

/** SHA-256 of the seed bytes, lowercase hex (WebCrypto or the pure fallback). */
export async function commitmentOfAsync(seedHex: string, backend?: HashBackendOption): Promise<string> {
  const seed = hexToBytes(normalizeHex64(seedHex));
  return bytesToHex(await resolveBackend(backend).sha256(seed));
}

export interface DrawVerification extends DrawResult {
  /** SHA-256(seed) equals the published commitment */
  commitmentOk: boolean;
}

/** Async verification (browsers, any context): digits from the seed, and whether the seed matches the commitment. */
export async function verifyDrawAsync(seedHex: string, commitmentHex: string, message: string, backend?: HashBackendOption): Promise<DrawVerification> {
  const commitment = normalizeHex64(commitmentHex, 'commitment');
  const b = resolveBackend(backend);
  const draw = await drawDigitsAsync(seedHex, message, b);
  return { ...draw, commitmentOk: (await commitmentOfAsync(seedHex, b)) === commitment };
}

/** Validates a DrawResult handed across a boundary (5 digits 0..9, sum consistent). */
export function validateDrawResult(d: DrawResult): DrawResult {
  const ok =
    typeof d === 'object' && d !== null && Array.isArray(d.digits) && d.digits.length === 5 &&
    d.digits.every((x) => Number.isInteger(x) && x >= 0 && x <= 9) &&
    d.sum === d.digits.reduce((a, b) => a + b, 0);
  if (!ok) throw new FivedError(ErrorCode.INVALID_RESULT, 'a result must be five digits 0-9 and their sum');
  return d;
}
