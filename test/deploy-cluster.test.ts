// scripts/cluster.sh: brings up Redis (appendonly, fsync always), two schedulers (active +
// standby), two gateways and HAProxy on free loopback ports; status reports them; a player through
// HAProxy gets results stored under the runbook key; one gateway can be killed and restarted; the
// standby scheduler takes over when the active one is killed; stop ends exactly those processes.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_BIN } from './support/fived.js';
import { REPO, freeConsecutivePorts, http, run, PlayerClient, waitUntil } from './support/deploy.js';
import { freePort } from './support/ports.js';

const SCRIPT = path.join(REPO, 'scripts/cluster.sh');
const ROOM = 'fiveD_4';

interface ClusterInfo {
  dir: string;
  lbPort: number;
  statsPort: number;
  operatorPort: number;
  gatewayPorts: number[];
  schedulerPorts: number[];
  redisUrl: string;
  ownRedis: boolean;
  pids: Record<string, number>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('scripts/cluster.sh', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fived-cluster-test-'));
  let env: NodeJS.ProcessEnv;
  let info: ClusterInfo;
  const startedPids = new Set<number>();
  const players: PlayerClient[] = [];

  const cluster = (...args: string[]) => run(SCRIPT, args, { env, timeoutMs: 120_000 });
  /** a setting `start` saved in cluster.env (generated ones included: the operator token, the seed key) */
  const saved = (name: string): string => {
    const m = new RegExp(`^${name}=(.*)$`, 'm').exec(readFileSync(path.join(dir, 'cluster.env'), 'utf8'));
    if (!m) throw new Error(`${name} is not in cluster.env`);
    return m[1]!;
  };
  const inspect = async (periodId: string) => {
    const r = await run(process.execPath, [CLI_BIN, 'inspect', ROOM, periodId], { env: { ...env, FIVED_REDIS_URL: info.redisUrl, FIVED_SEED_KEY: saved('FIVED_SEED_KEY') } });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { keys: Record<string, { value?: { tracking?: { instance?: string; source?: string } } }> };
    return doc.keys[`precalc_5d_result:fiveD:4:default:${periodId}`]?.value;
  };

  beforeAll(async () => {
    const gwBase = await freeConsecutivePorts(2);
    const schedBase = await freeConsecutivePorts(2, new Set([gwBase, gwBase + 1]));
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      FIVED_CLUSTER_DIR: dir,
      FIVED_GATEWAYS: '2',
      FIVED_SCHEDULERS: '2',
      FIVED_BASE_PORT: String(gwBase),
      FIVED_SCHEDULER_PORT: String(schedBase),
      FIVED_LB_PORT: String(await freePort()),
      FIVED_LB_STATS_PORT: String(await freePort()),
      FIVED_LB_OPERATOR_PORT: String(await freePort()),
      FIVED_REDIS_PORT: String(await freePort()),
      FIVED_DURATIONS: '4',
      FIVED_FREEZE_MS: '1500',
      FIVED_DRAIN_MS: '1500',
      FIVED_LEASE_TTL_MS: '1000',
      FIVED_READY_TIMEOUT_S: '40',
    };
  });

  afterAll(async () => {
    for (const p of players) p.close();
    await cluster('stop'); // idempotent: ends whatever is still recorded, by pid
    for (const pid of startedPids) if (alive(pid)) process.kill(pid, 'SIGKILL'); // only if stop failed
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts everything and says where to connect', async () => {
    const r = await cluster('start');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    info = JSON.parse(readFileSync(path.join(dir, 'cluster.json'), 'utf8')) as ClusterInfo;
    for (const pid of Object.values(info.pids)) startedPids.add(pid);
    expect(Object.keys(info.pids).sort()).toEqual(['gateway-1', 'gateway-2', 'haproxy', 'redis', 'scheduler-1', 'scheduler-2']);
    expect(r.stdout).toContain(`ws://127.0.0.1:${info.lbPort}/ws`);
    expect(r.stdout).toContain(`http://127.0.0.1:${info.statsPort}/`);
    expect(info.gatewayPorts).toEqual([Number(env.FIVED_BASE_PORT), Number(env.FIVED_BASE_PORT) + 1]);
    for (const port of info.gatewayPorts) expect((await http(port, 'GET', '/ready')).status).toBe(200);
    expect((await http(info.lbPort, 'GET', '/api/rooms')).body).toContain(ROOM); // the game settings passed through
  });

  it('generates and keeps a JWT secret (demo mode, its default) and an operator token of 32+ characters (issue 12, row 6)', async () => {
    const env = readFileSync(path.join(dir, 'cluster.env'), 'utf8');
    expect(env).toMatch(/^FIVED_DEMO=true$/m);
    expect(env).toMatch(/^FIVED_JWT_SECRET=[0-9a-f]{64}$/m);
    expect(env.match(/^FIVED_OPERATOR_TOKEN=(\S+)$/m)?.[1]?.length ?? 0).toBeGreaterThanOrEqual(32);
    expect(statSync(path.join(dir, 'cluster.env')).mode & 0o777).toBe(0o600);
    // demo sessions work through HAProxy with that secret
    expect((await http(info.lbPort, 'POST', '/api/demo/session', '{}')).status).toBe(200);
  });

  it('generates a seed key for the cluster and keeps it in its cluster.env (mode 0600)', () => {
    expect(saved('FIVED_SEED_KEY')).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(path.join(dir, 'cluster.env')).mode & 0o777).toBe(0o600);
  });

  it('runs its own Redis with the production durability settings', async () => {
    expect(info.ownRedis).toBe(true);
    const port = new URL(info.redisUrl).port;
    // with a password (issue 13): the URL carries the ACL user's; without it Redis refuses
    expect(new URL(info.redisUrl).username).toBe('fived');
    expect(new URL(info.redisUrl).password).toBe(saved('FIVED_CLUSTER_REDIS_PASSWORD'));
    expect((await run('redis-cli', ['-p', port, 'get', 'x'])).stdout).toMatch(/NOAUTH/);
    const cli = (...args: string[]) => run('redis-cli', ['--no-auth-warning', '-u', info.redisUrl, ...args]);
    const aof = await cli('config', 'get', 'appendonly');
    const fsync = await cli('config', 'get', 'appendfsync');
    expect(aof.stdout.split('\n')[1]).toBe('yes');
    expect(fsync.stdout.split('\n')[1]).toBe('always');
    const dirOf = await cli('config', 'get', 'dir');
    expect(dirOf.stdout.split('\n')[1]).toBe(path.join(dir, 'redis'));
  });

  it('reports every process in status and refuses a second start', async () => {
    const s = await cluster('status');
    expect(s.code).toBe(0);
    for (const name of ['redis', 'scheduler-1', 'scheduler-2', 'gateway-1', 'gateway-2', 'haproxy']) {
      expect(s.stdout).toMatch(new RegExp(`^${name}\\s+${info.pids[name]}\\s+running`, 'm'));
    }
    const again = await cluster('start');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already running');
    for (const pid of Object.values(info.pids)) expect(alive(pid)).toBe(true);
  });

  it('delivers results through HAProxy, stored under the runbook key', async () => {
    const p = new PlayerClient(`ws://127.0.0.1:${info.lbPort}/ws`, [ROOM]);
    players.push(p);
    p.connect();
    await p.until('a result', () => p.results.size > 0, 20_000);
    const [periodId, result] = [...p.results.entries()][0]!;
    const stored = await inspect(periodId);
    expect(stored).toMatchObject({ periodId, digits: result.digits, seed: result.seed });
  });

  it('kills one gateway and restarts it; the player stays served', async () => {
    const killed = await cluster('kill', 'gateway-1');
    expect(killed.code).toBe(0);
    expect(alive(info.pids['gateway-1']!)).toBe(false);
    const s = await cluster('status');
    expect(s.code).toBe(3);
    expect(s.stdout).toMatch(/^gateway-1\s+\d+\s+stopped/m);

    const r = await cluster('restart-gateway', '1');
    expect(r.code, r.stderr).toBe(0);
    const pid = Number((await cluster('pid', 'gateway-1')).stdout.trim());
    expect(pid).not.toBe(info.pids['gateway-1']);
    startedPids.add(pid);
    expect((await http(info.gatewayPorts[0]!, 'GET', '/ready')).status).toBe(200);
    expect((await cluster('status')).code).toBe(0);

    const p = players[0]!;
    const n = p.results.size;
    await p.until('a result after the restart', () => p.results.size > n, 20_000);
  });

  it('the standby scheduler takes over when the active one is killed', async () => {
    const p = players[0]!;
    const last = () => [...p.results.keys()].sort().at(-1)!;
    const active = (await inspect(last()))?.tracking;
    expect(active?.source).toBe('scheduler');
    const activeName = active!.instance!;
    expect(['scheduler-1', 'scheduler-2']).toContain(activeName);
    const k = await cluster('kill', activeName, 'KILL'); // a crash: the lease is not released
    expect(k.code).toBe(0);
    const from = BigInt(last());
    // a couple of periods later the other scheduler computes
    await p.until('two more results', () => BigInt(last()) >= from + 3n, 30_000);
    const later = (await inspect(last()))?.tracking;
    expect(later?.source).toBe('scheduler');
    expect(later?.instance).not.toBe(activeName);
  });

  it('stops exactly the processes it started', async () => {
    const pidsNow = Object.values((JSON.parse(readFileSync(path.join(dir, 'cluster.json'), 'utf8')) as ClusterInfo).pids);
    const r = await cluster('stop');
    expect(r.code).toBe(0);
    for (const pid of pidsNow) expect(alive(pid), `pid ${pid}`).toBe(false);
    const s = await cluster('status');
    expect(s.code).toBe(3);
    expect(s.stdout).not.toMatch(/running/);
    await waitUntil('HAProxy port closed', async () => ((await http(info.lbPort, 'GET', '/').catch(() => null)) === null ? true : undefined), 5_000);
  });
});
