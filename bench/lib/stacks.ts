// The three stacks the fan-out harness measures, started the same way behind the same HAProxy
// configuration: `gateway` (fived gateways + the fived scheduler + Redis), `peer` (the Socket.IO
// peer instances + the same scheduler writing the same result key + Redis) and `floor` (bare
// uWebSockets.js processes). Every process is started through the test harness (test/support/:
// its Redis, `fived`, HAProxy and process tracker) and stopped by pid.

import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import { roomName } from '../../src/core/ids.js';
import type { PeriodWindow } from '../../src/core/types.js';
import { REPO as repo, startFived, waitHttpOk } from '../../test/support/fived.js';
import { startHaproxyPool } from '../../test/support/haproxy.js';
import { freePort, waitForPort } from '../../test/support/ports.js';
import { raiseFdLimit, runOk, startProcess, whileAlive, type Proc } from '../../test/support/procs.js';
import { startRedis, type TestRedis } from '../../test/support/redis.js';
import { loadPeerBets } from '../peers/socketio/bets.js';
import type { Dialect } from './light-client.js';

export type StackName = 'gateway' | 'peer' | 'floor' | 'compat';

export interface StackOptions {
  name: StackName;
  dir: string;
  instances: number;
  duration: number; // s, the one room
  freezeMs: number;
  haproxyProcesses: number;
  haproxyMaxconn: number;
  format: 'binary' | 'text';
  log: (s: string) => void;
  /** false: no HAProxy, clients connect to the (single) instance itself (bench:scale) */
  haproxy?: boolean;
}

/** One server-side tick observation: its boundary and how late it was published (ms). */
export interface ServerTick { instance: number; boundary: number; lateMs: number }
/** One server-side result publication: timer fired/end → publish returned (ms) and its audience. */
export interface ServerResult {
  instance: number;
  periodId: string; // '' when only the scrape time is known (the gateway's histogram)
  at?: number; // the second boundary of the scrape that saw it
  publishMs: number;
  subscribers: number | null;
  note: string;
}
/** End → the last result frame of a period handed to the kernel on every socket of one server (issue 18). */
export interface ServerSent { instance: number; periodId: string; at?: number; sentMs: number }

export interface Stack {
  name: StackName;
  dialect: Dialect;
  /** compat: the token the clients send (one bench player) */
  token?: string;
  lbPort: number;
  instancePorts: number[];
  serverPids: number[];
  /** the HAProxy processes (their CPU is reported beside the servers') */
  haproxyPids: number[];
  /** starts polling server-side timings (the gateway: /metrics every second) */
  startObserving(): void;
  serverTicks(): Promise<ServerTick[]>;
  serverResults(): Promise<ServerResult[]>;
  serverSent(): Promise<ServerSent[]>;
  /** stop the scheduler so the next period's result must be computed by the stack itself */
  stopScheduler(): Promise<void>;
  /** bulk-load `count` bets into the period; resolves with the load time (ms) */
  loadBets(w: PeriodWindow, count: number): Promise<number>;
  stop(): Promise<void>;
}

/**
 * V8 flags the gateways run with (issue 18, docs/operations.md): a young generation of 8–32 MB
 * instead of V8's 1 MB start (a scavenge every ~15 s instead of every ~2 s at a gateway's
 * allocation rate, and so rarely in a tick's turn) and no memory reducer (its idle-time
 * Mark-Compacts paused the loop 5–30 ms). FIVED_BENCH_V8_FLAGS overrides them ("none": V8's defaults).
 */
export const GATEWAY_V8_FLAGS = ['--min-semi-space-size=8', '--max-semi-space-size=32', '--no-memory-reducer'];
function gatewayV8Flags(): string[] {
  const v = process.env.FIVED_BENCH_V8_FLAGS;
  if (v === undefined) return GATEWAY_V8_FLAGS;
  return v === 'none' ? [] : v.split(' ').filter((x) => x !== '');
}


/** FIVED_SEED_KEY of every process of a stack (seeds are stored in Redis only sealed under it) */
const SEED_KEY = randomBytes(32).toString('hex');
const COMPAT_SECRET = randomBytes(24).toString('hex');

/** The compat stack's player token (docs/socketio.md: an HS256 JWT with `userId`). */
async function compatToken(): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ userId: 1 }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(now).setExpirationTime(now + 6 * 3600).sign(new TextEncoder().encode(COMPAT_SECRET));
}

function fivedEnv(redisUrl: string, o: StackOptions, extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    FIVED_REDIS_URL: redisUrl,
    FIVED_SEED_KEY: SEED_KEY,
    FIVED_KEY_PREFIX: '',
    FIVED_DURATIONS: String(o.duration),
    FIVED_FREEZE_MS: String(o.freezeMs),
    FIVED_HOST: '127.0.0.1',
    FIVED_LOG_LEVEL: 'warn',
    FIVED_IDLE_TIMEOUT_S: '120',
    // thousands of clients from 127.0.0.1: per-address limits off (0)
    FIVED_MAX_CONNS_PER_IP: '0',
    FIVED_HTTP_RATE_PER_IP: '0',
    // the compat stack's clients are one player (one token): no per-user socket cap
    FIVED_JWT_SECRET: COMPAT_SECRET,
    FIVED_MAX_SOCKETS_PER_USER: '0',
    ...extra,
  };
}

/** The stack's Redis: no ACL user (no AUTH, as these figures were always measured), room for 10,000 clients. */
function startStackRedis(o: StackOptions): Promise<TestRedis> {
  return startRedis({ password: null, dir: o.dir, extraArgs: ['--maxclients', '10000'], raiseFdLimit: true });
}

async function startScheduler(redisUrl: string, o: StackOptions): Promise<Proc> {
  const port = await freePort();
  const t = startFived('scheduler', ['scheduler'], {
    env: fivedEnv(redisUrl, o, { FIVED_SCHEDULER_PORT: String(port), FIVED_INSTANCE: 'bench-scheduler' }),
    logFile: path.join(o.dir, 'scheduler.log'),
    group: true,
  });
  await whileAlive(t, waitForPort(port, '127.0.0.1', 60_000));
  return t;
}

// ---- Prometheus text: the sum, count and cumulative buckets of one histogram ----
export interface Hist { sum: number; count: number; buckets: Array<[number, number]> }

export function parseHistogram(text: string, name: string): Hist | null {
  let sum = NaN;
  let count = NaN;
  const buckets: Array<[number, number]> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (rest.startsWith('_sum')) sum = v;
    else if (rest.startsWith('_count')) count = v;
    else if (rest.startsWith('_bucket')) {
      const m = /le="([^"]+)"/.exec(rest);
      if (m) buckets.push([m[1] === '+Inf' ? Infinity : Number(m[1]), v]);
    }
  }
  return Number.isFinite(sum) && Number.isFinite(count) ? { sum, count, buckets } : null;
}

/**
 * What happened between two scrapes of a histogram: with one observation the exact value (from
 * the sum), with several the mean and an upper bound of the largest (the first bucket holding all).
 */
export function histogramDelta(a: Hist, b: Hist): { count: number; exact: number | null; maxBound: number } | null {
  const count = b.count - a.count;
  if (count <= 0) return null;
  const dsum = b.sum - a.sum;
  if (count === 1) return { count, exact: dsum, maxBound: dsum };
  let bound = Infinity;
  for (const [le, v] of b.buckets) {
    const before = a.buckets.find(([l]) => l === le)?.[1] ?? 0;
    if (v - before >= count) { bound = le; break; }
  }
  return { count, exact: null, maxBound: bound };
}

class MetricsPoller {
  private timer: NodeJS.Timeout | null = null;
  private last = new Map<string, Hist>();
  readonly ticks: ServerTick[] = [];
  readonly results: ServerResult[] = [];
  readonly sent: ServerSent[] = [];
  readonly subscribers = new Map<number, number>();

  constructor(private readonly ports: number[]) {}

  start(): void {
    const schedule = () => {
      const now = Date.now();
      // half-way between boundaries: the tick of this second is published, the next is not yet
      let at = Math.floor(now / 1000) * 1000 + 500;
      if (at <= now) at += 1000;
      this.timer = setTimeout(() => void this.poll(at - 500).finally(schedule), at - now);
    };
    schedule();
  }

  private async poll(boundary: number): Promise<void> {
    await Promise.all(this.ports.map(async (port, i) => {
      let text: string;
      try {
        const r = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) });
        text = await r.text();
      } catch {
        return;
      }
      const subs = /^fived_gateway_subscriptions\{[^}]*\} (\d+)/m.exec(text);
      if (subs) this.subscribers.set(i, Number(subs[1]));
      const kinds = [['fived_gateway_tick_lateness_seconds', 'tick'], ['fived_gateway_result_delivery_lag_seconds', 'result'], ['fived_gateway_result_sent_seconds', 'sent']] as const;
      for (const [metric, kind] of kinds) {
        const h = parseHistogram(text, metric);
        if (!h) continue;
        const key = `${i}:${kind}`;
        const prev = this.last.get(key);
        this.last.set(key, h);
        if (!prev) continue;
        const d = histogramDelta(prev, h);
        if (!d) continue;
        const ms = (d.exact ?? d.maxBound) * 1000;
        if (kind === 'tick') this.ticks.push({ instance: i, boundary, lateMs: ms });
        else if (kind === 'sent') this.sent.push({ instance: i, periodId: '', at: boundary, sentMs: ms });
        else this.results.push({ instance: i, periodId: '', at: boundary, publishMs: ms, subscribers: this.subscribers.get(i) ?? null, note: d.exact === null ? 'bucket bound' : 'exact' });
      }
    }));
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

export async function startStack(o: StackOptions): Promise<Stack> {
  const procs: Array<{ stop(): Promise<unknown> }> = [];
  const stopAllOf = async () => {
    for (const t of [...procs].reverse()) await t.stop();
  };
  try {
    return await build(o, procs, stopAllOf);
  } catch (err) {
    await stopAllOf();
    throw err;
  }
}

async function build(o: StackOptions, procs: Array<{ stop(): Promise<unknown> }>, stopAllOf: () => Promise<void>): Promise<Stack> {
  const lbPort = await freePort();
  const instancePorts: number[] = [];
  for (let i = 0; i < o.instances; i++) instancePorts.push(await freePort());
  let scheduler: Proc | null = null;
  let redisUrl = '';
  const servers: Proc[] = [];

  if (o.name !== 'floor') {
    const redis = await startStackRedis(o);
    procs.push(redis);
    redisUrl = redis.url;
    scheduler = await startScheduler(redisUrl, o);
    procs.push(scheduler);
  }
  for (let i = 0; i < o.instances; i++) {
    const port = instancePorts[i]!;
    let t: Proc;
    if (o.name === 'gateway' || o.name === 'compat') {
      // FIVED_BENCH_NODE_ARGS: extra node flags for the gateways (e.g. --trace-gc, --cpu-prof) to explain a stall
      const nodeArgs = (process.env.FIVED_BENCH_NODE_ARGS ?? '').split(' ').filter((x) => x !== '');
      t = startFived(`gateway-${i}`, ['gateway'], {
        nodeArgs: [...gatewayV8Flags(), ...nodeArgs], raiseFdLimit: true, group: true,
        env: fivedEnv(redisUrl, o, { FIVED_PORT: String(port), FIVED_INSTANCE: `bench-gw-${i}` }), logFile: path.join(o.dir, `gateway-${i}.log`),
      });
    } else if (o.name === 'peer') {
      const [c, a] = raiseFdLimit(process.execPath, ['--import', 'tsx', path.join(repo, 'bench/peers/socketio/server.ts')]);
      t = startProcess(`peer-${i}`, c, a, { env: fivedEnv(redisUrl, o, { PEER_PORT: String(port), PEER_INSTANCE: `bench-peer-${i}` }), logFile: path.join(o.dir, `peer-${i}.log`), group: true });
    } else {
      const [c, a] = raiseFdLimit(process.execPath, ['--import', 'tsx', path.join(repo, 'bench/peers/floor/server.ts')]);
      t = startProcess(`floor-${i}`, c, a, {
        env: { ...process.env, FLOOR_PORT: String(port), FIVED_DURATIONS: String(o.duration), FIVED_FREEZE_MS: String(o.freezeMs), FLOOR_FORMAT: o.format },
        logFile: path.join(o.dir, `floor-${i}.log`), group: true,
      });
    }
    procs.push(t);
    servers.push(t);
  }
  const health = o.name === 'peer' ? '/api/rooms' : '/ready';
  for (let i = 0; i < o.instances; i++) {
    await waitHttpOk(servers[i]!, instancePorts[i]!, health, 60_000);
  }
  const direct = o.haproxy === false;
  const haproxy = direct ? [] : await startHaproxyPool({ port: lbPort, servers: instancePorts, healthPath: health, dir: o.dir, maxconn: o.haproxyMaxconn, processes: o.haproxyProcesses });
  procs.push(...haproxy);
  o.log(`${o.name}: ${o.instances} instance(s) on ${instancePorts.join(',')}, ${direct ? 'no HAProxy' : `HAProxy ×${o.haproxyProcesses} on ${lbPort}`}${redisUrl ? `, ${redisUrl}` : ''}`);

  const poller = o.name === 'gateway' || o.name === 'compat' ? new MetricsPoller(instancePorts) : null;
  const statsOf = async () =>
    Promise.all(instancePorts.map(async (port) => {
      const r = await fetch(`http://127.0.0.1:${port}${o.name === 'peer' ? '/bench/stats' : '/stats'}`, { signal: AbortSignal.timeout(10_000) });
      return (await r.json()) as {
        ticks: Array<{ boundary: number; lateMs: number }>;
        results: Array<{ periodId: string; lateMs: number; publishMs?: number; emitMs?: number; subscribers?: number; sockets?: number; source?: string; sentMs?: number }>;
      };
    }));

  return {
    name: o.name,
    dialect: o.name === 'peer' ? 'sio' : o.name === 'compat' ? 'compat' : 'fived',
    ...(o.name === 'compat' ? { token: await compatToken() } : {}),
    lbPort: direct ? instancePorts[0]! : lbPort,
    instancePorts,
    serverPids: servers.map((s) => s.pid),
    haproxyPids: haproxy.map((h) => h.pid),
    startObserving: () => poller?.start(),
    async serverTicks() {
      if (poller) return poller.ticks;
      const all = await statsOf();
      return all.flatMap((s, i) => s.ticks.map((t) => ({ instance: i, boundary: t.boundary, lateMs: t.lateMs })));
    },
    async serverResults() {
      if (poller) return poller.results;
      const all = await statsOf();
      // timer fired → publish returned: the floor's publish time; the peer's emit time (its
      // lateness before the emit is the Redis read, or the fallback when there is one)
      return all.flatMap((s, i) => s.results.map((r) => ({
        instance: i, periodId: r.periodId, publishMs: (r.publishMs ?? r.emitMs ?? NaN), subscribers: r.subscribers ?? r.sockets ?? null,
        note: r.source ? `${r.source}; end→emit ${Math.round(r.lateMs)} ms` : 'publish',
      })));
    },
    async serverSent() {
      if (poller) return poller.sent;
      const all = await statsOf();
      return all.flatMap((s, i) => s.results.filter((r) => typeof r.sentMs === 'number').map((r) => ({ instance: i, periodId: r.periodId, sentMs: r.sentMs! })));
    },
    async stopScheduler() {
      if (scheduler) {
        await scheduler.stop();
        scheduler = null;
      }
    },
    async loadBets(w, count) {
      const t0 = Date.now();
      if (o.name === 'gateway' || o.name === 'compat') {
        await runOk(process.execPath, ['--import', 'tsx', path.join(repo, 'bench/load-bets.ts'), roomName(w.duration), w.periodId, String(count)], { env: fivedEnv(redisUrl, o, {}), cwd: repo });
      } else if (o.name === 'peer') {
        const redis = new Redis(redisUrl);
        try { await loadPeerBets(redis, '', w, count); } finally { redis.disconnect(); }
      }
      return Date.now() - t0;
    },
    async stop() {
      poller?.stop();
      await stopAllOf();
    },
  };
}
