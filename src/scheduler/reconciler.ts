// The reconciler: finishes the periods whose end this scheduler (or the one before it) missed — a
// failed call, a Redis restart, a takeover — from the store's own list of unfinished periods, and
// the periods that ended while the store refused writes (the gap sweep, issue 13).

import { roomName } from '../core/ids.js';
import type { PeriodWindow } from '../core/types.js';
import { ErrorCode, isFivedError, toFivedError } from '../errors.js';
import { GAP_REWIND_MS, GapSweep } from '../runtime/gaps.js';
import { logTag, TAGS } from '../runtime/log.js';
import { reconcile, type Reconciled } from '../runtime/reconcile.js';
import type { Fence } from '../store/types.js';
import { STALE_EPOCH_WHY, whoOf, type SchedulerContext } from './context.js';

export class Reconciler {
  private busy = false;
  /** periods that ended while the store refused writes (issue 13), walked from this process's start on */
  private readonly gaps: GapSweep;

  constructor(private readonly ctx: SchedulerContext) {
    const view = () => ctx.view();
    this.gaps = new GapSweep({ roomAt: (d, t) => view().roomAt(d, t), roomsBetween: (a, b) => view().roomsBetween(a, b) }, ctx.clock.now());
    // a reconnect may be a failover that rolled back what the walk saw finished: look again
    ctx.store.on('ready', () => this.rewind());
  }

  /** Look again at what was seen finished: it may have been rolled back (a failover, a new holder). */
  rewind(): void {
    this.gaps.rewind(this.ctx.clock.now() - GAP_REWIND_MS);
  }

  /** Finish every period that ended by `endedBy` and is not settled (or refunded) yet. */
  async overdue(endedBy: number): Promise<void> {
    const { ctx } = this;
    const fence = ctx.keeper.fence();
    if (!fence || this.busy || ctx.stopping()) return;
    this.busy = true;
    try {
      const done = await reconcile(ctx.computeDeps, { now: ctx.clock.now(), endedBy, who: whoOf(ctx.cfg, fence.epoch), fence, signal: ctx.signal() }, (w, err) => this.failed(w, err));
      for (const d of done) this.report(d);
      await this.fillGaps(endedBy, fence);
    } catch (err) {
      if (isFivedError(err, ErrorCode.STALE_EPOCH)) ctx.keeper.lose(STALE_EPOCH_WHY);
      else throw err;
    } finally {
      this.busy = false;
    }
  }

  private failed(w: PeriodWindow, err: unknown): void {
    const { log, m } = this.ctx;
    const room = roomName(w.duration);
    if (isFivedError(err, ErrorCode.RESULT_MISMATCH)) {
      m.resultMismatch.inc({ room });
      logTag(log, 'error', TAGS.RESULT_MISMATCH, { room, periodId: w.periodId, err: toFivedError(err), alert: true }, `Stored result of period ${w.periodId} does not verify against its commitment and could not be voided`);
      return;
    }
    logTag(log, 'error', TAGS.SETTLE, { room, periodId: w.periodId, err: toFivedError(err) }, `Completing period ${w.periodId} failed; retrying next second`);
  }

  private report(d: Reconciled): void {
    const { log, m } = this.ctx;
    if (d.how === 'busy' || d.how === 'already') return;
    const room = roomName(d.w.duration);
    if (d.how === 'rejected') {
      m.resultMismatch.inc({ room });
      logTag(log, 'error', TAGS.RESULT_MISMATCH, { room, periodId: d.w.periodId }, `Stored result of period ${d.w.periodId} does not verify against its commitment: period voided, bets refunded`);
      return;
    }
    m.settled.inc({ room });
    logTag(log, 'warn', TAGS.SETTLE, { room, periodId: d.w.periodId, how: d.how, credited: d.credited }, `Completed period ${d.w.periodId} left unfinished at its end (${d.how})`);
  }

  /** Voids or finishes the periods that ended with nothing (or only a commitment) stored. */
  private async fillGaps(endedBy: number, fence: Fence): Promise<void> {
    const { ctx } = this;
    const filled = await this.gaps.sweep(ctx.computeDeps, { now: ctx.clock.now(), endedBy, who: whoOf(ctx.cfg, fence.epoch), fence, signal: ctx.signal() }, (w, err) => {
      logTag(ctx.log, 'warn', TAGS.VOID, { room: roomName(w.duration), periodId: w.periodId, err: toFivedError(err) }, `Period ${w.periodId} ended with nothing stored and could not be finished yet; retrying next second`);
    });
    for (const w of filled) logTag(ctx.log, 'warn', TAGS.VOID, { room: roomName(w.duration), periodId: w.periodId }, `Period ${w.periodId} ended while the store refused writes: finished now (void, or result from its commitment)`);
  }
}
