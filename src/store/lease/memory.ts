// The scheduler's lease in memory, with its fencing epoch.
import type { MemState } from '../base/memory.js';
import type { Lease, LeaseStore } from '../types.js';
import { validateLeaseRequest } from '../validate.js';

export class MemLease implements LeaseStore {
  constructor(private readonly s: MemState) {}

  async acquireLease(holder: string, ttlMs: number): Promise<Lease | null> {
    validateLeaseRequest(holder, ttlMs);
    this.s.open();
    const now = Date.now();
    if (this.s.lease && this.s.lease.until > now) return null;
    this.s.epoch += 1;
    this.s.lease = { holder, epoch: this.s.epoch, until: now + ttlMs };
    return { holder, epoch: this.s.epoch };
  }

  async renewLease(lease: Lease, ttlMs: number): Promise<boolean> {
    this.s.open();
    const now = Date.now();
    const l = this.s.lease;
    const held = l && l.until > now;
    if (held && l.holder === lease.holder && l.epoch === lease.epoch) {
      l.until = now + ttlMs;
      return true;
    }
    if (!held && lease.epoch === this.s.epoch) {
      this.s.lease = { holder: lease.holder, epoch: lease.epoch, until: now + ttlMs };
      return true;
    }
    return false;
  }

  async releaseLease(lease: Lease): Promise<void> {
    const l = this.s.lease;
    if (l && l.holder === lease.holder && l.epoch === lease.epoch) this.s.lease = null;
  }

  async currentEpoch(): Promise<number> {
    return this.s.epoch;
  }
}
