// What the compute pool takes and returns. Shared by the task module (worker thread side) and
// ComputePool (main thread side).
import type { ErrorCode } from '../errors.js';
import type { ExposureSummary, Digits, Paytable, PeriodWindow } from '../core/types.js';
import type { Fence, StoreOptions } from '../store/types.js';

/** Given to every worker thread when the pool starts it. */
export interface WorkerData {
  /** nice increment of the thread (Linux): under CPU contention the event loops win over compute */
  nice: number;
}

/** Bets handed over as a compact buffer; its ArrayBuffer is transferred (detached in the caller). */
export interface BufferSource {
  type: 'buffer';
  records: Uint8Array;
  users: string[];
}

/**
 * Bets read by the worker itself on its own store connection (so the main thread never parses
 * a multi-megabyte reply); the worker then saves the settlement plan and returns the summary.
 */
export interface RedisSource {
  type: 'redis';
  store: StoreOptions;
  fence?: Fence;
  /** the period's times, needed for the settlement plan (the worker has no clock spec) */
  window: Pick<PeriodWindow, 'startsAt' | 'freezeAt' | 'endsAt'>;
}

export interface ComputeTask {
  seed: string; // 64 hex, the committed seed
  duration: number;
  timeline: string;
  periodId: string;
  paytable: Paytable;
  source: BufferSource | RedisSource;
}

export interface ComputeResult {
  digits: Digits;
  sum: number;
  exposure: ExposureSummary;
  betCount: number;
  winnerCount: number;
  totalStake: number;
  totalPayout: number;
  /** time spent computing (draw + settlement + exposure) in the worker */
  computeMs: number;
  /** buffer source only: payout per bet by seq, and per user index (transferred back) */
  payouts?: Float64Array;
  userPayouts?: Float64Array;
  /** redis source only: time to read the snapshot and to save the plan */
  snapshotMs?: number;
  saveMs?: number;
}

/** Errors cross the thread boundary as data: structured clone drops an Error's `code`. */
export interface TaskError {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

export type TaskReply = ComputeResult | TaskError;
