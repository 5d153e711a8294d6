// The scheduler's clock against the store's (docs/design.md rule 4: the store's clock decides the
// freeze and the end). Measured against Redis TIME like the gateways; beyond the allowed skew the
// scheduler neither takes nor keeps the lease, and within it every instant it acts on comes from a
// clock that never runs ahead of the store's (the local clock minus the upper bound of its lead).

import type { Clock } from '../runtime/clock.js';
import { LeadBound, measureClock, storeAlignedClock } from '../runtime/skew.js';
import type { Store } from '../store/types.js';

/** How often the scheduler measures its clock against the store's. */
export const CLOCK_CHECK_MS = 1000;
const CLOCK_TIMEOUT_MS = 1000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e: unknown) => { clearTimeout(t); reject(e instanceof Error ? e : new Error(String(e))); });
  });
}

export class ClockWatch {
  /** local clock minus Redis TIME at the last measurement, null before the first */
  skewMs: number | null = null;
  private readonly lead: LeadBound;
  /** why the last measurement failed, or null */
  error: string | null = null;
  /** the local clock held back by its measured lead over the store's */
  readonly clock: Clock;

  constructor(private readonly local: Clock, private readonly store: Pick<Store, 'serverTime'>, private readonly maxSkewMs: number) {
    this.lead = new LeadBound(local);
    this.clock = storeAlignedClock(local, this.lead);
  }

  /** Why this clock must not be trusted now, or null. */
  veto(): string | null {
    if (this.skewMs === null) return `clock not yet measured against the store${this.error ? ` (${this.error})` : ''}`;
    if (Math.abs(this.skewMs) > this.maxSkewMs) return `clock skew ${this.skewMs} ms vs the store exceeds ${this.maxSkewMs} ms`;
    return null;
  }

  /** One measurement; resolves to whether the clock was trusted before it (a failure keeps the last one). */
  async measure(): Promise<{ wasTrusted: boolean; measured: boolean }> {
    try {
      const s = await withTimeout(measureClock(this.local, () => this.store.serverTime()), CLOCK_TIMEOUT_MS, 'store TIME');
      const wasTrusted = this.veto() === null;
      this.skewMs = s.skewMs;
      this.lead.set(s.leadMs);
      this.error = null;
      return { wasTrusted, measured: true };
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
      return { wasTrusted: this.veto() === null, measured: false };
    }
  }
}
