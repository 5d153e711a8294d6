// The Redis of the chaos cluster, as production runs it (redis/fived-redis.conf, issue 13): the ACL
// user `fived` with a password (the default user off), appendonly yes + appendfsync always. With
// `sentinel`, three data nodes (a primary and two replicas, min-replicas-to-write 1) and three
// Sentinels with their own password (redis/fived-sentinel.conf), so the fault "primary killed,
// replica promoted" can be injected: fived runs in Sentinel mode with FIVED_REDIS_MIN_REPLICAS 1.

import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { aclArgs, TEST_REDIS_USER as REDIS_USER } from './redis.js';
import { nodeArgs, SENTINEL_NAME, writeSentinelConf } from './sentinel.js';

export class RedisNodes {
  readonly password = randomBytes(12).toString('hex');
  readonly sentinelPassword = randomBytes(12).toString('hex');

  constructor(readonly sentinel: boolean) {}

  /** redis-server arguments of one data node (`replicaOf`: the primary's port for the replica's first start). */
  nodeArgs(port: number, dir: string, replicaOf?: number): string[] {
    return [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--daemonize', 'no',
      ...aclArgs(this.password),
      ...(this.sentinel ? nodeArgs(this.password, 1) : []),
      ...(replicaOf ? ['--replicaof', '127.0.0.1', String(replicaOf)] : []),
    ];
  }

  /** Writes a Sentinel's config file (it rewrites it) and returns its path. */
  sentinelConf(port: number, dir: string, primaryPort: number): string {
    return writeSentinelConf({ port, dir, primaryPort, password: this.password, sentinelPassword: this.sentinelPassword, failoverTimeoutMs: 3000 });
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
