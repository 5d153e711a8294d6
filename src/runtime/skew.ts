// The local clock against the store's (Redis TIME), shared by the gateways and the scheduler. The
// store's clock decides what "the end" is (docs/design.md rule 4); a process only acts on its own
// clock after measuring how far it may run ahead of the store's.

import { elapsed, type Clock } from './clock.js';

/**
 * One comparison of the local clock (read `before` sending TIME and `after` its reply) with the
 * store's `server` TIME. `skewMs`, at the round trip's midpoint, is the best estimate (readiness);
 * `leadMs` bounds the lead from above whenever the store read its clock inside the round trip,
 * so a result held back by it is never early (rule 4) — at worst it waits a round trip more.
 */
export function clockSample(before: number, server: number, after: number): { skewMs: number; leadMs: number; behindMs: number } {
  // behindMs: the mirror bound — how far the store's clock may run ahead of this one
  return { skewMs: Math.round(((before + after) / 2 - server) * 10) / 10, leadMs: after - server, behindMs: server - before };
}

/** Measures the local clock against the store's once. */
export async function measureClock(clock: Clock, serverTime: () => Promise<number>): Promise<{ skewMs: number; leadMs: number; behindMs: number }> {
  const before = clock.now();
  const server = await serverTime();
  const after = clock.now();
  return clockSample(before, server, after);
}

/**
 * The upper bound of how far a clock runs ahead of the store's, kept between samples: the last
 * sample's lead (clockSample's leadMs) plus how far the clock has since stepped ahead of the
 * monotonic clock. A wall clock stepped forward between two samples (an NTP step, `date -s`) would
 * otherwise pass an end early until the next sample (docs/design.md rule 4); a step back only makes
 * everything later, and the next sample measures the clock afresh.
 */
export class LeadBound {
  private lead = 0;
  private at: { wall: number; mono: number } | null = null;

  constructor(private readonly clock: Clock) {}

  /** A new sample's lead, taken just now. */
  set(leadMs: number): void {
    this.lead = leadMs;
    this.at = { wall: this.clock.now(), mono: elapsed() };
  }

  /** ms (0 before the first sample) */
  get(): number {
    if (!this.at) return this.lead;
    const stepped = this.clock.now() - this.at.wall - (elapsed() - this.at.mono);
    return stepped > 0 ? this.lead + stepped : this.lead;
  }
}

/**
 * The local clock minus the upper bound of its lead: never ahead of the store's clock (at worst a
 * round trip behind it), whichever way the local clock is off or steps. The extra 1 ms covers the
 * millisecond rounding of both clocks.
 */
export function storeAlignedClock(base: Clock, lead: LeadBound): Clock {
  return { now: () => base.now() - lead.get() - 1 };
}
