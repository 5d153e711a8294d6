// The period runner: while this scheduler holds the lease, every room's periods get their timers —
// the seed read shortly before the freeze, the pre-calculation at the freeze, the completion at the
// end, then the next period under the settings in effect when it opens — and every second the
// next periods are committed ahead and the reconciler looks for periods left unfinished.

import type { PeriodWindow } from '../core/types.js';
import { toFivedError } from '../errors.js';
import { at, everySecond, type Cancel } from '../runtime/clock.js';
import { commitPeriod, commitTargets } from '../runtime/commit.js';
import { readCommitted } from '../runtime/compute.js';
import { logTag, TAGS } from '../runtime/log.js';
import { nextWindow, windowAt, type Room } from '../runtime/rooms.js';
import { periodMember } from '../store/keys.js';
import { complete } from './complete.js';
import type { SchedulerContext } from './context.js';
import { precalc, type Prefetched } from './precalc.js';
import type { Reconciler } from './reconciler.js';

export class PeriodRunner {
  // per-activation state; replaced on every lease acquisition
  private timers = new Map<string, Cancel>();
  private ticker: Cancel | null = null;
  private abort = new AbortController();
  /** `${room}:${periodId}` committed (or found void) this activation -> its end */
  private readonly lastCommitted = new Map<string, number>();
  /** periods this process pre-calculated (the settled-elsewhere metric) */
  private readonly precalculated = new Set<string>();
  /** pre-calculations in flight, by period */
  private readonly running = new Map<string, Promise<void>>();
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(private readonly ctx: SchedulerContext, private readonly reconciler: Reconciler) {}

  /** the current activation's signal */
  signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Runs `p` in the background; a failure is logged, and stop() waits for it (bounded). */
  track(p: Promise<unknown>): void {
    const q = p.catch((err) => this.ctx.log.error({ err: toFivedError(err) }, 'scheduler task failed')).finally(() => this.inflight.delete(q));
    this.inflight.add(q);
  }

  /** The background work still running. */
  pending(): Promise<unknown>[] {
    return [...this.inflight];
  }

  /** On taking the lease: timers for every room, commit ahead, and everything left unfinished at once. */
  activate(): void {
    const { ctx } = this;
    this.cancelAll();
    this.abort = new AbortController();
    this.lastCommitted.clear();
    // what the previous holder (or this one, before it lost the lease) saw finished may have been
    // rolled back; a standby's walk starts where this process started, at most GAP_LOOKBACK_MS back
    this.reconciler.rewind();
    this.ticker = everySecond(ctx.clock, () => {
      this.track(this.commitTick());
      this.scheduleNewRooms();
      // periods its end timer did not finish (a failed call, a Redis restart): after half the grace
      this.track(this.reconciler.overdue(ctx.clock.now() - Math.floor(ctx.cfg.settleGraceMs / 2)));
    });
    this.track(this.commitTick());
    // on taking over: everything the previous holder left unfinished, at once
    this.track(this.reconciler.overdue(ctx.clock.now()));
    const now = ctx.clock.now();
    for (const room of ctx.view().roomsAt(now)) this.schedulePeriod(room, windowAt(room, now));
  }

  /** On losing the lease (or stopping): no more timers, work in flight abandoned with `why`. */
  deactivate(why: Error): void {
    this.cancelAll();
    this.abort.abort(why);
  }

  cancelAll(): void {
    this.ticker?.();
    this.ticker = null;
    for (const c of this.timers.values()) c();
    this.timers = new Map();
  }

  /** A room added by a settings change gets its timers from the instant it is in effect. */
  private scheduleNewRooms(): void {
    const now = this.ctx.clock.now();
    for (const room of this.ctx.view().roomsAt(now)) if (!this.timers.has(room.name)) this.schedulePeriod(room, windowAt(room, now));
  }

  /** Commit ahead: the next period of every room, and at a cold start the current one while
   *  before its freeze (opened late, issue 13); once per period (create-if-absent). */
  private async commitTick(): Promise<void> {
    const { ctx } = this;
    if (!ctx.keeper.isActive()) return;
    const now = ctx.clock.now();
    await Promise.all(commitTargets(ctx.view(), now).map(({ room, w }) => this.commitOne(room, w, now)));
    // forget the periods that are over
    for (const [key, endsAt] of this.lastCommitted) if (endsAt <= now) this.lastCommitted.delete(key);
  }

  private async commitOne(room: Room, w: PeriodWindow, now: number): Promise<void> {
    const { ctx } = this;
    const key = `${room.name}:${w.periodId}`;
    if (this.lastCommitted.has(key)) return;
    const r = await commitPeriod(ctx.store, w, now);
    this.lastCommitted.set(key, w.endsAt);
    if (!r.created) return;
    ctx.m.commits.inc({ room: room.name });
    const late = now >= w.startsAt;
    logTag(ctx.log, late ? 'info' : 'debug', TAGS.COMMIT, { room: room.name, periodId: w.periodId, commitment: r.commitment, late }, late ? `Period ${w.periodId} opened late: committed now, betting until the freeze` : `Committed period ${w.periodId}`);
  }

  /** Timers of one period of a room: pre-calculate at the freeze, settle at the end, then the next. */
  private schedulePeriod(room: Room, w: PeriodWindow): void {
    const { ctx } = this;
    // the seed is read shortly before the freeze (it never leaves this process before the end)
    let committed: Prefetched = null;
    const prefetch = at(ctx.clock, w.freezeAt - Math.min(500, Math.floor(room.spec.freezeMs / 2)), () => {
      if (ctx.keeper.isActive()) committed = readCommitted(ctx.store, w).catch(() => null);
    });
    const freeze = at(ctx.clock, w.freezeAt, () => this.atFreeze(room, w, committed));
    const end = at(ctx.clock, w.endsAt, () => this.atEnd(room, w));
    this.timers.set(room.name, () => {
      prefetch();
      freeze();
      end();
    });
  }

  private atFreeze(room: Room, w: PeriodWindow, committed: Prefetched): void {
    this.ctx.m.lateStartMs.observe({ event: 'freeze' }, Math.max(0, this.ctx.clock.now() - w.freezeAt) / 1000);
    const key = periodMember(w);
    const p = precalc(this.ctx, room, w, committed, (done) => this.precalculated.add(periodMember(done))).finally(() => this.running.delete(key));
    this.running.set(key, p);
    this.track(p);
  }

  private atEnd(room: Room, w: PeriodWindow): void {
    const { ctx } = this;
    ctx.m.lateStartMs.observe({ event: 'end' }, Math.max(0, ctx.clock.now() - w.endsAt) / 1000);
    this.track(this.completeAtEnd(w));
    // the next period under the settings in effect when it opens; none for a room removed then
    const next = nextWindow(room, w);
    const nextRoom = ctx.view().roomAt(room.duration, next.startsAt);
    if (nextRoom) this.schedulePeriod(nextRoom, windowAt(nextRoom, next.startsAt));
    else this.timers.delete(room.name);
  }

  /** At (or after) the end: reveal to history and apply the saved settlement, exactly once. */
  private async completeAtEnd(w: PeriodWindow): Promise<void> {
    const key = periodMember(w);
    // a pre-calculation still running at the end (overloaded host) finishes first: its plan is the one to apply
    await this.running.get(key);
    try {
      await complete(this.ctx, w, () => this.precalculated.has(key));
    } finally {
      this.precalculated.delete(key);
    }
  }
}
