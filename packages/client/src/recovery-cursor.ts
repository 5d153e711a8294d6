// Per room, the last period whose outcome (result or void) this client has seen: sent as `since`
// when it (re)subscribes, so the gateway replays every result after it (recovery).
// Period ids are 17-digit strings; string order is time order within a room.

import { parsePeriodId } from '../../../src/core/clock.js';

const DAY_MS = 86_400_000;

/** The id of the period before `periodId` in a room of `duration` seconds (crosses game days). */
export function previousPeriodId(periodId: string, duration: number): string {
  const { day, seq } = parsePeriodId(periodId, duration);
  if (seq > 1) return periodId.slice(0, 8) + String(seq - 1).padStart(9, '0');
  const d = new Date((day - 1) * DAY_MS);
  const ymd = `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
  return ymd + String(86_400 / duration).padStart(9, '0');
}

export class RecoveryCursor {
  readonly #last = new Map<string, string>();

  /** An outcome of `periodId` was seen: advance (never move back). */
  sawOutcome(room: string, periodId: string): void {
    const cur = this.#last.get(room);
    if (cur === undefined || periodId > cur) this.#last.set(room, periodId);
  }

  /**
   * A period was announced (subscribe reply or period start). With no outcome seen yet in this
   * room, everything from this period on is still to come: the cursor starts just before it.
   */
  sawPeriod(room: string, periodId: string, duration: number): void {
    if (this.#last.has(room)) return;
    try {
      this.#last.set(room, previousPeriodId(periodId, duration));
    } catch {
      // a malformed id from the server: no cursor rather than a wrong one
    }
  }

  /** The room was unsubscribed: a later subscription starts afresh, without recovery. */
  forget(room: string): void {
    this.#last.delete(room);
  }

  get(room: string): string | undefined {
    return this.#last.get(room);
  }

  /** `since` for a subscribe message over `rooms` (only rooms with a cursor). */
  since(rooms: Iterable<string>): Record<string, string> | undefined {
    const out: Record<string, string> = {};
    let any = false;
    for (const r of rooms) {
      const p = this.#last.get(r);
      if (p !== undefined) {
        out[r] = p;
        any = true;
      }
    }
    return any ? out : undefined;
  }
}
