// At (or after) a period's end: the result revealed to history and the saved settlement applied,
// exactly once (docs/design.md, "The data path of one period"); with no saved plan (the
// pre-calculation failed or never ran) it is computed then.

import { roomName } from '../core/ids.js';
import type { PeriodWindow } from '../core/types.js';
import { ErrorCode, isFivedError, toFivedError } from '../errors.js';
import { logTag, TAGS } from '../runtime/log.js';
import { finish, type Finished } from '../runtime/reconcile.js';
import { STALE_EPOCH_WHY, whoOf, type SchedulerContext } from './context.js';

type Fields = { room: string; periodId: string; epoch: number };

/** Finishes period `w`; `precalculatedHere`: this process stored its result at the freeze. */
export async function complete(ctx: SchedulerContext, w: PeriodWindow, precalculatedHere: () => boolean): Promise<void> {
  const fence = ctx.keeper.fence();
  if (!fence) return;
  const f: Fields = { room: roomName(w.duration), periodId: w.periodId, epoch: fence.epoch };
  try {
    // the saved plan applied; with none (the pre-calculation failed or never ran), computed now
    const out: { how: Finished; credited: number } = await finish(ctx.computeDeps, w, { now: ctx.clock.now(), who: whoOf(ctx.cfg, fence.epoch), fence, signal: ctx.signal() });
    logFinished(ctx, w, f, out, precalculatedHere());
  } catch (err) {
    failed(ctx, w, f, err);
  }
}

function logFinished(ctx: SchedulerContext, w: PeriodWindow, f: Fields, out: { how: Finished; credited: number }, precalculatedHere: boolean): void {
  const { log, m } = ctx;
  const room = f.room;
  if (out.how === 'computed') logTag(log, 'warn', TAGS.FALLBACK, f, `No settlement plan at the end of period ${w.periodId}: computed it then`);
  if (out.how === 'applied' || out.how === 'computed') {
    m.settled.inc({ room });
    logTag(log, 'info', TAGS.PERIOD_END, { ...f, credited: out.credited }, `${room}: settlement applied for period ${w.periodId}, credited ${out.credited}`);
  } else if (out.how === 'rejected') {
    m.resultMismatch.inc({ room });
    logTag(log, 'error', TAGS.RESULT_MISMATCH, f, `${room}: the stored result of period ${w.periodId} does not verify against its commitment: period voided, bets refunded`);
  } else if (out.how === 'void' || out.how === 'refunded') {
    logTag(log, 'info', TAGS.VOID, f, `${room}: period ${w.periodId} is void`);
  } else if (out.how === 'already' && precalculatedHere) {
    m.settledElsewhere.inc({ room });
    logTag(log, 'info', TAGS.PERIOD_END, f, `${room}: period ${w.periodId} was already settled by another instance`);
  }
}

function failed(ctx: SchedulerContext, w: PeriodWindow, f: Fields, err: unknown): void {
  const { log, m } = ctx;
  const room = f.room;
  if (isFivedError(err, ErrorCode.STALE_EPOCH)) ctx.keeper.lose(STALE_EPOCH_WHY);
  else if (isFivedError(err, ErrorCode.PERIOD_VOID)) logTag(log, 'info', TAGS.VOID, f, `${room}: period ${w.periodId} is void`);
  else if (isFivedError(err, ErrorCode.RESULT_MISMATCH)) {
    m.resultMismatch.inc({ room });
    logTag(log, 'error', TAGS.RESULT_MISMATCH, { ...f, err: toFivedError(err), alert: true }, `${room}: the stored result of period ${w.periodId} does not verify against its commitment and could not be voided (settled already): operator action needed`);
  } else logTag(log, 'error', TAGS.PERIOD_END, { ...f, err: toFivedError(err) }, `${room}: settlement of period ${w.periodId} failed`);
}
