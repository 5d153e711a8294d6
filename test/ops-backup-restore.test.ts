// Issue 13, item 5: `fived backup DIR` and the restore drill. A scheduler and a gateway run on
// their own Redis (appendonly yes, appendfsync always, as in production); players bet; a backup is
// taken in the middle of an open period; more bets and a deposit follow; then Redis is killed and
// the backup put in place with scripts/restore-redis.sh and Redis started again. The running
// instances detect the older data (counters went backwards), void the open period with refunds,
// and the balances equal the backup's plus those refunds: what happened after the backup is gone.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { periodMember } from '../src/store/keys.js';
import { RedisStore } from '../src/store/redis.js';
import { Client, credit, gatewayEnv, startGatewayProc, token, type GatewayProc } from './support/gateway.js';
import { REPO, run, runFived, waitUntil } from './support/deploy.js';
import { startRedis, testPrefix, TEST_SEED_KEY, type TestRedis } from './support/redis.js';
import { requireBuild, spawnScheduler, type SchedulerProc } from './support/scheduler.js';

const GAME = { FIVED_DURATIONS: '30', FIVED_FREEZE_MS: '2000' };
const ROOM = 'fiveD_30';

let redis: TestRedis;
let prefix: string;
let scheduler: SchedulerProc;
let gw: GatewayProc;
let store: RedisStore;
let backups: string;
const clients: Client[] = [];

const toolEnv = () => ({ FIVED_REDIS_URL: redis.url, FIVED_KEY_PREFIX: prefix, ...GAME });

beforeAll(async () => {
  requireBuild();
  redis = await startRedis({ persistent: true });
  prefix = testPrefix('backup');
  backups = mkdtempSync(path.join(os.tmpdir(), 'fived-backups-'));
  scheduler = spawnScheduler('sched-backup', { FIVED_REDIS_URL: redis.url, FIVED_KEY_PREFIX: prefix, FIVED_SEED_KEY: TEST_SEED_KEY, ...GAME });
  await scheduler.waitFor((l) => /Lease acquired/.test(l.msg), 20_000, 'the lease');
  gw = await startGatewayProc(gatewayEnv(redis.url, prefix, GAME));
  store = new RedisStore({ redisUrl: redis.url, keyPrefix: prefix, instance: 'test', light: true, seedKey: TEST_SEED_KEY });
  await store.init();
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await gw?.stop();
  await scheduler?.stop();
  await store?.close();
  await redis?.stop();
  rmSync(backups, { recursive: true, force: true });
});

async function player(user: string): Promise<Client> {
  const c = await Client.connect(gw.port, { token: await token(user) });
  clients.push(c);
  await c.next((m) => m.type === 'hello');
  c.send({ type: 'subscribe', rooms: [ROOM] });
  return c;
}

describe('fived backup', () => {
  it('refuses bad arguments and runs only on Redis', async () => {
    for (const [args, re] of [[['backup'], /missing argument/], [['backup', backups, '--remot'], /unknown option --remot/], [['backup', 'a', 'b'], /unexpected argument "b"/]] as const) {
      const r = await runFived([...args], toolEnv());
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(re);
    }
    const memory = await runFived(['backup', backups], {});
    expect(memory.code).toBe(1);
    expect(memory.stderr).toMatch(/FIVED_REDIS_URL/);
  });

  it('refuses a DIR it cannot write, before any snapshot: one coded error, nothing taken', async () => {
    const lastsave = await store.client.lastsave();
    const file = path.join(backups, 'a-file');
    writeFileSync(file, '');
    // /proc/self/x: fs.mkdir's recursive mode never returned there (the command hung)
    for (const [dir, why] of [[path.join(file, 'x'), `${file} is not a directory`], [file, `${file} is not a directory`], ['/proc/self/x', 'ENOENT'], ['/proc', 'ENOENT']] as const) {
      const r = await runFived(['backup', dir], toolEnv(), 20_000);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`E_BAD_REQUEST: cannot write backups to ${dir}: `);
      expect(r.stderr).toContain(why);
      expect(r.stdout).toBe('');
    }
    expect(await store.client.lastsave()).toBe(lastsave);
    rmSync(file);
  });

  it('restore drill: an older backup is detected, open periods are voided with refunds, later activity is gone', async () => {
    for (const u of ['alice', 'bob']) await credit(gw, u, 10_000);
    const alice = await player('alice');
    const bob = await player('bob');
    // a committed period with at least 20 s of betting left
    const p = await alice.next((m) => m.type === 'period' && m.room === ROOM && (m.freezeAt as number) - Date.now() > 20_000, 70_000, 0);
    const periodId = p.periodId as string;
    const ref = { duration: 30, timeline: 'default', periodId };
    for (const [c, id, kind, pick, amount] of [[alice, 'a1', 'SUM', 'big', 100], [bob, 'b1', 'A', 3, 200]] as const) {
      const ack = await c.request({ type: 'bet', room: ROOM, periodId, kind, pick, amount, clientBetId: id });
      expect(ack.type, JSON.stringify(ack)).toBe('bet_ack');
    }

    const b = await runFived(['backup', backups], toolEnv(), 60_000);
    expect(b.code, b.stderr).toBe(0);
    const out = JSON.parse(b.stdout);
    const manifest = JSON.parse(readFileSync(out.manifest, 'utf8'));
    expect(manifest.snapshot).toMatchObject({ method: 'bgsave-copy', exact: true });
    expect(manifest.file.sha256).toBe(createHash('sha256').update(readFileSync(out.rdb)).digest('hex'));
    expect(readFileSync(out.rdb).subarray(0, 5).toString()).toBe('REDIS');
    expect(manifest.balances).toEqual({ users: 2, total: 19_700 });
    expect(manifest.counters).toMatchObject({ deposits: 20_000, withdrawals: 0, stakes: 300, payouts: 0, refunds: 0, ledgerSeq: 4 }); // two deposits, two stakes
    expect(manifest.counters.schedulerEpoch).toBeGreaterThanOrEqual(1);
    expect(manifest.generation).toBe(await store.client.get(`${prefix}store:generation`));
    expect(manifest.unfinishedPeriods.map((x: { period: string }) => x.period)).toContain(periodMember(ref));
    expect(manifest.keys.byKind['period:meta']).toBeGreaterThanOrEqual(1);
    expect(manifest.keys.byKind['wallet:balances']).toBe(1);

    // the fallback for a Redis on another host: the file fetched over the connection
    const remote = await runFived(['backup', path.join(backups, 'remote'), '--remote'], toolEnv(), 60_000);
    expect(remote.code, remote.stderr).toBe(0);
    const rm = JSON.parse(readFileSync(JSON.parse(remote.stdout).manifest, 'utf8'));
    expect(rm.snapshot).toMatchObject({ method: 'redis-cli-rdb', exact: false });
    expect(readFileSync(JSON.parse(remote.stdout).rdb).subarray(0, 5).toString()).toBe('REDIS');

    // after the backup: another bet and a deposit (journaled in the AOF, lost by the restore)
    const late = await alice.request({ type: 'bet', room: ROOM, periodId, kind: 'A', pick: 1, amount: 300, clientBetId: 'a2' });
    expect(late.type).toBe('bet_ack');
    await credit(gw, 'carol', 5000);
    expect(await store.balance('alice')).toBe(9600);

    // the restore steps: stop Redis, put the snapshot in place (the script), start Redis
    await redis.kill();
    const r = await run('bash', [path.join(REPO, 'scripts/restore-redis.sh'), '--manifest', out.manifest, '--dir', redis.dir]);
    expect(r.code).toBe(2); // appendonly yes: a bare RDB would be ignored; the script says so
    expect(r.stderr).toMatch(/pass --aof/);
    const ok = await run('bash', [path.join(REPO, 'scripts/restore-redis.sh'), '--manifest', out.manifest, '--dir', redis.dir, '--aof', 'appendonly.aof']);
    expect(ok.code, ok.stderr).toBe(0);
    await redis.restart();

    // detected by the running gateway: the open period is voided, its bets (those in the backup) refunded
    const v = await alice.next((m) => m.type === 'void' && m.periodId === periodId, 20_000, 0).catch((e: Error) => {
      throw new Error(`${e.message}\ngateway log:\n${gw.output().slice(-3000)}`);
    });
    expect(String(v.reason)).toMatch(/store data lost/);
    expect(gw.output()).toMatch(/store inconsistent/);
    await waitUntil('the refunds', async () => ((await store.balance('bob')) === 10_000 ? true : undefined), 20_000, 200);
    expect(await store.balance('alice')).toBe(10_000); // 9,900 in the backup + the 100 refunded
    expect(await store.balance('carol')).toBe(0); // the deposit after the backup is gone
    const bets = await store.userBets('alice', ref);
    expect(bets.map((x) => [x.clientBetId, x.state])).toEqual([['a1', 'refunded']]); // a2 is gone
    const totals = await store.walletTotals();
    expect(totals.balances).toBe(manifest.balances.total + 300);
    expect(totals.balanced).toBe(true);
  }, 150_000);
});
