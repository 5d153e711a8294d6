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
import type { ComputeDeps } from './compute.js';

/** periods looked at per room and pass */
const PER_PASS = 20;
/** how far back a sweep looks at most (a standby that takes over does not walk its whole past) */
export const GAP_LOOKBACK_MS = 10 * 60_000;
/** how far a reconnect sends the walk back */
export const GAP_REWIND_MS = 2 * 60_000;
export const GAP_VOID_REASON = 'no commitment before the period opened (the store refused writes)';

export class GapSweep {
  /** room name → the last period id known finished */
  private readonly marks = new Map<string, PeriodWindow>();

  /** Periods ending at or before `from` are not looked at (another process's business before ours). */
  constructor(private readonly rooms: readonly Room[], private readonly from: number) {
    for (const room of rooms) this.marks.set(room.name, windowAt(room, from - 1));
  }

  /** Looks again at the periods that ended after `to` (never before `from`): after a reconnect, what
   *  was seen finished may have been rolled back by a failover. */
  rewind(to: number): void {
    for (const room of this.rooms) {
      const back = windowAt(room, Math.max(to, this.from) - 1);
      if (back.endsAt < this.marks.get(room.name)!.endsAt) this.marks.set(room.name, back);
    }
  }

  /** One pass over every room; returns the periods it voided or finished. */
  async sweep(deps: ComputeDeps, o: ReconcileOptions, onError: (w: PeriodWindow, err: unknown) => void): Promise<PeriodWindow[]> {
    const out: PeriodWindow[] = [];
    const endedBy = Math.min(o.endedBy, o.now);
    for (const room of this.rooms) {
      let mark = this.marks.get(room.name)!;
      if (mark.endsAt < endedBy - GAP_LOOKBACK_MS) mark = windowAt(room, endedBy - GAP_LOOKBACK_MS);
      for (let n = 0; n < PER_PASS; n++) {
        const w = nextWindow(room, mark);
        if (w.endsAt > endedBy || o.signal?.aborted) break;
        try {
          if (await this.fill(deps, w, o)) out.push(w);
        } catch (err) {
          onError(w, err);
          break; // this one again next pass
        }
        mark = w;
      }
      this.marks.set(room.name, mark);
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
