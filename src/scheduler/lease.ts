// The scheduler's lease: acquire as standby, renew at a third of the TTL while active, step down
// at once when a renewal fails, is refused, or has not succeeded within the TTL. Validity is
// timed with the monotonic clock from the moment the last successful renewal was SENT, so a
// process paused (SIGSTOP, GC, VM freeze) past its TTL knows on waking that it lost the lease
// before it writes anything — and the store's fencing epoch refuses the writes it had in flight.

import type { Fence, Lease, Store } from '../store/types.js';
import { elapsed } from '../runtime/clock.js';

export interface LeaseEvents {
  onAcquired(lease: Lease): void;
  onLost(lease: Lease, why: string): void;
  onError(err: unknown): void;
}

export class LeaseKeeper {
  private lease: Lease | null = null;
  private validUntil = 0; // monotonic ms
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private busy = false;

  constructor(
    private readonly store: Store,
    private readonly holder: string,
    private readonly ttlMs: number,
    private readonly events: LeaseEvents,
    /** why this process must not hold the lease now (e.g. its clock is off the store's), or null */
    private readonly veto: () => string | null = () => null,
  ) {}

  /** standby polls faster than it renews, so takeover follows the lapse closely */
  private get acquireEveryMs(): number {
    return Math.max(50, Math.min(250, Math.floor(this.ttlMs / 10)));
  }
  private get renewEveryMs(): number {
    return Math.max(50, Math.floor(this.ttlMs / 3));
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** The fence of a lease still valid by the monotonic clock, or null. */
  fence(): Fence | null {
    if (!this.lease) return null;
    if (elapsed() >= this.validUntil) {
      this.lose('lease expired (no successful renewal within the TTL)');
      return null;
    }
    return { holder: this.lease.holder, epoch: this.lease.epoch };
  }

  isActive(): boolean {
    return this.fence() !== null;
  }

  epoch(): number {
    return this.lease?.epoch ?? 0;
  }

  /** Step down now (e.g. the store refused a write with E_STALE_EPOCH). */
  lose(why: string): void {
    const l = this.lease;
    if (!l) return;
    this.lease = null;
    this.validUntil = 0;
    this.events.onLost(l, why);
  }

  /** Step down and release the lease in the store, so a standby takes over at once. */
  async stepDown(why: string): Promise<void> {
    const l = this.lease;
    if (!l) return;
    this.lose(why);
    try {
      await this.store.releaseLease(l);
    } catch (err) {
      this.events.onError(err);
    }
  }

  async stop(release: boolean): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const l = this.lease;
    this.lease = null;
    if (l && release) {
      try {
        await this.store.releaseLease(l);
      } catch (err) {
        this.events.onError(err);
      }
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.step(), ms);
  }

  private async step(): Promise<void> {
    if (this.stopped || this.busy) return;
    this.busy = true;
    try {
      const veto = this.veto();
      if (veto !== null) {
        // neither take nor keep the lease: the standby or the gateways' fallback carries on
        if (this.lease) await this.stepDown(veto);
      } else if (this.lease) await this.renew(this.lease);
      else await this.acquire();
    } finally {
      this.busy = false;
      this.schedule(this.lease ? this.renewEveryMs : this.acquireEveryMs);
    }
  }

  private async acquire(): Promise<void> {
    const sent = elapsed();
    let got: Lease | null = null;
    try {
      got = await this.store.acquireLease(this.holder, this.ttlMs);
    } catch (err) {
      this.events.onError(err);
      return;
    }
    if (!got || this.stopped || this.veto() !== null) {
      if (got) await this.store.releaseLease(got).catch(() => undefined);
      return;
    }
    if (elapsed() - sent >= this.ttlMs) return; // the reply came too late to trust; it lapses by itself
    this.lease = got;
    this.validUntil = sent + this.ttlMs;
    this.events.onAcquired(got);
  }

  private async renew(l: Lease): Promise<void> {
    // a renewal that starts after the lease lapsed (we were paused) must not revive it
    if (elapsed() >= this.validUntil) {
      this.lose('lease expired before renewal');
      return;
    }
    const sent = elapsed();
    let ok = false;
    try {
      ok = await this.store.renewLease(l, this.ttlMs);
    } catch (err) {
      this.events.onError(err);
      ok = false;
    }
    if (this.lease !== l) return; // lost or stopped meanwhile
    if (!ok) {
      this.lose('renewal refused or failed');
      return;
    }
    this.validUntil = sent + this.ttlMs;
  }
}
