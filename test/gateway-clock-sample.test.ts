// The clock comparison behind the result hold-back (docs/design.md rule 4). A gateway whose clock runs
// ahead holds each result back by its lead over Redis TIME. The midpoint of a round trip is the
// best estimate of the skew, but when the TIME request waits before Redis answers it (a busy
// event loop, a busy Redis), the midpoint falls short of the lead by up to half the round trip:
// a long chaos run saw results 18 ms early from the gateway 300 ms ahead. The hold-back uses the
// bound that cannot fall short.
import { describe, expect, it } from 'vitest';
import { clockSample } from '../src/gateway/readiness.js';

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
