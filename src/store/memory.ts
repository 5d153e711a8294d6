// MemoryStore: the Store in-process — the embedded default of a single process (`npm start`).
// Same behaviour and codes as RedisStore (one contract suite runs against both): each concern's
// memory implementation (src/store/<concern>/memory.ts) over one shared state (base/memory.ts),
// put together by AssembledStore.

import { AssembledStore } from './assemble.js';
import { MemState } from './base/memory.js';
import { MemBets } from './bets/memory.js';
import { MemBus } from './bus/memory.js';
import { MemCommits } from './commits/memory.js';
import { MemLease } from './lease/memory.js';
import { MemResults } from './results/memory.js';
import { MemSettings } from './settings/memory.js';
import { MemSettlement } from './settlement/memory.js';
import type { ComputeSource, StoreOptions } from './types.js';
import { MemWallet } from './wallet/memory.js';

export class MemoryStore extends AssembledStore {
  readonly kind = 'memory' as const;
  readonly label = 'the store';
  /** the state every concern shares: what tests edit by hand, as they edit Redis through RedisStore.client */
  readonly state: MemState;

  /** `clock`: the store's own clock (Redis has TIME); tests inject one. */
  constructor(opts: StoreOptions = {}, clock: () => number = Date.now) {
    const s = new MemState(opts, clock);
    super({
      life: s,
      settings: new MemSettings(s),
      commits: new MemCommits(s),
      bets: new MemBets(s),
      results: new MemResults(s),
      settlement: new MemSettlement(s),
      bus: new MemBus(s),
      lease: new MemLease(s),
      wallet: new MemWallet(s),
    });
    this.state = s;
  }

  /** the bets live in this process: the caller snapshots them and transfers the records to the worker */
  computeSource(): ComputeSource {
    return 'caller';
  }
}
