// At a room's freeze: the period's bets snapshotted and pre-computed in the worker pool (the draw
// from the committed seed only, docs/design.md rule 1), the result stored once (SET … NX) and
// announced on the bus; the settlement plan waits for the end (scheduler/complete.ts).

import type { PeriodWindow } from '../core/types.js';
import { ErrorCode, isFivedError, toFivedError } from '../errors.js';
import { CHANNELS, type CompletedMessage } from '../runtime/bus.js';
import { assertResultVerifies, buildResult, computeInPool, type ComputeOutcome } from '../runtime/compute.js';
import { logTag, TAGS } from '../runtime/log.js';
import type { Room } from '../runtime/rooms.js';
import type { Fence, ResultTracking, StoredResult } from '../store/types.js';
import { STALE_EPOCH_WHY, type SchedulerContext } from './context.js';

/** The seed and commitment read shortly before the freeze (null: read them at the freeze). */
export type Prefetched = Promise<{ seed: string; commitment: string } | null> | null;

/** Where a stored result went, for the log line. */

type Fields = { room: string; periodId: string; epoch: number };

function trackingOf(ctx: SchedulerContext, out: ComputeOutcome, fence: Fence): ResultTracking {
  return {
    instance: ctx.cfg.instance,
    host: ctx.cfg.host,
    pid: process.pid,
    computedAt: ctx.clock.now(),
    computeMs: out.computeMs,
    patternCount: out.exposure.patternCount,
    totalStake: out.totalStake,
    totalExposure: out.exposure.totalExposure,
    maxLiability: out.exposure.maxLiability,
    source: 'scheduler' as const,
    epoch: fence.epoch,
    betCount: out.betCount,
  };
}

/** Pre-calculates one period; `done` is called with the period once its result is stored (or kept). */
export async function precalc(ctx: SchedulerContext, room: Room, w: PeriodWindow, prefetched: Prefetched, done: (w: PeriodWindow) => void): Promise<void> {
  const fence = ctx.keeper.fence();
  if (!fence || ctx.stopping()) return;
  const f: Fields = { room: room.name, periodId: w.periodId, epoch: fence.epoch };
  logTag(ctx.log, 'info', TAGS.PRECALC_EXEC, f, `Starting pre-calculation for period ${w.periodId}`);
  const end = ctx.m.computeSeconds.startTimer({ room: room.name });
  let counted = false;
  try {
    const committed = (await prefetched) ?? undefined;
    const out = await computeInPool(ctx.computeDeps, w, { fence, signal: ctx.signal(), ...(committed ? { committed } : {}) });
    logTag(ctx.log, 'info', TAGS.PRECALC_EXEC, { ...f, betCount: out.betCount, patternCount: out.exposure.patternCount }, `Retrieved bet patterns for period ${w.periodId}`);
    const tracking = trackingOf(ctx, out, fence);
    const kept = await ctx.store.storeResult(buildResult(w, out.draw, out.seed, out.commitment, tracking), fence);
    assertResultVerifies(kept.result, out.commitment);
    done(w);
    end();
    // counted once the result is kept, before the announcement: a publish that fails (or is slow)
    // must neither count a stored result as an error too nor leave it uncounted meanwhile
    ctx.m.precalc.inc({ room: room.name, outcome: kept.stored ? 'stored' : 'exists' });
    counted = true;
    await announce(ctx, room, w, kept, f);
    logCompleted(ctx, f, out, tracking);
  } catch (err) {
    if (counted) {
      // the announcement failed: the gateways read the stored result at the end all the same
      logTag(ctx.log, 'warn', TAGS.PRECALC_EXEC, { ...f, err: toFivedError(err) }, `Result of period ${w.periodId} stored; its announcement failed`);
      return;
    }
    end();
    await failed(ctx, room, w, f, err);
  }
}

/** The kept result's tracking on the bus: the gateways read the result and hold it until the end. */
async function announce(ctx: SchedulerContext, room: Room, w: PeriodWindow, kept: { result: StoredResult; stored: boolean }, f: Fields): Promise<void> {
  if (kept.stored) logTag(ctx.log, 'info', TAGS.PRECALC_EXEC, f, `Result stored in ${ctx.store.label} for period ${w.periodId}`);
  else logTag(ctx.log, 'info', TAGS.PRECALC_EXEC, { ...f, by: kept.result.tracking.instance }, `Result already stored by another instance for period ${w.periodId}`);
  const notice: CompletedMessage = { room: room.name, duration: w.duration, timeline: w.timeline, periodId: w.periodId, endsAt: w.endsAt, tracking: kept.result.tracking };
  await ctx.store.publish(CHANNELS.completed, notice);
}

function logCompleted(ctx: SchedulerContext, f: Fields, out: ComputeOutcome, tracking: ResultTracking): void {
  const { cfg, log } = ctx;
  logTag(log, 'info', TAGS.PRECALC_EXEC, { ...f, computeMs: out.computeMs, workerMs: out.workerMs, snapshotMs: out.snapshotMs, saveMs: out.saveMs }, `Pre-calculation completed for period ${f.periodId} in ${Math.round(out.computeMs)}ms`);
  logTag(
    log,
    'info',
    TAGS.PRECALC_EXEC,
    { ...f, scheduler: `${cfg.instance}@${cfg.host}`, patternCount: tracking.patternCount, totalExposure: tracking.totalExposure, maxLiability: tracking.maxLiability, betCount: out.betCount },
    `Scheduler: ${cfg.instance}@${cfg.host}, Bet patterns: ${tracking.patternCount}, Total exposure: ${tracking.totalExposure}`,
  );
}

/** A pre-calculation that did not store a result: void without a commitment, step down when
 *  fenced off, otherwise the end (or the gateways' fallback) finishes the period. */
async function failed(ctx: SchedulerContext, room: Room, w: PeriodWindow, f: Fields, err: unknown): Promise<void> {
  const { log, m } = ctx;
  if (isFivedError(err, ErrorCode.NOT_COMMITTED)) {
    m.precalc.inc({ room: room.name, outcome: 'void' });
    logTag(log, 'warn', TAGS.VOID, f, `Period ${w.periodId} reached its freeze without a commitment: void`);
    await ctx.store.voidPeriod(w, 'no commitment before the freeze');
  } else if (isFivedError(err, ErrorCode.STALE_EPOCH)) {
    m.precalc.inc({ room: room.name, outcome: 'stale' });
    ctx.keeper.lose(STALE_EPOCH_WHY);
  } else if (isFivedError(err, ErrorCode.RESULT_MISMATCH)) {
    m.precalc.inc({ room: room.name, outcome: 'error' });
    logTag(log, 'error', TAGS.RESULT_MISMATCH, { ...f, err: toFivedError(err) }, `The stored result of period ${w.periodId} does not verify against its commitment; it is voided at the end`);
  } else if (ctx.signal().aborted) {
    m.precalc.inc({ room: room.name, outcome: 'stale' });
    logTag(log, 'warn', TAGS.PRECALC_EXEC, f, `Pre-calculation of period ${w.periodId} abandoned: lease lost`);
  } else {
    m.precalc.inc({ room: room.name, outcome: 'error' });
    logTag(log, 'error', TAGS.PRECALC_EXEC, { ...f, err: toFivedError(err) }, `Pre-calculation failed for period ${w.periodId}; the gateways will fall back at the end`);
  }
}
