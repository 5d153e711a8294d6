// The room clock of a gateway. On every wall-clock second boundary (everySecond, not a drifting
// setInterval) each room gets one TICK, encoded once per format and published to its topics;
// a new period is announced (PERIOD with its commitment) or, opened without a commitment, voided.
// Freeze and end are `at` timers that never fire early. Store work (commit ahead, freeze flags,
// settlement sweeps) runs after the publishes, in the background: ticks never wait for Redis.

import { at, everySecond } from '../runtime/clock.js';
import { commitAhead, commitPeriod } from '../runtime/commit.js';
import { logTag, TAGS } from '../runtime/log.js';
import { windowAt, type Room } from '../runtime/rooms.js';
import type { PeriodWindow } from '../core/types.js';
import { ServerType } from '../protocol.js';
import { background, clockTrusted, periodKey, resultDelayMs, revealAt, revealed, type GatewayContext } from './context.js';
import type { PeriodState, Periods } from './periods.js';
import type { Results } from './results.js';
import type { Settlement } from './settlement.js';
import type { Voids } from './voids.js';

/**
 * How long a room's boundary frames (tick, new period) may wait for the ended period's result
 * (hub.holdUntilResult), on both protocols. A held result waits out this clock's measured lead,
 * normally 1–3 ms; one derived at the end (no scheduler) a few Redis round trips. A lead longer
 * than this (a clock far ahead, a slow TIME sample) ticks on time and sends the result on its own.
 */
export const BOUNDARY_HOLD_MAX_MS = 100;

export class Timing {
  private stopTicks: (() => void) | null = null;
  private committing = false;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly periods: Periods,
    private readonly results: Results,
    private readonly settlement: Settlement,
    private readonly voids: Voids,
  ) {}

  /** Enters the current periods (no announcement: nobody is connected yet) and starts ticking. */
  async start(): Promise<void> {
    await this.commitAhead();
    const now = this.ctx.clock.now();
    for (const room of this.ctx.settings.view.roomsAt(now)) this.enter(room, windowAt(room, now), false);
    this.stopTicks = everySecond(this.ctx.clock, (boundary) => this.tick(boundary));
  }

  stop(): void {
    this.stopTicks?.();
    this.stopTicks = null;
    this.periods.cancelAll();
  }

  private tick(boundary: number): void {
    const { hub, metrics, clock } = this.ctx;
    // the rooms in effect at this boundary: a registered settings change switches here, on time
    for (const room of this.ctx.settings.view.roomsAt(boundary)) {
      const w = windowAt(room, boundary);
      let s = this.periods.current(room.name);
      // results first: the period ending at this boundary sends its result ahead of the new
      // period's frames, in the same write to each socket when it was held (hub.holdUntilResult).
      // Its end timer fires after the clock's lead (rule 4) and a result without a scheduler is
      // derived then; revealed already (a late tick), it starts now.
      if (s && s.w.endsAt === boundary && !s.delivered && s.status !== 'void') {
        if (resultDelayMs(this.ctx) <= BOUNDARY_HOLD_MAX_MS) hub.holdUntilResult(room.name, BOUNDARY_HOLD_MAX_MS);
        if (revealed(this.ctx, s.w.endsAt)) this.results.atEnd(s);
      }
      if (!s || s.w.periodId !== w.periodId) s = this.enter(room, w, true).state;
      else if (s.status === 'pending' && !s.resolving) this.resolve(s, true);
      hub.broadcast(room.name, {
        type: ServerType.TICK,
        room: room.name,
        periodId: w.periodId,
        now: boundary,
        remainingMs: w.endsAt - boundary,
        phase: boundary < w.freezeAt ? 'betting' : 'frozen',
      });
    }
    const lateness = clock.now() - boundary;
    metrics.tickLateness.observe(Math.max(0, lateness) / 1000);
    if (lateness > 50) logTag(this.ctx.logger, 'warn', TAGS.TICK, { lateMs: lateness }, 'tick published late');
    metrics.poolQueue.set(this.ctx.pool.queueSize);
    // after the publishes: store work in the background
    background(this.ctx, 'commit-ahead', () => this.commitAhead());
    this.settlement.sweep(boundary);
    this.periods.prune(boundary);
  }

  private enter(room: Room, w: PeriodWindow, announce: boolean): { state: PeriodState } {
    const { state: s, isNew } = this.periods.enter(room, w);
    if (isNew) {
      const { clock } = this.ctx;
      s.cancels.push(at(clock, w.freezeAt, () => this.atFreeze(s)));
      s.cancels.push(at(clock, w.endsAt, () => this.results.atEnd(s)));
    }
    if (s.status === 'open') {
      if (announce) this.ctx.hub.broadcast(room.name, { type: ServerType.PERIOD, ...this.periods.roomInfo(s) });
    } else if (s.status === 'pending') this.resolve(s, announce);
    return { state: s };
  }

  /** The commitment was not known in memory: read it; none yet and before the freeze: open the
   *  period late (commit it now, issue 13); none at or after the freeze: void. */
  private resolve(s: PeriodState, announce: boolean): void {
    s.resolving = true;
    background(this.ctx, 'resolve-commitment', async () => {
      try {
        let commitment = await this.ctx.store.getCommitment(s.w);
        if (!commitment && clockTrusted(this.ctx) && !this.ctx.draining) {
          commitment = (await commitPeriod(this.ctx.store, s.w, this.ctx.clock.now())).commitment;
          if (commitment) logTag(this.ctx.logger, 'info', TAGS.COMMIT, { room: s.room.name, periodId: s.w.periodId, freezeAt: s.w.freezeAt }, 'period opened late: committed now, betting until the freeze');
        }
        if (s.status !== 'pending') return;
        if (commitment) {
          s.commitment = commitment;
          s.status = 'open';
          if (announce && this.ctx.clock.now() < s.w.endsAt) this.ctx.hub.broadcast(s.room.name, { type: ServerType.PERIOD, ...this.periods.roomInfo(s) });
        } else if (clockTrusted(this.ctx)) {
          await this.voids.voidPeriod(s, 'no commitment before the freeze');
        }
      } finally {
        s.resolving = false;
      }
    });
  }

  private atFreeze(s: PeriodState): void {
    if (s.status === 'void') return;
    this.ctx.hub.broadcast(s.room.name, { type: ServerType.CLOSED, room: s.room.name, periodId: s.w.periodId, freezeAt: s.w.freezeAt });
    // the store's frozen flag is what refuses late bets; set it even when no scheduler runs — but
    // not before the freeze by the store's clock (the flag would close betting early for the
    // clients of every other gateway): a clock that may run ahead waits out its lead first. The
    // store's own TIME closes betting at the freeze meanwhile (bets.lua).
    const setFlag = () => background(this.ctx, 'freeze', () => this.ctx.store.freeze(s.w));
    const flagAt = revealAt(this.ctx, s.w.freezeAt);
    if (flagAt > s.w.freezeAt) s.cancels.push(at(this.ctx.clock, flagAt, setFlag));
    else setFlag();
  }

  private async commitAhead(): Promise<void> {
    if (this.committing || this.ctx.draining || !clockTrusted(this.ctx)) return;
    this.committing = true;
    try {
      const known = (room: Room, w: PeriodWindow) =>
        this.periods.commitments.has(periodKey(room.duration, w.periodId)) || this.periods.get(room.duration, w.periodId)?.status === 'void';
      const out = await commitAhead(this.ctx.store, this.ctx.settings.view, this.ctx.clock, known);
      for (const o of out) {
        if (!o.commitment) continue;
        const key = periodKey(o.duration, o.periodId);
        if (!this.periods.commitments.has(key)) {
          const room = this.ctx.settings.view.roomAt(o.duration, this.ctx.clock.now());
          const late = o.created && room !== undefined && o.periodId === windowAt(room, this.ctx.clock.now()).periodId;
          if (late) logTag(this.ctx.logger, 'info', TAGS.COMMIT, { room: o.room, periodId: o.periodId }, 'period opened late: committed now, betting until the freeze');
          else logTag(this.ctx.logger, 'debug', TAGS.COMMIT, { room: o.room, periodId: o.periodId, created: o.created }, 'commitment ready');
        }
        // endsAt is only used for pruning: the next period ends within two durations
        this.periods.commitments.set(key, { commitment: o.commitment, endsAt: this.ctx.clock.now() + 2 * o.duration * 1000 + 1000 });
      }
    } finally {
      this.committing = false;
    }
  }
}
