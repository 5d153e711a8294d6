// The reconciler: finishes every period that owes its bettors something, from the store's own
// record (the `unfinished` set: a period that accepted a bet stays there until its settlement is
// applied or, void, its refunds are done). The normal path settles at the end from memory (the
// scheduler's end timer, a gateway's fallback); this one does not depend on any process having
// lived through the period, so a crash, a Redis restart or a failed call at the end only delays
// a settlement, never loses it (docs/design.md rule 5). Run it after the end plus a grace, repeatedly:
// each step is idempotent and exactly-once in the store, so racing reconcilers change nothing twice.

import type { PeriodWindow } from '../core/types.js';
import { roomName } from '../config.js';
import { ErrorCode, FivedError, isFivedError } from '../errors.js';
import type { Fence, Store } from '../store/types.js';
import { CHANNELS } from './bus.js';
import { computeInPool, deriveResultAtEnd, unsealVoidReason, type ComputeDeps, type TrackingBase } from './compute.js';
import { applyAtEnd } from './settle.js';

/** How long a claim to compute a fallback settlement keeps others off (a dead claimant's lapses). */
export const CLAIM_TTL_MS = 15_000;
/** Periods finished per pass (the rest wait for the next pass). */
const BATCH = 50;

/** `rejected`: the stored result did not verify against the commitment; the period was voided with refunds. */
export type Finished = 'applied' | 'already' | 'computed' | 'refunded' | 'void' | 'busy' | 'rejected';

/** Why a period was voided for its stored result (the reason every client sees). */
export const MISMATCH_REASON = 'the stored result does not verify against the commitment';

export interface ReconcileOptions {
  /** the caller's clock now (ms) */
  now: number;
  /** finish periods that ended at or before this (now minus a grace) */
  endedBy: number;
  /** who stores a result it has to derive (tracking) and holds the claim */
  who: TrackingBase;
  fence?: Fence;
  signal?: AbortSignal;
}

export interface Reconciled {
  w: PeriodWindow;
  how: Finished;
  credited: number;
}

/** One pass over the unfinished periods that ended by `endedBy`. Errors of one period do not stop the rest. */
export async function reconcile(deps: ComputeDeps, o: ReconcileOptions, onError: (w: PeriodWindow, err: unknown) => void): Promise<Reconciled[]> {
  const due = await deps.store.unfinishedPeriods(Math.min(o.endedBy, o.now), BATCH);
  const out: Reconciled[] = [];
  for (const w of due) {
    if (o.signal?.aborted) break;
    try {
      out.push({ w, ...(await finish(deps, w, o)) });
    } catch (err) {
      if (isFivedError(err, ErrorCode.STALE_EPOCH)) throw err; // the caller lost its lease: stop
      onError(w, err);
    }
  }
  return out;
}

/** Brings one ended period to its end state: void → refunds done; else result stored, plan saved, plan applied. */
export async function finish(deps: ComputeDeps, w: PeriodWindow, o: Omit<ReconcileOptions, 'endedBy'>): Promise<{ how: Finished; credited: number }> {
  const { store } = deps;
  const rec = await store.getPeriod(w);
  if (rec.status === 'void') {
    await store.voidPeriod(w, rec.voidReason || 'void'); // resumes the refunds where they stopped
    return { how: 'refunded', credited: 0 };
  }
  try {
    // the result, from the committed seed if nobody stored it yet (after the end: docs/design.md rule 4)
    let kept: Awaited<ReturnType<typeof deriveResultAtEnd>>;
    try {
      kept = await deriveResultAtEnd(store, w, o.who, o.now);
    } catch (err) {
      // a seed nobody here can unseal never yields a fair result: void (refunds), do not retry forever
      const reason = unsealVoidReason(err);
      if (reason === null) throw err;
      console.error(JSON.stringify({ level: 'error', msg: 'sealed seed cannot be opened: voiding the period', code: (err as { code?: string }).code, periodId: w.periodId, duration: w.duration, err: String(err) }));
      await store.voidPeriod(w, reason);
      return { how: 'void', credited: 0 };
    }
    if (!kept) {
      await store.voidPeriod(w, 'no commitment before the period opened');
      return { how: 'void', credited: 0 };
    }
    const apply = async (how: Finished) => {
      const r = await applyAtEnd(store, w, o.now, o.fence, o.who.instance);
      return { how: r.applied ? how : 'already', credited: r.credited } as const;
    };
    try {
      return await apply('applied');
    } catch (err) {
      if (!isFivedError(err, ErrorCode.NOT_SETTLED)) throw err;
    }
    // no plan saved: compute it (one claimant at a time; a retry by the same claimant is allowed)
    if (!(await store.claimSettlement(w, o.who.instance, CLAIM_TTL_MS))) return { how: 'busy', credited: 0 };
    await computeInPool(deps, w, { ...(o.fence ? { fence: o.fence } : {}), ...(o.signal ? { signal: o.signal } : {}) });
    return await apply('computed');
  } catch (err) {
    if (!isFivedError(err, ErrorCode.RESULT_MISMATCH)) throw err;
    // a stored result that does not verify is never served nor paid, and never leaves the period
    // stuck: void it with refunds (the store re-verifies; a settled period is refused and the
    // error goes to the caller, who logs 5D_RESULT_MISMATCH and alerts)
    await rejectResult(store, w);
    return { how: 'rejected', credited: 0 };
  }
}

/**
 * Voids a period whose stored result does not verify (store.voidUnverifiedResult: refunds
 * included) and tells every gateway (`5d_precalc:void`, so clients get `void`). Throws
 * E_RESULT_MISMATCH (details.settled) when a settlement was already applied: nothing can be
 * voided then, an operator must act.
 */
export async function rejectResult(store: Store, w: PeriodWindow): Promise<{ refunded: number }> {
  let refunded: number;
  try {
    refunded = (await store.voidUnverifiedResult(w, MISMATCH_REASON)).refunded;
  } catch (err) {
    if (isFivedError(err, ErrorCode.ALREADY_SETTLED)) {
      throw new FivedError(ErrorCode.RESULT_MISMATCH, `period ${w.periodId}: the stored result does not verify and its settlement was already applied: it cannot be voided; operator action needed`, { periodId: w.periodId, settled: true });
    }
    throw err;
  }
  await store.publish(CHANNELS.void, { room: roomName(w.duration), duration: w.duration, timeline: w.timeline, periodId: w.periodId, reason: MISMATCH_REASON, refunded });
  return { refunded };
}
