// The Redis of the chaos cluster, as production runs it (redis/fived-redis.conf, issue 13): the ACL
// user `fived` with a password (the default user off), appendonly yes + appendfsync always. With
// `sentinel`, three data nodes (a primary and two replicas, min-replicas-to-write 1) and three
// Sentinels with their own password (redis/fived-sentinel.conf), so the fault "primary killed,
// replica promoted" can be injected: fived runs in Sentinel mode with FIVED_REDIS_MIN_REPLICAS 1.

import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';

export const REDIS_USER = 'fived';
export const SENTINEL_NAME = 'mymaster';

/** The ACL lines of every Redis the chaos tools start: the user fived with `password`, the default
 *  user off (keeping its permissions for the AOF's replay; redis/fived-redis.conf). */
export function aclArgs(password: string): string[] {
  return ['--user', REDIS_USER, 'on', `>${password}`, '~*', '&*', '+@all', '--user', 'default', 'off', '~*', '&*', '+@all'];
}

export class RedisNodes {
  readonly password = randomBytes(12).toString('hex');
  readonly sentinelPassword = randomBytes(12).toString('hex');

  constructor(readonly sentinel: boolean) {}

  /** redis-server arguments of one data node (`replicaOf`: the primary's port for the replica's first start). */
  nodeArgs(port: number, dir: string, replicaOf?: number): string[] {
    return [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--daemonize', 'no',
      ...aclArgs(this.password),
      ...(this.sentinel ? ['--masteruser', REDIS_USER, '--masterauth', this.password, '--min-replicas-to-write', '1', '--min-replicas-max-lag', '10', '--repl-diskless-sync-delay', '0'] : []),
      ...(replicaOf ? ['--replicaof', '127.0.0.1', String(replicaOf)] : []),
    ];
  }

  /** Writes a Sentinel's config file (it rewrites it) and returns the redis-server arguments. */
  sentinelArgs(port: number, dir: string, primaryPort: number): string[] {
    mkdirSync(dir, { recursive: true });
    const conf = path.join(dir, 'sentinel.conf');
    writeFileSync(conf, [
      `port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, 'daemonize no',
      `requirepass ${this.sentinelPassword}`, `sentinel sentinel-pass ${this.sentinelPassword}`,
      `sentinel monitor ${SENTINEL_NAME} 127.0.0.1 ${primaryPort} 2`,
      `sentinel auth-user ${SENTINEL_NAME} ${REDIS_USER}`, `sentinel auth-pass ${SENTINEL_NAME} ${this.password}`,
      `sentinel down-after-milliseconds ${SENTINEL_NAME} 1000`, `sentinel failover-timeout ${SENTINEL_NAME} 3000`,
      `sentinel parallel-syncs ${SENTINEL_NAME} 1`, '',
    ].join('\n'), { mode: 0o600 });
    return [conf, '--sentinel'];
  }

  url(port: number): string {
    return `redis://${REDIS_USER}:${this.password}@${this.sentinel ? SENTINEL_NAME : `127.0.0.1:${port}`}`;
  }

  /** The primary's port as the first Sentinel that answers sees it. */
  async primaryPort(sentinelPorts: number[]): Promise<number | null> {
    for (const port of sentinelPorts) {
      const c = new Redis({ port, host: '127.0.0.1', password: this.sentinelPassword, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      c.on('error', () => undefined);
      try {
        await c.connect();
        const addr = (await c.call('SENTINEL', 'get-master-addr-by-name', SENTINEL_NAME)) as string[] | null;
        if (addr) return Number(addr[1]);
      } catch { /* the next one */ } finally { c.disconnect(); }
    }
    return null;
  }

  /** The node on `port` is a replica whose link to its primary is up. */
  async replicaInSync(port: number): Promise<boolean> {
    const c = new Redis({ port, host: '127.0.0.1', username: REDIS_USER, password: this.password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    c.on('error', () => undefined);
    try {
      await c.connect();
      return /master_link_status:up/.test(await c.info('replication'));
    } catch {
      return false;
    } finally {
      c.disconnect();
    }
  }
}
