// The scheduler's lease in Redis (lease_*.lua), with a fencing epoch that never goes backwards as
// seen by this instance.
import type { RedisBase } from '../base/redis.js';
import { num } from '../connection.js';
import type { Lease, LeaseStore } from '../types.js';
import { validateLeaseRequest } from '../validate.js';

export class RedisLease implements LeaseStore {
  constructor(private readonly b: RedisBase) {}

  async acquireLease(holder: string, ttlMs: number): Promise<Lease | null> {
    validateLeaseRequest(holder, ttlMs);
    const b = this.b;
    b.requireConsistent();
    const reply = (await b.op(() => b.script('fivedLeaseAcquire', [b.keys.lease, b.keys.epoch], [holder, ttlMs, b.maxEpoch]))) as number[];
    if (reply[0] !== 1) return null;
    const epoch = num(reply[1]);
    if (num(reply[2]) < b.maxEpoch) {
      console.error(JSON.stringify({ level: 'error', msg: 'fencing epoch went backwards in Redis; continued above the highest seen', seen: b.maxEpoch, found: num(reply[2]) }));
    }
    b.maxEpoch = Math.max(b.maxEpoch, epoch);
    return { holder, epoch };
  }

  async renewLease(lease: Lease, ttlMs: number): Promise<boolean> {
    const r = await this.b.op(() => this.b.script('fivedLeaseRenew', [this.b.keys.lease, this.b.keys.epoch], [`${lease.holder}|${lease.epoch}`, ttlMs, lease.epoch]));
    return r === 1;
  }

  async releaseLease(lease: Lease): Promise<void> {
    await this.b.op(() => this.b.script('fivedLeaseRelease', [this.b.keys.lease], [`${lease.holder}|${lease.epoch}`]));
  }

  async currentEpoch(): Promise<number> {
    const e = num(await this.b.op(() => this.b.redis.get(this.b.keys.epoch)));
    if (e > this.b.maxEpoch) this.b.maxEpoch = e;
    return e;
  }
}
