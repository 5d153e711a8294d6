// Issue 13, releases and rollback, on the local cluster (scripts/cluster.sh) run from a release
// tree: scripts/install-systemd.sh --release installs two releases side by side (PREFIX/releases/
// <version>, PREFIX/current), `fived --version`, /health and fived_build_info name the running one;
// scripts/rollout.sh drains and restarts one gateway at a time through HAProxy's admin socket
// while HTTP clients and WebSocket players betting keep going: no failed HTTP request, no missed
// result, every acknowledged bet settled exactly once; --rollback brings the previous one back.
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DEMO_BALANCE } from '../src/gateway/api.js';
import { RedisStore } from '../src/store/redis.js';
import { CLI_BIN_REL } from './support/fived.js';
import { REPO, freeConsecutivePorts, http, run, serverStates } from './support/deploy.js';
import { freePort } from './support/ports.js';

const CLUSTER = path.join(REPO, 'scripts/cluster.sh');
const INSTALL = path.join(REPO, 'scripts/install-systemd.sh');
const ROLLOUT = path.join(REPO, 'scripts/rollout.sh');
const ROOM = 'fiveD_4';
const V1 = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const V2 = `${V1}-rollout.2`;

interface Info { lbPort: number; gatewayPorts: number[]; schedulerPorts: number[]; redisUrl: string; haproxySocket: string }

/** A player through HAProxy that bets on every period it sees open, reconnects after any close
 *  (subscribing with `since`), and records acknowledgements and results. */
class Bettor {
  readonly acked = new Map<string, { periodId: string; amount: number; at: number }>(); // clientBetId → bet
  readonly results = new Set<string>();
  readonly refused: string[] = [];
  private ws: WebSocket | null = null;
  private closing = false;
  readonly betOn = new Set<string>(); // periods it sent a bet for
  private betting = true;
  private pending = new Map<string, { msg: string; freezeAt: number }>(); // sent, not yet answered
  private n = 0;

  constructor(private readonly url: string, private readonly token: string, readonly userId: string) {}

  connect(): void {
    const ws = new WebSocket(this.url, ['fived', `fived.jwt.${this.token}`]);
    this.ws = ws;
    ws.on('open', () => {
      const last = [...this.results].sort().at(-1);
      ws.send(JSON.stringify({ type: 'subscribe', rooms: [ROOM], ...(last ? { since: { [ROOM]: last } } : {}) }));
      // a bet whose answer was lost with the old socket: the same clientBetId again (idempotent)
      for (const [id, p] of this.pending) if (Date.now() < p.freezeAt - 700) ws.send(p.msg); else this.pending.delete(id);
    });
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(String(data)) as Record<string, unknown> & { type: string };
      if (m.type === 'hello') {
        const room = (m.rooms as Array<Record<string, unknown>>).find((r) => r.room === ROOM);
        if (room) this.maybeBet(room.periodId as string, room.freezeAt as number, room.commitment as string | null);
      } else if (m.type === 'period' && m.room === ROOM) this.maybeBet(m.periodId as string, m.freezeAt as number, m.commitment as string | null);
      else if (m.type === 'result' && m.room === ROOM) this.results.add(m.periodId as string);
      else if (m.type === 'recovery') for (const r of m.results as Array<{ periodId: string }>) this.results.add(r.periodId);
      else if (m.type === 'bet_ack') {
        this.acked.set(m.clientBetId as string, { periodId: m.periodId as string, amount: m.amount as number, at: Date.now() });
        this.pending.delete(m.clientBetId as string);
      } else if (m.type === 'error' && typeof m.id === 'string') {
        this.refused.push(String(m.code));
        for (const [id, p] of this.pending) if (p.msg.includes(`"id":"${m.id}"`)) this.pending.delete(id);
      }
    });
    ws.on('error', () => undefined);
    ws.on('close', () => {
      if (!this.closing) setTimeout(() => this.connect(), 100);
    });
  }

  private maybeBet(periodId: string, freezeAt: number, commitment: string | null): void {
    if (!this.betting || !commitment || this.betOn.has(periodId) || Date.now() > freezeAt - 700) return;
    this.betOn.add(periodId);
    for (const [i, [kind, pick]] of ([['SUM', 'big'], ['SUM', 'odd'], ['A', 7]] as const).entries()) {
      this.n += 1;
      const clientBetId = `${this.userId}-${periodId}-${i}`;
      const msg = JSON.stringify({ type: 'bet', id: `r${this.n}`, room: ROOM, periodId, kind, pick, amount: 100 + i, clientBetId });
      this.pending.set(clientBetId, { msg, freezeAt });
      if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(msg);
    }
  }

  stopBetting(): void {
    this.betting = false;
  }

  close(): void {
    this.closing = true;
    this.ws?.terminate();
  }
}

/** GET loops on `paths` through HAProxy, a pause between requests (below the per-address limits:
 *  every client here is 127.0.0.1) until stop(); every answer but a 200 is a failure. */
function httpLoad(port: number, paths: string[]): { stop(): Promise<{ requests: number; failures: string[] }> } {
  const failures: string[] = [];
  let requests = 0;
  let loading = true;
  const loop = async (p: string) => {
    while (loading) {
      try {
        const r = await http(port, 'GET', p);
        requests += 1;
        if (r.status !== 200) failures.push(`${p} ${r.status} ${r.body.slice(0, 120)}`);
      } catch (err) {
        failures.push(`${p} ${String(err)}`);
      }
      await new Promise((r) => setTimeout(r, 40));
    }
  };
  const loops = paths.map(loop);
  return {
    stop: async () => {
      loading = false;
      await Promise.all(loops);
      return { requests, failures };
    },
  };
}

async function until(what: string, ok: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** No missed result: the player has every period from its first to its last one. */
function expectNoGap(b: Bettor): void {
  const ids = [...b.results].map(BigInt).sort((x, y) => (x < y ? -1 : 1));
  for (let i = 1; i < ids.length; i++) expect(ids[i]! - ids[i - 1]!, `${b.userId} after ${ids[i - 1]}`).toBe(1n);
  expect(ids.length).toBeGreaterThan(4);
}

/** No lost bet: every acknowledged one is in the store, settled (won or lost: no period voided by
 *  the rollout), and the balance is the demo credit minus the stakes plus the payouts (a payout
 *  applied twice would break it). */
async function expectSettled(store: RedisStore, b: Bettor): Promise<void> {
  let records = await store.userBets(b.userId, undefined, 1000);
  const deadline = Date.now() + 20_000; // the end of the last period + the settlement grace
  while (records.some((x) => x.state === 'pending') && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    records = await store.userBets(b.userId, undefined, 1000);
  }
  const byId = new Map(records.map((x) => [x.clientBetId, x]));
  for (const [id] of b.acked) expect(byId.has(id), `${id} acknowledged but not in the store`).toBe(true);
  for (const x of records) {
    const rec = x.state === 'won' || x.state === 'lost' ? null : await store.getPeriod({ duration: x.duration, timeline: x.timeline, periodId: x.periodId });
    expect(['won', 'lost'], `${x.clientBetId}: ${x.state} ${JSON.stringify(rec)}`).toContain(x.state);
  }
  const staked = records.reduce((sum, x) => sum + x.amount, 0);
  const paid = records.reduce((sum, x) => sum + x.payout, 0);
  expect(await store.balance(b.userId)).toBe(DEMO_BALANCE - staked + paid);
}

describe('releases side by side and a rolling restart under load', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'fived-rollout-'));
  const root = path.join(tmp, 'root');
  const prefix = path.join(root, 'opt/fived');
  const dir = path.join(tmp, 'cluster');
  let env: NodeJS.ProcessEnv;
  let info: Info;
  const bettors: Bettor[] = [];

  const cluster = (...args: string[]) => run(CLUSTER, args, { env, timeoutMs: 120_000 });
  const health = async (port: number) => JSON.parse((await http(port, 'GET', '/health')).body) as { version: string; startedAt: number };
  const rollout = (...args: string[]) => run(ROLLOUT, ['--prefix', prefix, '--socket', info.haproxySocket, '--restart', `${CLUSTER} restart-port {port}`,
    '--scheduler', `${CLUSTER} restart scheduler-1`, '--scheduler', `${CLUSTER} restart scheduler-2`, '--timeout', '60', ...args], { env, timeoutMs: 240_000 });

  beforeAll(async () => {
    const install = (...args: string[]) => run(INSTALL, ['--root', root, '--release', '--hardlink', '--gateways', '2', '--node', process.execPath, ...args]);
    const a = await install();
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    // a second release: the same code under another version
    const b = path.join(tmp, 'b');
    expect((await run('cp', ['-al', path.join(prefix, 'releases', V1), b])).code).toBe(0);
    unlinkSync(path.join(b, 'package.json'));
    writeFileSync(path.join(b, 'package.json'), JSON.stringify({ ...JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')), version: V2 }, null, 2));
    const r2 = await install('--from', b, '--no-switch');
    expect(r2.code, r2.stderr).toBe(0);

    const gwBase = await freeConsecutivePorts(2);
    const schedBase = await freeConsecutivePorts(2, new Set([gwBase, gwBase + 1]));
    env = {
      PATH: process.env.PATH, HOME: process.env.HOME, FIVED_CLUSTER_DIR: dir, FIVED_APP_DIR: path.join(prefix, 'current'),
      FIVED_GATEWAYS: '2', FIVED_SCHEDULERS: '2', FIVED_BASE_PORT: String(gwBase), FIVED_SCHEDULER_PORT: String(schedBase),
      FIVED_LB_PORT: String(await freePort()), FIVED_LB_STATS_PORT: String(await freePort()), FIVED_LB_OPERATOR_PORT: '0',
      FIVED_REDIS_PORT: String(await freePort()), FIVED_DURATIONS: '4', FIVED_FREEZE_MS: '1500', FIVED_DRAIN_MS: '1500',
      FIVED_LEASE_TTL_MS: '1000', FIVED_READY_TIMEOUT_S: '60',
    };
    const s = await cluster('start');
    expect(s.code, s.stderr).toBe(0);
    info = JSON.parse(readFileSync(path.join(dir, 'cluster.json'), 'utf8')) as Info;
  }, 180_000);

  afterAll(async () => {
    for (const b of bettors) b.close();
    await cluster('stop');
    // the processes' logs stay in test-artifacts/ (gitignored) for a failure's diagnosis
    rmSync(path.join(REPO, 'test-artifacts/rollout-logs'), { recursive: true, force: true });
    await run('cp', ['-r', path.join(dir, 'logs'), path.join(REPO, 'test-artifacts/rollout-logs')]);
    rmSync(tmp, { recursive: true, force: true });
  });

  it('installs releases beside each other and refuses to overwrite one', async () => {
    expect(readlinkSync(path.join(prefix, 'current'))).toBe(`releases/${V1}`);
    const again = await run(INSTALL, ['--root', root, '--release', '--hardlink', '--node', process.execPath]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`release ${V1} is already installed`);
    const notBuilt = await run(INSTALL, ['--root', root, '--release', '--from', path.join(tmp, 'nothing-here'), '--node', process.execPath]);
    expect(notBuilt.code).toBe(2);
    expect(notBuilt.stderr).toContain('is not a built fived app');
    const unit = readFileSync(path.join(root, 'etc/systemd/system/fived-gateway@.service'), 'utf8');
    expect(unit).toContain(`ExecStart=${process.execPath} /opt/fived/current/${CLI_BIN_REL} gateway`);
    expect(unit).toContain('WorkingDirectory=/opt/fived/current');
  });

  it('names the running release: fived --version, /health and fived_build_info', async () => {
    const v = await run(process.execPath, [path.join(prefix, 'current', CLI_BIN_REL), '--version']);
    expect(v.stdout).toBe(`fived ${V1}\n`);
    expect((await run(process.execPath, [path.join(prefix, 'releases', V2, CLI_BIN_REL), '--version'])).stdout).toBe(`fived ${V2}\n`);
    for (const port of info.gatewayPorts) {
      expect((await health(port)).version).toBe(V1);
      expect((await http(port, 'GET', '/metrics')).body).toContain(`fived_build_info{version="${V1}"} 1`);
    }
    for (const port of info.schedulerPorts) {
      expect((await health(port)).version).toBe(V1);
      expect((await http(port, 'GET', '/metrics')).body).toContain(`fived_build_info{version="${V1}"} 1`);
    }
  });

  it('rolls every gateway and scheduler to the new release under load: no failed request, no missed result, no lost bet', async () => {
    const lb = `ws://127.0.0.1:${info.lbPort}/ws?format=json`;
    for (let i = 0; i < 6; i++) {
      const s = JSON.parse((await http(info.lbPort, 'POST', '/api/demo/session', '{}', { 'content-type': 'application/json' })).body) as { token: string; userId: string; balance: number };
      const b = new Bettor(lb, s.token, s.userId);
      bettors.push(b);
      b.connect();
    }
    const load = httpLoad(info.lbPort, ['/api/rooms', '/api/time']);
    await until('every player acknowledged once', () => bettors.every((b) => b.acked.size >= 1), 30_000);

    const before = await Promise.all(info.gatewayPorts.map(health));
    const rollStart = Date.now();
    const r = await rollout('--to', V2);
    const rollEnd = Date.now();
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('done: every gateway restarted and UP');
    expect(readlinkSync(path.join(prefix, 'current'))).toBe(`releases/${V2}`);
    expect(readlinkSync(path.join(prefix, 'previous'))).toBe(`releases/${V1}`);
    for (const [i, port] of info.gatewayPorts.entries()) {
      const h = await health(port);
      expect(h.version).toBe(V2);
      expect(h.startedAt).not.toBe(before[i]!.startedAt);
    }
    for (const port of info.schedulerPorts) expect((await health(port)).version).toBe(V2);
    expect(Object.values(await serverStates(info.haproxySocket, 'fived_gateways'))).toEqual(['UP', 'UP']);

    // a couple more periods of play on the new release, then everything acknowledged must settle
    const acksAfter = bettors.map((b) => b.acked.size);
    await until('bets after the rollout', () => bettors.every((b, i) => b.acked.size > acksAfter[i]!), 30_000);
    // enough periods in the run for the no-gap check to mean something, however fast the rollout went
    await until('five results seen by every player', () => bettors.every((b) => b.results.size > 4), 30_000);
    const { requests, failures } = await load.stop();
    for (const b of bettors) b.stopBetting();
    const lastPeriod = bettors.flatMap((b) => [...b.betOn]).sort().at(-1)!;
    await until('every player saw the last betting period end', () => bettors.every((b) => b.results.has(lastPeriod)), 30_000);

    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThan(50);
    mkdirSync(path.join(REPO, 'test-artifacts'), { recursive: true });
    const acks = bettors.reduce((n, b) => n + b.acked.size, 0);
    const duringRollout = bettors.reduce((n, b) => n + [...b.acked.values()].filter((a) => a.at >= rollStart && a.at <= rollEnd).length, 0);
    expect(duringRollout).toBeGreaterThan(0); // bets kept being taken while gateways restarted
    writeFileSync(path.join(REPO, 'test-artifacts/rollout-summary.json'), JSON.stringify({ rolloutMs: rollEnd - rollStart, httpRequests: requests, httpFailures: failures.length, acknowledgedBets: acks, acknowledgedDuringRollout: duringRollout, refused: bettors.flatMap((b) => b.refused), results: bettors.map((b) => b.results.size) }));
    for (const b of bettors) expectNoGap(b);
    const seedKey = /^FIVED_SEED_KEY=(.*)$/m.exec(readFileSync(path.join(dir, 'cluster.env'), 'utf8'))![1]!;
    const store = new RedisStore({ redisUrl: info.redisUrl, seedKey, light: true });
    await store.init();
    try {
      for (const b of bettors) await expectSettled(store, b);
    } finally {
      await store.close();
    }
  }, 300_000);

  it('refuses bad usage with exit 2 and changes nothing', async () => {
    for (const args of [['--to', V2, '--rollback'], ['--timeout', 'soon'], ['--bogus'], ['--to', '../etc']]) {
      const r = await run(ROLLOUT, ['--prefix', prefix, '--socket', info.haproxySocket, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^rollout: /);
    }
    const missing = await run(ROLLOUT, ['--prefix', prefix, '--socket', info.haproxySocket, '--to', '9.9.9']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no release at');
    expect(readlinkSync(path.join(prefix, 'current'))).toBe(`releases/${V2}`);
  });

  it('--rollback points current back at the previous release and rolls it out', async () => {
    const r = await rollout('--rollback');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(readlinkSync(path.join(prefix, 'current'))).toBe(`releases/${V1}`);
    expect(readlinkSync(path.join(prefix, 'previous'))).toBe(`releases/${V2}`);
    for (const port of [...info.gatewayPorts, ...info.schedulerPorts]) expect((await health(port)).version).toBe(V1);
  }, 240_000);
});
