// Opening a store: Redis when a URL or sentinels are given, else the in-memory store (the embedded
// default of a single process). Both are put together from their concerns by assemble.ts.
import { MemoryStore } from './memory.js';
import { RedisStore } from './redis.js';
import type { Store, StoreOptions } from './types.js';

export { CHANNELS, Keys, periodMember, parsePeriodMember, runbookName } from './keys.js';
export { MemoryStore } from './memory.js';
export { RedisStore } from './redis.js';
export type * from './types.js';

export function usesRedis(opts: StoreOptions): boolean {
  return Boolean(opts.redisUrl) || Boolean(opts.sentinels && opts.sentinels.length > 0);
}

export function createStore(opts: StoreOptions): Store {
  return usesRedis(opts) ? new RedisStore(opts) : new MemoryStore(opts);
}
