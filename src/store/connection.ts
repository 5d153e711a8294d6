// How a RedisStore reaches Redis: the ioredis options of its connections, from one StoreOptions.
// Every connection (commands, the bus subscriber, a worker's light store) is built here, so the
// credentials and TLS of FIVED_REDIS_URL reach them all, in direct and in Sentinel mode alike
// (issue 13; docs/operations.md, "Redis with a password and Sentinel").

import type { RedisOptions } from 'ioredis';
import type { StoreOptions } from './types.js';

/** The user, password, database and TLS of a redis:// or rediss:// URL. */
export interface RedisAuth {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  tls: boolean;
}

export function parseRedisUrl(url: string | undefined): RedisAuth {
  const u = new URL(url && url !== '' ? url : 'redis://127.0.0.1:6379');
  return {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 6379),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === 'rediss:',
  };
}

/**
 * Direct mode: the URL's host and port. Sentinel mode: the Sentinels find the primary (its host and
 * port in the URL are ignored); the URL's user, password, database and TLS go to the primary and
 * replicas, `sentinelPassword` (FIVED_REDIS_SENTINEL_PASSWORD) to the Sentinels, and rediss:// makes
 * both TLS connections.
 */
export function connectionOptions(o: StoreOptions, base: RedisOptions): RedisOptions {
  const a = parseRedisUrl(o.redisUrl);
  const auth: RedisOptions = {
    ...(a.username ? { username: a.username } : {}),
    ...(a.password ? { password: a.password } : {}),
    db: a.db,
  };
  if (o.sentinels && o.sentinels.length > 0) {
    return {
      ...base, ...auth,
      sentinels: o.sentinels.map((s) => ({ ...s })),
      name: o.sentinelName ?? 'mymaster',
      ...(o.sentinelPassword ? { sentinelPassword: o.sentinelPassword } : {}),
      ...(a.tls ? { tls: {}, enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
      // a Sentinel answering after a failover: ask again soon, not after ioredis's default backoff
      sentinelRetryStrategy: (times: number) => Math.min(100 * times, 1000),
      // a connection that finds itself on a demoted primary (READONLY) reconnects to the new one
      reconnectOnError: (err: Error) => (/READONLY/.test(err.message) ? 2 : false),
      failoverDetector: true,
    };
  }
  return { ...base, ...auth, host: a.host, port: a.port, ...(a.tls ? { tls: {} } : {}) };
}

/** Redis or a Sentinel refused the credentials (or the ACL user lacks a permission fived needs). */
export function isAuthError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return /WRONGPASS|NOAUTH|NOPERM|invalid password|invalid username-password|Authentication required/i.test(err.message);
}
