// How a RedisStore reaches Redis: the ioredis options of its connections, from one StoreOptions.
// Every connection (commands, the bus subscriber, a worker's light store) is built here, so the
// credentials and TLS of FIVED_REDIS_URL reach them all, in direct and in Sentinel mode alike
// (issue 13; docs/operations.md, "Redis with a password and Sentinel").

import type { Redis, RedisOptions } from 'ioredis';
import { ErrorCode, FivedError, isFivedError } from '../errors.js';
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

/** The ioredis options of one of a store's connections: commands, the bet writer, the bus subscriber. */
export function roleOptions(o: StoreOptions, role: 'commands' | 'writer' | 'subscriber'): RedisOptions {
  const subscriber = role === 'subscriber';
  const base: RedisOptions = {
    lazyConnect: true,
    enableAutoPipelining: !subscriber,
    // a bet batch is already one command per event-loop turn: auto-pipelining it would only
    // wait for one more turn (ioredis defers its pipelines with setImmediate)
    autoPipeliningIgnoredCommands: ['fivedBetBatch'],
    // no unbounded queue: while Redis is down a call fails at once with E_STORE_UNAVAILABLE
    enableOfflineQueue: subscriber,
    maxRetriesPerRequest: subscriber ? null : 1,
    commandTimeout: subscriber ? undefined : (o.commandTimeoutMs ?? 5000),
    connectTimeout: 2000,
    retryStrategy: (times: number) => Math.min(50 * times, 1000),
    connectionName: `fived:${o.instance ?? process.pid}${subscriber ? ':sub' : role === 'writer' ? ':w' : ''}`,
  };
  return connectionOptions(o, base);
}

/** ioredis failures that mean "Redis is not reachable right now" rather than a bug. */
function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  // NOREPLICAS: the primary refuses writes while too few replicas are connected (min-replicas-to-write)
  if (err.name === 'ReplyError') return /LOADING|MASTERDOWN|READONLY|BUSY|NOREPLICAS/.test(err.message);
  return true; // closed/unwritable stream, timeouts, MaxRetriesPerRequestError, ECONNREFUSED, ...
}

/** One field of an INFO reply (`name:value` lines), or null. */
export function infoField(info: string, name: string): string | null {
  return new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim() ?? null;
}

/** ioredis's words for a connection that is gone name its options; players and operators read this. */
function plainReason(message: string): string {
  return /enableOfflineQueue|Connection is closed|Stream isn't writeable/i.test(message) ? 'no connection (it is re-established by itself)' : message;
}

/** A coded error for an ioredis failure. `lastConnError`: the connection's latest 'error' event (a
 *  refused AUTH shows only there; the command itself fails with "Connection is closed"). */
export function mapError(err: unknown, lastConnError: Error | null = null): FivedError {
  if (isFivedError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (isAuthError(err)) return authError(message);
  if (isConnectionError(err) && isAuthError(lastConnError)) return authError(lastConnError!.message);
  if (isConnectionError(err)) return new FivedError(ErrorCode.STORE_UNAVAILABLE, `redis unavailable: ${plainReason(message)}`);
  return new FivedError(ErrorCode.INTERNAL, `redis: ${message}`);
}

/** E_STORE_AUTH: what was refused, and the settings that give the credentials. */
function authError(message: string): FivedError {
  return new FivedError(ErrorCode.STORE_AUTH, `redis refused the credentials (${message}): check the user:password of FIVED_REDIS_URL and, with Sentinels, FIVED_REDIS_SENTINEL_PASSWORD`);
}

/** Connects (or waits for a connection under way); refused credentials end the wait at once (in
 *  Sentinel mode ioredis would otherwise retry for ever). */
export function connectOnce(r: Redis): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => { if (isAuthError(err)) { cleanup(); reject(err); } };
    const cleanup = () => r.off('error', onError);
    r.on('error', onError);
    const done = (p: Promise<unknown>) => p.then(() => { cleanup(); resolve(); }, (err: unknown) => { cleanup(); reject(err); });
    if (r.status === 'wait') done(r.connect());
    else if (r.status === 'ready') done(Promise.resolve());
    else done(new Promise<void>((res, rej) => {
      r.once('ready', res);
      r.once('end', () => rej(new Error('connection ended')));
    }));
  });
}

/**
 * Connects again a connection that ioredis ended by itself. ioredis ends a connection for good
 * (status 'end', every command "Connection is closed") when its connector throws while connecting;
 * in Sentinel mode the failover detector of the connection before a failover closes the connector
 * on +switch-master, and a reconnect then asking a Sentinel throws. A scheduler lost its store that
 * way in a failover test on a loaded machine (lease attempts failing for over a minute while the
 * gateways had long reconnected). Only the owner's own close (`closing()`) leaves it ended.
 */
export function keepConnected(r: Redis, closing: () => boolean, afterMs = 250): void {
  r.on('end', () => {
    if (closing()) return;
    console.error(JSON.stringify({ level: 'warn', msg: 'redis connection ended by the client library; connecting again', connection: r.options.connectionName, code: ErrorCode.STORE_UNAVAILABLE }));
    setTimeout(() => {
      if (!closing() && r.status === 'end') r.connect().catch(() => undefined); // ends again: 'end' again
    }, afterMs).unref();
  });
}

/** Closes a connection: QUIT when it is up, else a disconnect. */
export async function quit(r: Redis): Promise<void> {
  try {
    if (r.status === 'ready') await r.quit();
    else r.disconnect();
  } catch {
    r.disconnect();
  }
}

/** A Redis reply field as a number (missing: 0). */
export function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(v ?? 0);
}
