// The fair draw: message format, seed validation, and the one place where digits are read from the
// HMAC byte stream, hashed with @noble/hashes (hash.ts) everywhere. No node: imports here, so
// browsers (the client SDK, the page) import this file directly; src/core/draw.ts adds the
// Node-only constant-time commitment check.
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
import { hmacSha256, sha256 } from './hash.js';
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

/** Feeds one HMAC block into the digit accumulator; returns true once five digits are accepted. */
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

/** SHA-256 of the 32 seed bytes, lowercase hex: the commitment published before betting opens. */
export function commitmentOf(seedHex: string): string {
  return bytesToHex(sha256(hexToBytes(normalizeHex64(seedHex))));
}

/** The five digits (and sum) drawn from a seed for a draw message. */
export function drawDigits(seedHex: string, message: string): DrawResult {
  const key = hexToBytes(normalizeHex64(seedHex));
  validateDrawMessage(message);
  const enc = new TextEncoder();
  return digitsFromStream((round) => hmacSha256(key, enc.encode(roundData(message, round))));
}

export interface DrawVerification extends DrawResult {
  /** SHA-256(seed) equals the published commitment */
  commitmentOk: boolean;
}

// The async forms below are what the client SDK and the page called when browsers hashed with
// WebCrypto; hashing is synchronous now (@noble/hashes), and they stay for those callers.

/** drawDigits, as a promise. */
export async function drawDigitsAsync(seedHex: string, message: string): Promise<DrawResult> {
  return drawDigits(seedHex, message);
}

/** commitmentOf, as a promise. */
export async function commitmentOfAsync(seedHex: string): Promise<string> {
  return commitmentOf(seedHex);
}

/** Digits from the seed, and whether SHA-256(seed) matches the commitment (any context). */
export async function verifyDrawAsync(seedHex: string, commitmentHex: string, message: string): Promise<DrawVerification> {
  const commitment = normalizeHex64(commitmentHex, 'commitment');
  const draw = drawDigits(seedHex, message);
  return { ...draw, commitmentOk: commitmentOf(seedHex) === commitment };
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
