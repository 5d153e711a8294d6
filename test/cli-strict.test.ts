// The operator command lines (issue 12, row 11), run as operators run them: `fived …` (the built CLI)
// (dist/) against a redis-server of this file's own. Every flag is parsed strictly: an unknown or
// misspelled one is an error that does nothing; `fived credit` requires --id, so a retried credit
// pays once. Also FIVED_MAX_BALANCE at the command line, and `fived wallet` showing held credits.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { periodAt } from '../src/core/clock.js';
import { RedisStore } from '../src/store/redis.js';
import { startRedis, testPrefix, TEST_SEED_KEY, type TestRedis } from './support/redis.js';
import { LIMITS, PAY, openPeriod } from './support/store-harness.js';
import { runFived } from './support/deploy.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');


let redis: TestRedis;
const fived = runFived;

/** `tsx bench/load-bets.ts …`: the bench's bulk loader, which was `fived load-bets`. */
function loadBetsScript(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const argv = ['--import', 'tsx', path.join(REPO, 'bench', 'load-bets.ts'), ...args];
  const opts = { cwd: REPO, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', FIVED_LOG_LEVEL: 'silent', ...env }, timeout: 30_000 };
  return new Promise((resolve) => {
    execFile(process.execPath, argv, opts, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}
const stores: RedisStore[] = [];


/** Every key under a prefix with its dump: proves a refused command wrote nothing. */
async function keysOf(prefix: string): Promise<string> {
  const s = await storeFor(prefix);
  const keys = (await s.client.keys(`${prefix}*`)).sort();
  const out: string[] = [];
  for (const k of keys) out.push(`${k}=${(await s.client.dumpBuffer(k))?.toString('hex') ?? 'nil'}`);
  return out.join('\n');
}

async function storeFor(prefix: string, maxBalance?: number): Promise<RedisStore> {
  const s = new RedisStore({ redisUrl: redis.url, keyPrefix: prefix, instance: 'cli-test', light: true, seedKey: TEST_SEED_KEY, ...(maxBalance ? { maxBalance } : {}) });
  await s.init();
  stores.push(s);
  return s;
}

beforeAll(async () => {
  if (!existsSync(path.join(REPO, 'dist', 'commands', 'credit.js'))) throw new Error('dist/ is missing: run npm run build first');
  redis = await startRedis();
});
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await redis?.stop();
});

describe('strict command lines against a real Redis', () => {
  it('row 11: `fived credit USER AMOUNT` without --id fails and changes nothing', async () => {
    const prefix = testPrefix('cli');
    const env = { FIVED_REDIS_URL: redis.url, FIVED_KEY_PREFIX: prefix };
    const r = await fived(['credit', 'alice', '500'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--id is required/);
    expect(r.stderr).toContain('usage: fived credit USER AMOUNT --id DEPOSIT_ID');
    expect(r.stdout).toBe('');
    expect(await keysOf(prefix)).toBe(''); // no balance, no deposit, no totals
  });

  it('row 11: a misspelled `--ID x` fails (it was silently ignored: a random id, a second payment)', async () => {
    const prefix = testPrefix('cli');
    const env = { FIVED_REDIS_URL: redis.url, FIVED_KEY_PREFIX: prefix };
    for (const args of [['credit', 'alice', '500', '--ID', 'dep-1'], ['credit', 'alice', '500', '--Id=dep-1'], ['credit', 'alice', '500', '--id', 'dep-1', '--idd', 'x']]) {
      const r = await fived(args, env);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/unknown option --(ID|Id|idd)/);
      expect(r.stdout).toBe('');
    }
    expect(await keysOf(prefix)).toBe('');
  });

  it('row 11: the same --id twice credits once; a different amount under it conflicts', async () => {
    const prefix = testPrefix('cli');
    const env = { FIVED_REDIS_URL: redis.url, FIVED_KEY_PREFIX: prefix };
    const first = await fived(['credit', 'alice', '500', '--id', 'dep-1'], env);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ user: 'alice', amount: 500, depositId: 'dep-1', balance: 500, duplicate: false });
    const again = await fived(['credit', 'alice', '500', '--id=dep-1'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ balance: 500, duplicate: true });
    const other = await fived(['credit', 'alice', '700', '--id', 'dep-1'], env);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/E_DUPLICATE_CONFLICT/);
    const s = await storeFor(prefix);
    expect(await s.balance('alice')).toBe(500);
    expect(await s.walletTotals()).toMatchObject({ deposits: 500, balances: 500, balanced: true });
  });

  it('credit refuses bad amounts, a repeated --id flag and stray arguments, writing nothing', async () => {
    const prefix = testPrefix('cli');
    const env = { FIVED_REDIS_URL: redis.url, FIVED_KEY_PREFIX: prefix };
    const cases: Array<[string[], RegExp]> = [
      [['credit', 'alice', '-5', '--id', 'd'], /unknown option -5/],
      [['credit', 'alice', '0', '--id', 'd'], /AMOUNT "0" must be a positive integer/],
      [['credit', 'alice', '1.5', '--id', 'd'], /AMOUNT "1.5" must be a positive integer/],
      // past 2^53-1: refused quoting what was typed (the message once named the rounded 9007199254740992)
      [['credit', 'alice', '9007199254740993', '--id', 'd'], /AMOUNT "9007199254740993" must be a positive integer of minor units, at most 9007199254740991/],
      [['debit', 'alice', '9007199254740993', '--id', 'd'], /AMOUNT "9007199254740993" must be a positive integer of minor units, at most 9007199254740991/],
      [['credit', 'alice', '5', '--id', 'd', '--id', 'e'], /--id given 2 times/],
      [['credit', 'alice', '5', 'extra', '--id', 'd'], /unexpected argument "extra"/],
      [['credit', 'alice', '--id', 'd'], /missing argument/],
      [['credit', 'alice', '5', '--id'], /--id needs a value/],
    ];
    for (const [args, re] of cases) {
      const r = await fived(args, env);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(re);
    }
    expect(await keysOf(prefix)).toBe('');
  });

  it('an unknown flag on every command fails with exit 2 and a clear message; nothing starts, nothing is written', async () => {
    const prefix = testPrefix('cli');
    const env = { FIVED_REDIS_URL: redis.url, FIVED_KEY_PREFIX: prefix, FIVED_PORT: '0', FIVED_SCHEDULER_PORT: '0' };
    const room = 'fiveD_60';
    const id = '20250731000000001';
    const commands: string[][] = [
      ['verify', '--seed', 'a'.repeat(64), '--commitment', 'b'.repeat(64), '--message', 'fiveD:60:default:20250731000000001'],
      ['inspect', room, id],
      ['credit', 'alice', '5', '--id', 'd'],
      ['wallet'],
      ['token', 'alice'],
      ['check-config'],
      ['all'],
      ['gateway'],
      ['scheduler'],
    ];
    const runs = await Promise.all(commands.map((c) => fived([...c, '--bogus'], env)));
    runs.forEach((r, i) => {
      const name = commands[i]![0]!;
      expect(r.code, `${name}: ${r.stderr}`).toBe(2);
      expect(r.stderr, name).toMatch(/unknown option --bogus/);
      expect(r.stderr, name).toContain(`usage: fived ${name}`);
    });
    // the bench's bulk loader (no longer a fived command) parses its flags as strictly
    const loader = await loadBetsScript([room, id, '10', '--bogus'], env);
    expect(loader.code, loader.stderr).toBe(2);
    expect(loader.stderr).toMatch(/unknown option --bogus/);
    expect(loader.stderr).toContain('usage: tsx bench/load-bets.ts');
    // env-only commands take no positional argument either
    for (const name of ['all', 'gateway', 'scheduler', 'check-config']) {
      const r = await fived([name, 'now'], env);
      expect(r.code, name).toBe(2);
      expect(r.stderr).toMatch(/unexpected argument "now"/);
    }
    expect(await keysOf(prefix)).toBe('');
  });

  it('the documented flags keep working: load-bets --users/--random, inspect, wallet, check-config', async () => {
    const prefix = testPrefix('cli');
    const env = { FIVED_REDIS_URL: redis.url, FIVED_KEY_PREFIX: prefix };
    const w = periodAt(Date.now() + 3_600_000, { duration: 60, freezeMs: 5000, dayStart: { minutes: 0, offsetMinutes: 0 } });
    const load = await loadBetsScript(['fiveD_60', w.periodId, '40', '--users', '4', '--random=9'], env);
    expect(load.code, load.stderr).toBe(0);
    expect(JSON.parse(load.stdout)).toMatchObject({ room: 'fiveD_60', periodId: w.periodId, count: 40, users: 4 });
    const bad = await loadBetsScript(['fiveD_60', w.periodId, '40', '--users', 'many'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--users "many" must be a non-negative integer/);
    const ins = await fived(['inspect', 'fiveD_60', w.periodId], env);
    expect(ins.code, ins.stderr).toBe(0);
    expect(JSON.parse(ins.stdout).period.periodId).toBe(w.periodId);
    const wal = await fived(['wallet'], env);
    expect(wal.code, wal.stderr).toBe(0);
    expect(JSON.parse(wal.stdout)).toMatchObject({ maxBalance: 1e15, totals: { balanced: true }, held: { total: 0, byUser: {} } });
    const cc = await fived(['check-config'], { ...env, FIVED_SEED_KEY: TEST_SEED_KEY });
    expect(cc.code, cc.stderr).toBe(0);
    expect(JSON.parse(cc.stdout).config.maxBalance).toBe(1e15);
  });

  it('FIVED_MAX_BALANCE: at most 2^53-1; a credit past it is refused (E_BALANCE_LIMIT) and changes nothing', async () => {
    const over = await fived(['check-config'], { FIVED_MAX_BALANCE: '9007199254740992' });
    expect(over.code).toBe(1);
    expect(over.stderr).toMatch(/FIVED_MAX_BALANCE="9007199254740992": expected an integer from 1 to 9007199254740991/);
    const top = await fived(['check-config'], { FIVED_MAX_BALANCE: '9007199254740991' });
    expect(top.code, top.stderr).toBe(0);

    const prefix = testPrefix('cli');
    const env = { FIVED_REDIS_URL: redis.url, FIVED_KEY_PREFIX: prefix, FIVED_MAX_BALANCE: '1000' };
    expect((await fived(['credit', 'bob', '1000', '--id', 'b1'], env)).code).toBe(0);
    const before = await keysOf(prefix);
    const r = await fived(['credit', 'bob', '1', '--id', 'b2'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/E_BALANCE_LIMIT/);
    expect(await keysOf(prefix)).toBe(before);
  });

  it('fived wallet shows held credits (a refund that would pass the maximum balance) and the users asked for', async () => {
    const prefix = testPrefix('cli');
    const s = await storeFor(prefix, 5000);
    s.on('held', () => undefined); // counted by the gateway/scheduler in production; quiet here
    const w = await openPeriod(s);
    await s.credit('full', 5000, 'f1');
    await s.placeBet({ period: w, userId: 'full', clientBetId: 'x', kind: 'A', pick: 3, amount: 700 }, LIMITS, PAY, Date.now());
    await s.credit('full', 700, 'f2');
    expect(await s.voidPeriod(w, 'test')).toEqual({ refunded: 0, held: 700 });
    const r = await fived(['wallet', 'full', 'nobody'], { FIVED_REDIS_URL: redis.url, FIVED_KEY_PREFIX: prefix, FIVED_MAX_BALANCE: '5000' });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({
      maxBalance: 5000,
      totals: { deposits: 5700, stakes: 700, refunds: 700, held: 700, balances: 5000, balanced: true },
      held: { total: 700, byUser: { full: 700 }, recent: [{ member: `60:default:${w.periodId}`, kind: 'refund', userId: 'full', amount: 700 }] },
      balances: { full: 5000, nobody: 0 },
    });
    // a hand correction gone wrong: the report still prints, and the exit code says so
    await s.client.hincrby(s.keys.totals, 'deposits', 1);
    const off = await fived(['wallet'], { FIVED_REDIS_URL: redis.url, FIVED_KEY_PREFIX: prefix, FIVED_MAX_BALANCE: '5000' });
    expect(off.code).toBe(3);
    expect(JSON.parse(off.stdout).totals.balanced).toBe(false);
    expect(off.stderr).toMatch(/the invariant does not hold/);
  });
});
