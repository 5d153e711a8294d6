// RedisStore: the Store over ioredis + the Lua scripts in ./lua — each concern's Redis
// implementation (src/store/<concern>/redis.ts) over the shared connections and lifecycle
// (base/redis.ts), put together by AssembledStore. Same behaviour and codes as MemoryStore.

import type { Redis } from 'ioredis';
import { PATTERN_COUNT, type Paytable } from '../core/types.js';
import { AssembledStore } from './assemble.js';
import { RedisBase } from './base/redis.js';
import { RedisBets } from './bets/redis.js';
import { RedisBus } from './bus/redis.js';
import { RedisCommits } from './commits/redis.js';
import type { Keys } from './keys.js';
import { RedisLease } from './lease/redis.js';
import { RedisResults } from './results/redis.js';
import type { ScriptArg } from './scripts.js';
import { RedisSettings } from './settings/redis.js';
import { RedisSettlement } from './settlement/redis.js';
import type { ComputeSource, StoreOptions } from './types.js';
import { RedisWallet } from './wallet/redis.js';

export class RedisStore extends AssembledStore {
  readonly kind = 'redis' as const;
  readonly label = 'Redis';
  private readonly base: RedisBase;

  constructor(opts: StoreOptions) {
    const base = new RedisBase(opts);
    const settlement = new RedisSettlement(base);
    base.voidOnDataLoss = (w, reason) => settlement.voidPeriod(w, reason);
    super({
      life: base,
      settings: new RedisSettings(base),
      commits: new RedisCommits(base),
      bets: new RedisBets(base),
      results: new RedisResults(base),
      settlement,
      bus: new RedisBus(base),
      lease: new RedisLease(base),
      wallet: new RedisWallet(base),
    });
    this.base = base;
  }

  /** a worker thread opens its own connection, snapshots and saves the plan: no large reply on a main thread */
  computeSource(): ComputeSource {
    return 'worker';
  }

  // ---- for tools and tests ----

  /** the key names of this store (its prefix) */
  get keys(): Keys {
    return this.base.keys;
  }

  /** times this instance found the store inconsistent (metric) */
  get inconsistencies(): number {
    return this.base.inconsistencies;
  }

  /** the highest wallet ledger entry number this instance has seen (the data-loss check; tests) */
  get maxLedgerSeq(): number {
    return this.base.maxLedgerSeq;
  }

  /** WAIT calls sent for bets and credits (FIVED_REDIS_MIN_REPLICAS > 0; tests, bench:store) */
  get replicaWaits(): number {
    return this.base.replicas.waits;
  }

  /** The command connection (bench loader, inspect, tests). */
  get client(): Redis {
    return this.base.redis;
  }

  /** Evaluates the Lua liability bound (tests compare it with the TS one). */
  async luaLiabilityBound(netTotals: ArrayLike<number>, p: Paytable): Promise<number> {
    const args: ScriptArg[] = [p.number, p.bigSmall, p.oddEven, p.sumBigSmall, p.sumOddEven];
    for (let i = 0; i < PATTERN_COUNT; i++) args.push(netTotals[i] ?? 0);
    return Number(await this.base.op(() => this.base.script('fivedLiability', [], args)));
  }
}
