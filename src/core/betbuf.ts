// The compact bet buffer: fixed 16-byte little-endian records (layout in types.ts), the form in
// which a period's bets travel from the store to the worker (transferred, never JSON per bet).
// Writing goes through DataView (explicit little-endian); the hot loops of settlement and
// exposure read through typed-array views (recordViews), which need a little-endian host.

import { ErrorCode, FivedError } from '../errors.js';
import { patternIndex, patternOf, validateAmount, validateBet } from './rules.js';
import { BET_RECORD_BYTES, PATTERN_COUNT, type Bet, type BetSnapshot } from './types.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const MAX_U32 = 0xffff_ffff;

export interface BetRecordValue {
  userIdx: number;
  pattern: number;
  amount: number;
}

/** Number of records in a buffer; E_INVALID_BETS unless its length is a multiple of 16. */
export function recordCount(records: Uint8Array): number {
  if (!(records instanceof Uint8Array) || records.byteLength % BET_RECORD_BYTES !== 0) {
    throw new FivedError(ErrorCode.INVALID_BETS, `a bet buffer must be a Uint8Array whose length is a multiple of ${BET_RECORD_BYTES}`);
  }
  return records.byteLength / BET_RECORD_BYTES;
}

/** Reads record `i` (no validation of the values; see validateRecords). */
export function readRecord(records: Uint8Array, i: number): BetRecordValue {
  const n = recordCount(records);
  if (!Number.isInteger(i) || i < 0 || i >= n) throw new FivedError(ErrorCode.INVALID_BETS, `record ${i} out of range 0..${n - 1}`);
  const view = new DataView(records.buffer, records.byteOffset + i * BET_RECORD_BYTES, BET_RECORD_BYTES);
  return { userIdx: view.getUint32(0, true), pattern: view.getUint8(4), amount: view.getFloat64(8, true) };
}

/** Writes one record at index `i` of a buffer with room for it (values validated). */
export function writeRecord(records: Uint8Array, i: number, userIdx: number, pattern: number, amount: number): void {
  if (!Number.isInteger(userIdx) || userIdx < 0 || userIdx > MAX_U32) throw new FivedError(ErrorCode.INVALID_BETS, `user index ${userIdx} out of range`);
  if (!Number.isInteger(pattern) || pattern < 0 || pattern >= PATTERN_COUNT) {
    throw new FivedError(ErrorCode.INVALID_PICK, `pattern index ${pattern} out of range 0..${PATTERN_COUNT - 1}`);
  }
  validateAmount(amount);
  const view = new DataView(records.buffer, records.byteOffset + i * BET_RECORD_BYTES, BET_RECORD_BYTES);
  view.setUint32(0, userIdx, true);
  view.setUint8(4, pattern);
  view.setUint8(5, 0);
  view.setUint16(6, 0, true);
  view.setFloat64(8, amount, true);
}

/** Typed-array views for hot loops: record i has u32[i*4] user, u8[i*16+4] pattern, f64[i*2+1] amount. */
export interface RecordViews {
  count: number;
  u32: Uint32Array;
  u8: Uint8Array;
  f64: Float64Array;
}

export function recordViews(records: Uint8Array): RecordViews {
  const count = recordCount(records);
  if (!LITTLE_ENDIAN) throw new FivedError(ErrorCode.INTERNAL, 'the compact bet buffer needs a little-endian host');
  // Float64Array views need an 8-byte aligned offset; copy the rare unaligned buffer.
  const aligned = records.byteOffset % 8 === 0 ? records : records.slice();
  return {
    count,
    u32: new Uint32Array(aligned.buffer, aligned.byteOffset, count * 4),
    u8: new Uint8Array(aligned.buffer, aligned.byteOffset, count * BET_RECORD_BYTES),
    f64: new Float64Array(aligned.buffer, aligned.byteOffset, count * 2),
  };
}

/**
 * Checks every record before anything is computed from the buffer (nothing half-applied):
 * pattern 0..73, amount a positive integer within MAX_AMOUNT, user index within `userCount`.
 */
export function validateRecords(v: RecordViews, userCount: number, maxAmount: number): void {
  const { count, u32, u8, f64 } = v;
  for (let i = 0; i < count; i++) {
    const p = u8[i * BET_RECORD_BYTES + 4]!;
    const a = f64[i * 2 + 1]!;
    const u = u32[i * 4]!;
    if (p >= PATTERN_COUNT || u >= userCount || !(a >= 1 && a <= maxAmount && Math.floor(a) === a)) {
      throw new FivedError(ErrorCode.INVALID_BETS, `bet record ${i} is invalid (user ${u} of ${userCount}, pattern ${p}, amount ${a})`);
    }
  }
}

/** Appends records to a growing buffer, interning user ids (first seen = index 0). */
export class BetBufferWriter {
  private buf: Uint8Array;
  private n = 0;
  private readonly userIndex = new Map<string, number>();
  private readonly users: string[] = [];

  constructor(initialCapacity = 1024) {
    this.buf = new Uint8Array(Math.max(1, initialCapacity) * BET_RECORD_BYTES);
  }

  get count(): number {
    return this.n;
  }

  /** The index of a user id, added on first sight. */
  userIdx(userId: string): number {
    let idx = this.userIndex.get(userId);
    if (idx === undefined) {
      if (typeof userId !== 'string' || userId.length === 0) throw new FivedError(ErrorCode.INVALID_ID, 'userId must be a non-empty string');
      idx = this.users.length;
      this.users.push(userId);
      this.userIndex.set(userId, idx);
    }
    return idx;
  }

  /** Appends a record by user index (the caller keeps its own user list consistent). */
  push(userIdx: number, pattern: number, amount: number): number {
    if (this.n * BET_RECORD_BYTES === this.buf.byteLength) {
      const next = new Uint8Array(this.buf.byteLength * 2);
      next.set(this.buf);
      this.buf = next;
    }
    writeRecord(this.buf, this.n, userIdx, pattern, amount);
    return this.n++;
  }

  /** Appends a validated bet, interning its user id; returns its seq. */
  pushBet(bet: Bet): number {
    const pattern = validateBet(bet);
    return this.push(this.userIdx(bet.userId), pattern, bet.amount);
  }

  /** The records so far (a trimmed copy with its own ArrayBuffer, safe to transfer) and users. */
  finish(): BetSnapshot {
    return { records: this.buf.slice(0, this.n * BET_RECORD_BYTES), users: this.users.slice() };
  }
}

/** Encodes a list of bets (validated all first: a bad bet throws before anything is written). */
export function encodeBets(bets: readonly Bet[]): BetSnapshot {
  for (const b of bets) validateBet(b);
  const w = new BetBufferWriter(bets.length);
  for (const b of bets) w.push(w.userIdx(b.userId), patternIndex(b.kind, b.pick), b.amount);
  return w.finish();
}

/** Decodes a snapshot back to bets (tests, tools; the hot paths read records in place). */
export function decodeBets(snapshot: BetSnapshot): Bet[] {
  const n = recordCount(snapshot.records);
  const out: Bet[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const r = readRecord(snapshot.records, i);
    const userId = snapshot.users[r.userIdx];
    if (userId === undefined) throw new FivedError(ErrorCode.INVALID_BETS, `record ${i}: user index ${r.userIdx} has no user id`);
    const { kind, pick } = patternOf(r.pattern);
    out[i] = { userId, kind, pick, amount: r.amount };
  }
  return out;
}
