// Construction of the compute pool and of the store options a worker uses to open its own
// connection, from the one Config.

import type { Config } from '../config.js';
import type { StoreOptions } from '../store/types.js';
import { ComputePool } from '../worker/pool.js';

export function storeOptionsOf(cfg: Pick<Config, 'redisUrl' | 'redisSentinels' | 'redisSentinelName' | 'keyPrefix' | 'instance' | 'maxBalance'> & Partial<Pick<Config, 'seedKey' | 'seedKeysRetired' | 'redisSentinelPassword' | 'redisMinReplicas' | 'redisWaitTimeoutMs'>>): StoreOptions {
  return {
    redisUrl: cfg.redisUrl,
    maxBalance: cfg.maxBalance,
    ...(cfg.redisSentinels.length > 0 ? { sentinels: [...cfg.redisSentinels], sentinelName: cfg.redisSentinelName } : {}),
    ...(cfg.redisSentinelPassword ? { sentinelPassword: cfg.redisSentinelPassword } : {}),
    ...(cfg.redisMinReplicas ? { minReplicas: cfg.redisMinReplicas } : {}),
    ...(cfg.redisWaitTimeoutMs ? { waitTimeoutMs: cfg.redisWaitTimeoutMs } : {}),
    keyPrefix: cfg.keyPrefix,
    instance: cfg.instance,
    ...(cfg.seedKey ? { seedKey: cfg.seedKey } : {}),
    ...(cfg.seedKeysRetired && cfg.seedKeysRetired.length > 0 ? { seedKeysRetired: [...cfg.seedKeysRetired] } : {}),
  };
}

/** What a worker thread opens its store with: no seed keys (it gets the unsealed seed in its task), */
export function workerStoreOptions(o: StoreOptions): StoreOptions {
  // nor a writer connection of its own: a worker places no bet and credits nobody (issue 13)
  const { seedKey: _k, seedKeysRetired: _r, minReplicas: _m, waitTimeoutMs: _w, ...rest } = o;
  return rest;
}

/** A warm pool of `threads` (default cfg.poolThreads) threads. */
export async function createPool(cfg: Pick<Config, 'poolThreads' | 'poolNice'>, threads: number = cfg.poolThreads): Promise<ComputePool> {
  const pool = new ComputePool({ threads, maxQueue: 64, nice: cfg.poolNice });
  await pool.warm();
  return pool;
}
