// Acknowledged only once replicated (issue 13; docs/reliability.md, "Redis failover"). Redis
// replicates asynchronously: a bet the primary acknowledged can be missing on the replica Sentinel
// promotes. With FIVED_REDIS_MIN_REPLICAS = n > 0, a write is answered only after `WAIT n timeout`
// on the connection that wrote it confirms n replicas hold it (and, the replication stream being one
// ordered log, everything written before it: the period's commitment, other gateways' bets).
//
// One WAIT covers every write its connection sent before it, so callers that arrive while a WAIT is
// in flight share the next one: one WAIT per round trip, whatever the number of bets.

import type { Redis } from 'ioredis';
import { ErrorCode, FivedError } from '../errors.js';

/** How many replicas an INFO replication reply shows at or past the primary's replication `offset`. */
export function replicasAt(info: string, offset: number): number {
  let n = 0;
  for (const m of info.matchAll(/^slave\d+:.*\boffset=(\d+)/gm)) if (Number(m[1]) >= offset) n += 1;
  return n;
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class ReplicaWait {
  private queued: Waiter[] = [];
  private inFlight = false;
  /** WAIT calls sent (metric, tests) */
  waits = 0;

  constructor(
    private readonly conn: Redis,
    readonly minReplicas: number,
    private readonly timeoutMs: number,
    private readonly mapError: (err: unknown) => FivedError,
  ) {}

  /** Resolves once `minReplicas` replicas hold every write this connection sent before the call;
   *  E_STORE_UNCONFIRMED when fewer confirm within the timeout. At once when minReplicas is 0. */
  confirm(): Promise<void> {
    if (this.minReplicas <= 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queued.push({ resolve, reject });
      if (!this.inFlight) this.send();
    });
  }

  private send(): void {
    const batch = this.queued;
    this.queued = [];
    this.inFlight = true;
    this.waits += 1;
    this.conn.wait(this.minReplicas, this.timeoutMs).then(
      (n) => {
        if (n >= this.minReplicas) for (const w of batch) w.resolve();
        else {
          const err = new FivedError(ErrorCode.STORE_UNCONFIRMED, `written on the Redis primary but confirmed by ${n} of ${this.minReplicas} replica(s) within ${this.timeoutMs} ms (FIVED_REDIS_MIN_REPLICAS, FIVED_REDIS_WAIT_TIMEOUT_MS): not acknowledged; resend it with the same id to learn whether it stands`, { replicas: n, minReplicas: this.minReplicas });
          for (const w of batch) w.reject(err);
        }
      },
      (err: unknown) => {
        // the connection failed between the write and its WAIT: the write may or may not stand
        const e = this.mapError(err);
        const unconfirmed = new FivedError(ErrorCode.STORE_UNCONFIRMED, `written on the Redis primary, then its replication could not be confirmed (${e.message}): resend it with the same id to learn whether it stands`);
        for (const w of batch) w.reject(unconfirmed);
      },
    ).finally(() => {
      this.inFlight = false;
      if (this.queued.length > 0) this.send();
    });
  }
}
