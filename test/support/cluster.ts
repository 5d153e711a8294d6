// The local cluster of the chaos run and the soak, started by the driver itself with the same
// commands as scripts/cluster.sh (Redis with appendonly yes + appendfsync always, `fived
// scheduler|gateway`, haproxy from scripts/haproxy-config.sh) — because the driver needs what
// cluster.sh does not offer: a clock offset on ONE gateway (FIVED_CLOCK_OFFSET_MS per process),
// and restarting a killed process with exactly its own settings while the others keep running.
// Every process is remembered by pid and stopped by pid (stop()).

import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { StoreOptions } from '../../src/store/types.js';
import { REPO, startFived } from './fived.js';
import { spawnHaproxy } from './haproxy.js';
import { freePort, portOpen } from './ports.js';
import { httpRequest, waitFor, type Proc } from './procs.js';
import { RedisNodes } from './redis-nodes.js';
import { spawnRedisServer } from './redis.js';
import { spawnSentinel } from './sentinel.js';

export { REPO } from './fived.js';

export interface ClusterOptions {
  dir: string;
  gateways: number;
  schedulers: number;
  durations: number[];
  freezeMs: number;
  /** FIVED_CLOCK_OFFSET_MS per gateway index (missing = 0) */
  clockOffsets?: number[];
  maxClockSkewMs?: number;
  jwtSecret: string;
  operatorToken: string;
  /** more FIVED_* settings for every fived process */
  env?: Record<string, string>;
  /** more settings for one gateway (by index) */
  gatewayEnv?: Array<Record<string, string> | undefined>;
  haproxy?: boolean;
  /** HAProxy's global connection limit (default 4000; needs 2 descriptors per connection) */
  maxconn?: number;
  /** a primary, a replica and three Sentinels; fived in Sentinel mode (issue 13) */
  sentinel?: boolean;
}

export interface Member {
  name: string;
  kind: 'redis' | 'sentinel' | 'scheduler' | 'gateway' | 'haproxy';
  port: number;
  proc: Proc | null;
  /** how many times it was started */
  starts: number;
}

export class ChaosCluster {
  redisPort = 0;
  lbPort = 0;
  statsPort = 0;
  readonly members: Member[] = [];
  /** exits nobody asked for: name → exit info */
  readonly unexpectedExits: Array<{ name: string; at: number; code: number | null; signal: string | null }> = [];
  private readonly expected = new Set<number>(); // pids we killed or stopped on purpose
  /** FIVED_SEED_KEY of every process of this cluster (seeds are stored in Redis only sealed under it) */
  readonly seedKey = randomBytes(32).toString('hex');

  /** the Redis nodes' users and passwords (and the Sentinels') */
  readonly nodes: RedisNodes;

  constructor(readonly o: ClusterOptions) {
    this.nodes = new RedisNodes(o.sentinel === true);
  }

  get redisUrl(): string {
    return this.nodes.url(this.redisPort);
  }

  /** What a RedisStore of the driver opens (the checker's reads). */
  storeOptions(): StoreOptions {
    return { redisUrl: this.redisUrl, ...(this.o.sentinel ? { sentinels: this.sentinelPorts().map((port) => ({ host: '127.0.0.1', port })), sentinelPassword: this.nodes.sentinelPassword } : {}) };
  }

  sentinelPorts(): number[] {
    return this.members.filter((m) => m.kind === 'sentinel').map((m) => m.port);
  }

  /** The data nodes (redis, and redis-2 and redis-3 in Sentinel mode). */
  redisNodes(): Member[] {
    return this.members.filter((m) => m.kind === 'redis');
  }

  member(name: string): Member {
    const m = this.members.find((x) => x.name === name);
    if (!m) throw new Error(`no member ${name}`);
    return m;
  }

  gateways(): Member[] {
    return this.members.filter((m) => m.kind === 'gateway');
  }

  schedulers(): Member[] {
    return this.members.filter((m) => m.kind === 'scheduler');
  }

  private baseEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('FIVED_')) env[k] = v;
    return {
      ...env,
      FIVED_REDIS_URL: this.redisUrl,
      ...(this.o.sentinel ? { FIVED_REDIS_SENTINELS: this.sentinelPorts().map((p) => `127.0.0.1:${p}`).join(','), FIVED_REDIS_SENTINEL_PASSWORD: this.nodes.sentinelPassword } : {}),
      FIVED_DURATIONS: this.o.durations.join(','),
      FIVED_FREEZE_MS: String(this.o.freezeMs),
      FIVED_JWT_SECRET: this.o.jwtSecret,
      FIVED_OPERATOR_TOKEN: this.o.operatorToken,
      FIVED_SEED_KEY: this.seedKey,
      FIVED_MAX_CLOCK_SKEW_MS: String(this.o.maxClockSkewMs ?? 250),
      FIVED_HOST: '127.0.0.1',
      FIVED_LOG_LEVEL: 'info',
      // every client of a run (fleet, watchers, soak pool) comes from 127.0.0.1 through HAProxy:
      // per-address limits off (HAProxy's stick tables too: haproxy-config.sh --ip-limits off);
      // a fleet player may place more than 100 bets in a long room: no per-period count cap
      FIVED_MAX_CONNS_PER_IP: '0',
      FIVED_HTTP_RATE_PER_IP: '0',
      FIVED_MAX_BETS_PER_PERIOD: '0',
      ...this.o.env,
    };
  }

  async start(): Promise<void> {
    mkdirSync(path.join(this.o.dir, 'logs'), { recursive: true });
    this.redisPort = await freePort();
    this.members.push({ name: 'redis', kind: 'redis', port: this.redisPort, proc: null, starts: 0 });
    if (this.o.sentinel) {
      // two replicas, as docs/operations.md advises: after a failover the new primary still has one,
      // so min-replicas-to-write 1 lets writes resume as soon as it is promoted
      for (const n of ['redis-2', 'redis-3']) this.members.push({ name: n, kind: 'redis', port: await freePort(), proc: null, starts: 0 });
      for (let i = 1; i <= 3; i++) this.members.push({ name: `sentinel-${i}`, kind: 'sentinel', port: await freePort(), proc: null, starts: 0 });
    }
    for (let i = 1; i <= this.o.schedulers; i++) this.members.push({ name: `scheduler-${i}`, kind: 'scheduler', port: await freePort(), proc: null, starts: 0 });
    for (let i = 1; i <= this.o.gateways; i++) this.members.push({ name: `gateway-${i}`, kind: 'gateway', port: await freePort(), proc: null, starts: 0 });
    await this.launch('redis');
    if (this.o.sentinel) {
      for (const n of ['redis-2', 'redis-3']) {
        await this.launch(n);
        if (!(await waitFor(() => this.nodes.replicaInSync(this.member(n).port), 30_000, 100))) throw new Error(`${n} did not sync with the primary`);
      }
      for (const m of this.members.filter((x) => x.kind === 'sentinel')) await this.launch(m.name);
    }
    for (const s of this.schedulers()) await this.launch(s.name);
    await Promise.all(this.gateways().map((g) => this.launch(g.name)));
    if (this.o.haproxy !== false) {
      this.lbPort = await freePort();
      this.statsPort = await freePort();
      this.members.push({ name: 'haproxy', kind: 'haproxy', port: this.lbPort, proc: null, starts: 0 });
      await this.launch('haproxy');
    }
  }

  /** Starts (or starts again) one member with its own settings and waits until it serves. A
   *  process that exits while starting is tried again (twice): dist/ may be mid-rebuild. */
  async launch(name: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.launchOnce(name);
      } catch (err) {
        const m = this.member(name);
        if (attempt >= 3 || m.proc?.alive()) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private async launchOnce(name: string): Promise<void> {
    const m = this.member(name);
    if (m.proc?.alive()) throw new Error(`${name} is still running (pid ${m.proc.pid})`);
    const log = path.join(this.o.dir, 'logs', `${name}.log`);
    let proc: Proc;
    if (m.kind === 'redis') {
      const dataDir = path.join(this.o.dir, name);
      mkdirSync(dataDir, { recursive: true });
      // redis-2 and redis-3 start as replicas; at a restart either node comes back as it was started and
      // the Sentinels reconfigure it (a former primary becomes the new primary's replica)
      const replicaOf = name === 'redis' ? undefined : this.redisPort;
      proc = spawnRedisServer(name, this.nodes.nodeArgs(m.port, dataDir, replicaOf), { logFile: log });
    } else if (m.kind === 'sentinel') {
      proc = spawnSentinel(name, this.nodes.sentinelConf(m.port, path.join(this.o.dir, name), this.redisPort), log);
    } else if (m.kind === 'scheduler') {
      proc = startFived(name, ['scheduler'], { logFile: log, env: { ...this.baseEnv(), FIVED_INSTANCE: name, FIVED_SCHEDULER_PORT: String(m.port) } });
    } else if (m.kind === 'gateway') {
      const i = Number(name.split('-')[1]) - 1;
      const offset = this.o.clockOffsets?.[i] ?? 0;
      proc = startFived(name, ['gateway'], {
        logFile: log,
        env: { ...this.baseEnv(), FIVED_INSTANCE: name, FIVED_PORT: String(m.port), FIVED_CLOCK_OFFSET_MS: String(offset), ...(this.o.gatewayEnv?.[i] ?? {}) },
      });
    } else {
      const cfgFile = path.join(this.o.dir, 'haproxy.cfg');
      const servers = this.gateways().map((g) => `127.0.0.1:${g.port}`);
      execFileSync(path.join(REPO, 'scripts', 'haproxy-config.sh'), [
        '-o', cfgFile, '--bind', `127.0.0.1:${this.lbPort}`, '--stats', `127.0.0.1:${this.statsPort}`, '--stats-socket', path.join(this.o.dir, 'haproxy.sock'),
        '--operator', 'none', '--log', 'stdout', '--check-inter', '500', '--slowstart', '1s', '--maxconn', String(this.o.maxconn ?? 4000), '--conns-per-ip', '0', '--http-rate-per-ip', '0', ...servers,
      ]);
      proc = spawnHaproxy(name, cfgFile, { logFile: log });
    }
    m.proc = proc;
    m.starts += 1;
    let starting = true;
    void proc.exited.then((e) => {
      // an exit while starting is retried by launch(); after that, nobody asked for it
      if (!starting && !this.expected.has(proc.pid)) this.unexpectedExits.push({ name, at: Date.now(), code: e.code, signal: e.signal });
    });
    const ok = await waitFor(async () => {
      if (!proc.alive()) return true;
      return this.serving(m);
    }, 30_000, 100);
    if (!proc.alive()) throw new Error(`${name} exited while starting; see ${log}`);
    if (!ok) {
      this.expected.add(proc.pid);
      await proc.stop(2000);
      throw new Error(`${name} did not become ready within 30 s; see ${log}`);
    }
    starting = false;
  }

  async serving(m: Member): Promise<boolean> {
    switch (m.kind) {
      case 'redis': case 'sentinel': return portOpen(m.port);
      case 'scheduler': return (await httpRequest(m.port, '/health', { timeoutMs: 1000 })).status === 200;
      case 'gateway': return (await httpRequest(m.port, '/ready', { timeoutMs: 1000 })).status === 200;
      case 'haproxy': return (await httpRequest(m.port, '/api/time', { timeoutMs: 1000 })).status === 200;
    }
  }

  /** Sends a signal on purpose (the exit it causes is not "unexpected"); kill waits for the exit. */
  async signal(name: string, sig: NodeJS.Signals): Promise<number> {
    const m = this.member(name);
    const p = m.proc;
    if (!p?.alive()) throw new Error(`${name} is not running`);
    if (sig === 'SIGKILL' || sig === 'SIGTERM') this.expected.add(p.pid);
    p.signal(sig);
    if (sig === 'SIGKILL' || sig === 'SIGTERM') await p.exited;
    return p.pid;
  }

  /** The scheduler whose /ready says role=active (null when none answers as active). */
  async activeScheduler(): Promise<Member | null> {
    for (const s of this.schedulers()) {
      if (!s.proc?.alive()) continue;
      const r = await httpRequest(s.port, '/ready', { timeoutMs: 800 });
      try {
        if ((JSON.parse(r.body) as { role?: string }).role === 'active') return s;
      } catch { /* not answering */ }
    }
    return null;
  }

  async stop(): Promise<void> {
    const order = ['haproxy', 'gateway', 'scheduler', 'sentinel', 'redis'];
    for (const kind of order) {
      await Promise.all(this.members.filter((m) => m.kind === kind && m.proc).map(async (m) => {
        this.expected.add(m.proc!.pid);
        await m.proc!.stop(kind === 'gateway' ? 4000 : 3000);
      }));
    }
  }
}
