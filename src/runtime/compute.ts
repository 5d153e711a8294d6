// One period's pre-calculation and the gateways' end-of-period fallback, shared by the scheduler
// and the gateway. The draw depends only on the committed seed (docs/design.md rule 1); the bets are read
// for settlement and exposure only, where the store says (Store.computeSource; rule 3: with Redis the
// worker opens its own connection, snapshots — which freezes the period — and saves the plan).

import { drawMessage, resultMatches, verifyDraw } from '../core/draw.js';
import { roomName } from '../core/ids.js';
import type { DrawResult, ExposureSummary, Paytable, PeriodWindow } from '../core/types.js';
import { ErrorCode, FivedError } from '../errors.js';
import type { Config } from '../config.js';
import type { Fence, ResultTracking, Store, StoreOptions, StoredResult } from '../store/types.js';
import { storedResultVerifies } from '../store/validate.js';
import type { ComputePool } from '../worker/pool.js';
import type { ComputeResult, ComputeTask } from '../worker/types.js';
import { elapsed } from './clock.js';
import { workerStoreOptions } from './pool.js';
import { isUnsealError } from '../store/seal.js';

export interface ComputeDeps {
  store: Store;
  pool: Pick<ComputePool, 'run'>;
  cfg: Pick<Config, 'paytable'>;
  /** the paytable a period opened with (the settings schedule); cfg.paytable without it */
  paytableFor?: (w: PeriodWindow) => Paytable;
  /** how the worker opens its own store connection (a store whose computeSource() is 'worker') */
  storeOptions: StoreOptions;
}

export interface ComputeOutcome {
  draw: DrawResult;
  exposure: ExposureSummary;
  betCount: number;
  totalStake: number;
  totalPayout: number;
  winnerCount: number;
  /** wall time of the whole step (seed read + freeze + snapshot + compute + plan saved) */
  computeMs: number;
  /** time inside the worker: computing, and (Redis source) reading the snapshot and saving the plan */
  workerMs: number;
  snapshotMs: number;
  saveMs: number;
  seed: string;
  commitment: string;
}

/**
 * The seed (unsealed) and commitment of a period, checked against each other; E_NOT_COMMITTED when
 * absent; E_SEED_KEY_UNKNOWN / E_SEED_UNSEAL_FAILED when this process cannot open the sealed seed.
 */
export async function readCommitted(store: Store, w: PeriodWindow): Promise<{ seed: string; commitment: string }> {
  const [seed, commitment] = await Promise.all([store.getSeed(w), store.getCommitment(w)]);
  if (seed === null || commitment === null) {
    throw new FivedError(ErrorCode.NOT_COMMITTED, `period ${w.periodId} of ${roomName(w.duration)} has no commitment (void)`, { periodId: w.periodId });
  }
  if (!verifyDraw(seed, commitment, drawMessage(w)).commitmentOk) {
    throw new FivedError(ErrorCode.RESULT_MISMATCH, `period ${w.periodId}: stored seed does not match its commitment`, { periodId: w.periodId });
  }
  return { seed, commitment };
}

/**
 * Freeze + snapshot + draw + settlement + exposure in the pool; the settlement plan is saved
 * (with the fence) for application at the end. Returns the draw; storing the result is the
 * caller's step (buildResult + store.storeResult). Where the bets are read is the store's call
 * (Store.computeSource).
 */
export async function computeInPool(
  deps: ComputeDeps,
  w: PeriodWindow,
  opts: { fence?: Fence; signal?: AbortSignal; committed?: { seed: string; commitment: string } } = {},
): Promise<ComputeOutcome> {
  const t0 = elapsed();
  // `committed`: read ahead by the caller (readCommitted) to save a round trip at the freeze
  const { seed, commitment } = opts.committed ?? (await readCommitted(deps.store, w));
  const base = { seed, duration: w.duration, timeline: w.timeline, periodId: w.periodId, paytable: deps.paytableFor ? deps.paytableFor(w) : deps.cfg.paytable };
  const summary = deps.store.computeSource() === 'worker' ? await inWorker(deps, w, base, opts) : await fromCaller(deps, w, base, opts);
  const draw: DrawResult = { digits: summary.digits, sum: summary.sum };
  // the worker and this thread must agree with the published algorithm before anything is stored
  if (!resultMatches(seed, commitment, drawMessage(w), draw.digits)) {
    throw new FivedError(ErrorCode.RESULT_MISMATCH, `period ${w.periodId}: computed digits do not verify against the commitment`, { periodId: w.periodId });
  }
  return {
    draw,
    exposure: summary.exposure,
    betCount: summary.betCount,
    totalStake: summary.totalStake,
    totalPayout: summary.totalPayout,
    winnerCount: summary.winnerCount,
    computeMs: Math.round((elapsed() - t0) * 100) / 100,
    workerMs: summary.computeMs,
    snapshotMs: summary.snapshotMs ?? 0,
    saveMs: summary.saveMs ?? 0,
    seed,
    commitment,
  };
}

type TaskBase = Omit<ComputeTask, 'source'>;
type StepOptions = { fence?: Fence; signal?: AbortSignal };

/** The worker opens its own store connection, snapshots (freezing the period) and saves the plan. */
function inWorker(deps: ComputeDeps, w: PeriodWindow, base: TaskBase, opts: StepOptions): Promise<ComputeResult> {
  const window = { startsAt: w.startsAt, freezeAt: w.freezeAt, endsAt: w.endsAt };
  const source = { type: 'redis' as const, store: workerStoreOptions(deps.storeOptions), window, ...(opts.fence ? { fence: opts.fence } : {}) };
  return deps.pool.run({ ...base, source }, opts.signal ? { signal: opts.signal } : {});
}

/** The bets live in this process: snapshot here, transfer the records, save the plan the worker returns. */
async function fromCaller(deps: ComputeDeps, w: PeriodWindow, base: TaskBase, opts: StepOptions): Promise<ComputeResult> {
  const snap = await deps.store.snapshot(w);
  const out = await deps.pool.run({ ...base, source: { type: 'buffer', records: snap.records, users: snap.users } }, opts.signal ? { signal: opts.signal } : {});
  if (!out.payouts || !out.userPayouts) throw new FivedError(ErrorCode.INTERNAL, 'worker returned no settlement for a buffer source');
  await deps.store.saveSettlement(
    { period: w, betCount: out.betCount, payouts: out.payouts, users: snap.users, userPayouts: out.userPayouts, totalPayout: out.totalPayout },
    opts.fence,
  );
  return out;
}

export function buildResult(w: PeriodWindow, draw: DrawResult, seed: string, commitment: string, tracking: ResultTracking): StoredResult {
  return {
    duration: w.duration,
    timeline: w.timeline,
    periodId: w.periodId,
    digits: [...draw.digits] as StoredResult['digits'],
    sum: draw.sum,
    seed,
    commitment,
    tracking,
  };
}

/** Throws E_RESULT_MISMATCH unless the result is exactly what its seed and commitment give. */
export function assertResultVerifies(r: StoredResult, expectedCommitment?: string | null): StoredResult {
  const ok = storedResultVerifies(r, expectedCommitment);
  if (!ok) throw new FivedError(ErrorCode.RESULT_MISMATCH, `stored result of period ${r.periodId} does not verify against its commitment`, { periodId: r.periodId });
  return r;
}

export type TrackingBase = Pick<ResultTracking, 'instance' | 'host' | 'pid' | 'source'> & Partial<ResultTracking>;

/**
 * The void reason of an error that means the period's seed can never be opened here (its key is
 * not configured, or the sealed seed was tampered with): such a period cannot get a fair result and
 * becomes void at its end (refunds) instead of retrying forever. Null for any other error.
 */
export function unsealVoidReason(err: unknown): string | null {
  return isUnsealError(err) ? `the committed seed cannot be unsealed (${err.code})` : null;
}

/**
 * The gateways' fallback at the end: the stored result if there is one, else the digits from the
 * committed seed (one HMAC), stored with NX. Returns whichever result the store kept (verified),
 * or null when the period has no commitment (void). Only call this at or after the period's end.
 * A seed this process cannot unseal throws (see unsealVoidReason).
 */
export async function deriveResultAtEnd(store: Store, w: PeriodWindow, trackingBase: TrackingBase, now: number = Date.now()): Promise<{ result: StoredResult; stored: boolean } | null> {
  const existing = await store.getResult(w);
  if (existing) return { result: assertResultVerifies(existing), stored: false };
  let committed: { seed: string; commitment: string };
  try {
    committed = await readCommitted(store, w);
  } catch (err) {
    if (err instanceof FivedError && err.code === ErrorCode.NOT_COMMITTED) return null;
    throw err;
  }
  const t0 = elapsed();
  const v = verifyDraw(committed.seed, committed.commitment, drawMessage(w));
  const tracking: ResultTracking = {
    computedAt: now,
    computeMs: Math.round((elapsed() - t0) * 1000) / 1000,
    patternCount: 0,
    totalStake: 0,
    totalExposure: 0,
    maxLiability: 0,
    ...trackingBase,
  };
  const kept = await store.storeResult(buildResult(w, { digits: v.digits, sum: v.sum }, committed.seed, committed.commitment, tracking));
  return { result: assertResultVerifies(kept.result, committed.commitment), stored: kept.stored };
}
