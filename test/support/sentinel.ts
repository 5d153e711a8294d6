// A Redis primary with replicas and three redis-sentinel processes of the test's own, on loopback
// free ports, all with passwords: the data nodes have the ACL user `fived` (test/support/redis.ts),
// the replicas log in to the primary as it (masteruser/masterauth), the Sentinels require their own
// password (requirepass, and sentinel-pass among themselves) and reach the data nodes with
// auth-user/auth-pass. Exactly these processes are stopped, by pid. The commands are the ones
// docs/operations.md ("Redis with a password and Sentinel") gives an operator.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort, waitForPort } from './ports.js';
import type { Proc } from './procs.js';
import { spawnRedisServer, startRedis, TEST_REDIS_USER, type TestRedis } from './redis.js';

export const SENTINEL_NAME = 'mymaster';

export interface TestSentinels {
  ports: number[];
  password: string;
  /** FIVED_REDIS_SENTINELS */
  list: string;
  stop(): Promise<void>;
  /** the primary's port as the Sentinels see it now */
  primaryPort(): Promise<number>;
}

/**
 * The replication link of one replica, through a TCP relay of the test's own: `hold()` stops passing
 * the primary's stream on (the replica stays connected and keeps acknowledging its old offset, as
 * a replica behind a slow network does), and `cut()` drops the connection with whatever it held —
 * what a primary's host that dies takes with it. On loopback otherwise nothing is ever lost: the
 * kernel delivers a killed process's socket buffers.
 */
export interface ReplicationLink {
  hold(): void;
  cut(): void;
}

export interface TestReplicaSet {
  primary: TestRedis;
  replicas: TestRedis[];
  /** the replicas' links to the first primary (the Sentinels later connect nodes directly) */
  links: ReplicationLink[];
  sentinels: TestSentinels;
  /** redis://fived:PASSWORD@mymaster (in Sentinel mode the host is ignored; user, password and TLS count) */
  url: string;
  password: string;
  stop(): Promise<void>;
}

/** What every data node runs with: a replica of a primary that needs the user and password, and the
 *  write safety of redis/fived-redis.conf (refuse writes while no replica is connected). */
export function nodeArgs(password: string, minReplicasToWrite: number): string[] {
  return [
    '--masteruser', TEST_REDIS_USER, '--masterauth', password,
    '--min-replicas-to-write', String(minReplicasToWrite), '--min-replicas-max-lag', '10',
    '--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0',
  ];
}

export async function startReplicaSet(opts: { replicas?: number; downAfterMs?: number; failoverTimeoutMs?: number; minReplicasToWrite?: number } = {}): Promise<TestReplicaSet> {
  const password = randomBytes(12).toString('hex');
  const min = opts.minReplicasToWrite ?? 1;
  const primary = await startRedis({ password, extraArgs: nodeArgs(password, min) });
  const replicas: TestRedis[] = [];
  const links: Array<ReplicationLink & { port: number }> = [];
  let sentinels: TestSentinels;
  try {
    for (let i = 0; i < (opts.replicas ?? 1); i++) {
      const link = await startLink(primary.port);
      links.push(link);
      replicas.push(await startRedis({ password, extraArgs: [...nodeArgs(password, min), '--replicaof', '127.0.0.1', String(link.port)] }));
    }
    for (const r of replicas) await waitForSync(r);
    sentinels = await startSentinels(primary.port, password, 3, opts);
  } catch (err) {
    for (const l of links) l.cut();
    await Promise.all([primary, ...replicas].map((r) => r.stop())); // nothing of a failed start stays behind
    throw err;
  }
  const all = [primary, ...replicas];
  return {
    primary, replicas, sentinels, password,
    url: `redis://${TEST_REDIS_USER}:${password}@${SENTINEL_NAME}`,
    links,
    stop: async () => { await sentinels.stop(); for (const l of links) l.cut(); await Promise.all(all.map((r) => r.stop())); },
  };
}

/** A relay on a free loopback port to the primary on `target` (see ReplicationLink). */
async function startLink(target: number): Promise<ReplicationLink & { port: number }> {
  const port = await freePort();
  const sockets = new Set<net.Socket>();
  let held = false;
  const server = net.createServer((down) => {
    const up = net.connect(target, '127.0.0.1');
    sockets.add(down).add(up);
    // no Nagle delay: a replica's REPLCONF ACK is a few bytes, and a WAIT waits for it
    for (const s of [down, up]) s.setNoDelay(true).on('error', () => undefined).on('close', () => { down.destroy(); up.destroy(); });
    down.on('data', (d: Buffer) => up.write(d)); // the replica's commands and ACKs always pass
    up.on('data', (d: Buffer) => { if (!held) down.write(d); }); // the stream: dropped while held
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return {
    port,
    hold: () => { held = true; },
    cut: () => { for (const s of sockets) s.destroy(); server.close(); },
  };
}

/** Resolves when the replica reports its link to the primary up. */
export async function waitForSync(r: TestRedis, timeoutMs = 20_000): Promise<void> {
  const c = new Redis(r.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await c.connect();
    const deadline = Date.now() + timeoutMs;
    while (!/master_link_status:up/.test(await c.info('replication'))) {
      if (Date.now() > deadline) throw new Error(`replica on ${r.port} did not sync within ${timeoutMs} ms`);
      await new Promise((res) => setTimeout(res, 50));
    }
  } finally {
    c.disconnect();
  }
}

/** Three Sentinel processes watching the primary on `primaryPort`. */
export async function startSentinels(primaryPort: number, password: string, n: number, opts: { downAfterMs?: number; failoverTimeoutMs?: number } = {}): Promise<TestSentinels> {
  const spass = randomBytes(12).toString('hex');
  const procs: Proc[] = [];
  const dirs: string[] = [];
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const port = await freePort();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fived-sentinel-'));
    const conf = writeSentinelConf({ port, dir, primaryPort, password, sentinelPassword: spass, log: true, ...opts });
    procs.push(spawnSentinel(`sentinel-${port}`, conf));
    dirs.push(dir);
    ports.push(port);
    await waitForPort(port);
  }
  const ask = async (): Promise<number> => {
    for (const port of ports) {
      const c = new Redis({ port, host: '127.0.0.1', password: spass, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
      try {
        await c.connect();
        const addr = (await c.call('SENTINEL', 'get-master-addr-by-name', SENTINEL_NAME)) as string[] | null;
        if (addr) return Number(addr[1]);
      } catch { /* next one */ } finally { c.disconnect(); }
    }
    throw new Error('no Sentinel answered');
  };
  return {
    ports, password: spass, list: ports.map((p) => `127.0.0.1:${p}`).join(','),
    primaryPort: ask,
    stop: async () => {
      await Promise.all(procs.map((p) => p.stop(60_000)));
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

/**
 * Writes the config file of one Sentinel into `dir` (the Sentinel rewrites it: it records what it
 * learns, so each has a file of its own) and returns its path. The lines are those of
 * docs/operations.md: its own password, the data nodes' user and password, the primary to watch.
 */
export function writeSentinelConf(o: { port: number; dir: string; primaryPort: number; password: string; sentinelPassword: string; downAfterMs?: number; failoverTimeoutMs?: number; log?: boolean }): string {
  mkdirSync(o.dir, { recursive: true });
  const conf = path.join(o.dir, 'sentinel.conf');
  writeFileSync(conf, [
    `port ${o.port}`, 'bind 127.0.0.1', `dir ${o.dir}`, ...(o.log ? [`logfile ${path.join(o.dir, 'sentinel.log')}`] : []), 'daemonize no',
    `requirepass ${o.sentinelPassword}`, `sentinel sentinel-pass ${o.sentinelPassword}`,
    `sentinel monitor ${SENTINEL_NAME} 127.0.0.1 ${o.primaryPort} 2`,
    `sentinel auth-user ${SENTINEL_NAME} ${TEST_REDIS_USER}`, `sentinel auth-pass ${SENTINEL_NAME} ${o.password}`,
    `sentinel down-after-milliseconds ${SENTINEL_NAME} ${o.downAfterMs ?? 1000}`,
    `sentinel failover-timeout ${SENTINEL_NAME} ${o.failoverTimeoutMs ?? 5000}`,
    `sentinel parallel-syncs ${SENTINEL_NAME} 1`, '',
  ].join('\n'), { mode: 0o600 });
  return conf;
}

/** A Sentinel on `conf`: `redis-sentinel CONF` is `redis-server CONF --sentinel` (Debian ships the
 *  former only in the redis-sentinel package; the binary is the same). */
export function spawnSentinel(name: string, conf: string, logFile?: string): Proc {
  return spawnRedisServer(name, [conf, '--sentinel'], logFile === undefined ? {} : { logFile });
}
