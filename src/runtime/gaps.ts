// The gap sweep (issue 13; docs/reliability.md, "Redis failover"): a period whose commitment,
// freeze and end all fall while the store refuses writes (a Redis failover with one replica:
// `NOREPLICAS` until the old primary rejoins) has nothing stored, so neither the end-of-period
// path (whose void failed) nor the reconciler (which finishes periods that took a bet) ever
// finishes it: no result and no void, a gap in the history (docs/design.md rule 2). The active
// scheduler walks each room's ended periods behind a watermark, once each: one with nothing stored
// is voided, one committed but never resulted is finished (result from the seed, settled). A
// failure stops that room's walk until the next pass, so nothing is skipped. A failover can also
// roll back what was seen finished (a result the primary had not replicated): after every
// reconnect the walk goes back over the last GAP_REWIND_MS (rewind).

import type { PeriodWindow } from '../core/types.js';
import { nextWindow, windowAt, type Room } from './rooms.js';
import { finish, type ReconcileOptions } from './reconcile.js';
import type { RoomsOverTime } from './commit.js';
import type { ComputeDeps } from './compute.js';

/** periods looked at per room and pass */
const PER_PASS = 20;
/** how far back a sweep looks at most (a standby that takes over does not walk its whole past) */
export const GAP_LOOKBACK_MS = 10 * 60_000;
/** how far a reconnect sends the walk back */
export const GAP_REWIND_MS = 2 * 60_000;
export const GAP_VOID_REASON = 'no commitment before the period opened (the store refused writes)';

export class GapSweep {
  /** room duration → the last period known finished */
  private readonly marks = new Map<number, { room: Room; w: PeriodWindow }>();

  /** Periods ending at or before `from` are not looked at (another process's business before ours).
   *  The rooms come from the settings schedule: a room exists for the periods that opened while it
   *  was in effect (a room added or removed by `fived config apply` is walked only then). */
  constructor(private readonly rooms: RoomsOverTime, private readonly from: number) {}

  private markOf(room: Room): PeriodWindow {
    const known = this.marks.get(room.duration);
    if (known) return known.w;
    const w = windowAt(room, this.from - 1);
    this.marks.set(room.duration, { room, w });
    return w;
  }

  /** Looks again at the periods that ended after `to` (never before `from`): after a reconnect, what
   *  was seen finished may have been rolled back by a failover. */
  rewind(to: number): void {
    for (const [duration, { room, w }] of this.marks) {
      const back = windowAt(room, Math.max(to, this.from) - 1);
      if (back.endsAt < w.endsAt) this.marks.set(duration, { room, w: back });
    }
  }

  /** One pass over every room; returns the periods it voided or finished. */
  async sweep(deps: ComputeDeps, o: ReconcileOptions, onError: (w: PeriodWindow, err: unknown) => void): Promise<PeriodWindow[]> {
    const out: PeriodWindow[] = [];
    const endedBy = Math.min(o.endedBy, o.now);
    for (const room of this.rooms.roomsBetween(Math.max(this.from, endedBy - GAP_LOOKBACK_MS), o.now)) {
      let mark = this.markOf(room);
      if (mark.endsAt < endedBy - GAP_LOOKBACK_MS) mark = windowAt(room, endedBy - GAP_LOOKBACK_MS);
      for (let n = 0; n < PER_PASS; n++) {
        const w = nextWindow(room, mark);
        if (w.endsAt > endedBy || o.signal?.aborted) break;
        try {
          // a period of a room not in effect when it would have opened never existed
          if (this.rooms.roomAt(room.duration, w.startsAt) && (await this.fill(deps, w, o))) out.push(w);
        } catch (err) {
          onError(w, err);
          break; // this one again next pass
        }
        mark = w;
      }
      this.marks.set(room.duration, { room, w: mark });
    }
    return out;
  }

  /** Voids a period with nothing stored, finishes one committed but never resulted; true when it did. */
  private async fill(deps: ComputeDeps, w: PeriodWindow, o: ReconcileOptions): Promise<boolean> {
    const rec = await deps.store.getPeriod(w);
    if (rec.status === 'unknown') {
      await deps.store.voidPeriod(w, GAP_VOID_REASON);
      return true;
    }
    if (rec.status === 'open' || rec.status === 'frozen') {
      await finish(deps, w, o);
      return true;
    }
    return false; // resulted, settled or void: the usual paths own it
  }
}
