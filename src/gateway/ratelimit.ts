// Per-connection message rate limit: a token bucket refilled lazily (O(1) per message, no timers).
// Over the limit a message is refused with E_RATE_LIMITED; a client that keeps sending far over
// the limit (more refused messages in a second than twice the rate) is closed (RATE_LIMITED).

export type RateVerdict = 'ok' | 'limited' | 'flood';

export class RateBucket {
  private tokens: number;
  private last: number;
  private refusedSecond = 0;
  private refused = 0;

  constructor(private readonly perS: number, now: number) {
    this.tokens = perS * 2; // a burst of two seconds' worth
    this.last = now;
  }

  take(now: number): RateVerdict {
    const elapsed = Math.max(0, now - this.last);
    this.last = now;
    this.tokens = Math.min(this.perS * 2, this.tokens + (elapsed * this.perS) / 1000);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 'ok';
    }
    const second = Math.floor(now / 1000);
    if (second !== this.refusedSecond) {
      this.refusedSecond = second;
      this.refused = 0;
    }
    this.refused += 1;
    return this.refused > this.perS * 2 ? 'flood' : 'limited';
  }
}
