// The clock comparison behind the result hold-back (docs/design.md rule 4). A gateway whose clock runs
// ahead holds each result back by its lead over Redis TIME. The midpoint of a round trip is the
// best estimate of the skew, but when the TIME request waits before Redis answers it (a busy
// event loop, a busy Redis), the midpoint falls short of the lead by up to half the round trip:
// a long chaos run saw results 18 ms early from the gateway 300 ms ahead. The hold-back uses the
// bound that cannot fall short, and adds any forward step of the wall clock since the sample.
import { describe, expect, it } from 'vitest';
import { revealed, type GatewayContext } from '../src/gateway/context.js';
import { clockSample } from '../src/gateway/readiness.js';
import { LeadBound, storeAlignedClock } from '../src/runtime/skew.js';

describe('clock sample', () => {
  it('the lead bound is never below the true lead, wherever in the round trip the store read its clock', () => {
    const offset = 300; // the local clock runs 300 ms ahead of the store's
    const t0 = 1_800_000_000_000; // true time when TIME is sent
    for (const rtt of [0, 1, 5, 36, 250]) {
      for (let at = 0; at <= rtt; at += Math.max(1, Math.floor(rtt / 7))) {
        const s = clockSample(t0 + offset, t0 + at, t0 + rtt + offset);
        expect(s.leadMs).toBeGreaterThanOrEqual(offset);
        expect(s.leadMs).toBeLessThanOrEqual(offset + rtt);
      }
    }
    // the chaos case: TIME answered 36 ms into a 36 ms round trip — the midpoint is 18 ms short
    const late = clockSample(t0 + offset, t0 + 36, t0 + 36 + offset);
    expect(late.skewMs).toBe(282);
    expect(late.leadMs).toBe(300);
  });

  it('a clock behind the store needs no hold-back', () => {
    const s = clockSample(1000 - 300, 1000 + 2, 1004 - 300);
    expect(s.skewMs).toBeLessThan(0);
    expect(s.leadMs).toBeLessThan(0);
  });
});

describe('the lead between samples (a wall clock that steps)', () => {
  it('a forward step after the sample adds to the lead, so an end is not passed early; a step back does not lower it', () => {
    let offset = 0;
    const clock = { now: () => Date.now() + offset };
    const lead = new LeadBound(clock);
    expect(lead.get()).toBe(0);
    lead.set(3);
    // Date.now() is whole ms, the monotonic clock fractional: up to 1 ms of noise either way
    expect(lead.get()).toBeGreaterThanOrEqual(2);
    expect(lead.get()).toBeLessThan(5);
    const ctx = { lead, clock } as unknown as GatewayContext;
    const endsAt = Date.now() + 300;
    expect(revealed(ctx, endsAt)).toBe(false);
    offset = 1000; // NTP steps this clock 1 s forward, 4 s before the next sample
    expect(clock.now()).toBeGreaterThan(endsAt);
    expect(lead.get()).toBeGreaterThanOrEqual(1002);
    expect(revealed(ctx, endsAt)).toBe(false); // the store's clock has not reached the end
    expect(storeAlignedClock(clock, lead).now()).toBeLessThanOrEqual(Date.now()); // the scheduler's clock: never ahead
    offset = -500; // stepped back: later, never earlier
    expect(lead.get()).toBeGreaterThanOrEqual(2);
    expect(revealed(ctx, endsAt)).toBe(false);
    offset = 0;
    lead.set(1); // the next sample measures the clock afresh
    expect(revealed(ctx, Date.now() - 5)).toBe(true);
  });
});
