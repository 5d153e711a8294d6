// Issue 12, row 5: "The seed of the next period sits in clear in Redis from the moment it is
// committed: reading it 5 s before that period opened predicted its result exactly."
// Reproduced as written: a Redis of our own with appendonly, a scheduler and a gateway commit ahead;
// before the next period opens we read EVERYTHING (every key by SCAN, every value by type and by
// DUMP, the AOF and an RDB written on demand) and look for any 32 bytes whose SHA-256 is that
// period's commitment. None may be found; the result at the end still verifies against the
// commitment with the public algorithm (docs/fairness.md), and the same search then finds the seed
// in the stored result (so the search is able to fail). Plus: no seed key with Redis → the process
// refuses to start; rotation; a seed nobody can unseal → the period is void at its end.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { drawMessage, verifyDraw } from '../src/core/draw.js';
import type { PeriodWindow } from '../src/core/types.js';
import { isFivedError } from '../src/errors.js';
import { finish } from '../src/runtime/reconcile.js';
import { nextWindow, roomsOf, windowAt, type Room } from '../src/runtime/rooms.js';
import { Keys } from '../src/store/keys.js';
import { RedisStore } from '../src/store/redis.js';
import { CLI_BIN } from './support/fived.js';
import { gatewayEnv, getJson, startGatewayProc, type GatewayProc } from './support/gateway.js';
import { startRedis, testPrefix, TEST_SEED_KEY, type TestRedis } from './support/redis.js';
import { requireBuild, spawnScheduler, type SchedulerProc } from './support/scheduler.js';
import { LIMITS, PAY } from './support/store-harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Every file under a directory (the AOF folder, the RDB), recursively. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

/** Every key of the whole server (SCAN, no prefix) with every value read by type, and its DUMP. */
async function everythingIn(r: Redis): Promise<Buffer[]> {
  const out: Buffer[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await r.scanBuffer(cursor, 'COUNT', 1000);
    cursor = String(next);
    for (const k of keys) {
      out.push(k);
      const type = await r.type(k);
      if (type === 'string') out.push((await r.getBuffer(k))!);
      else if (type === 'hash') {
        const h = await r.hgetallBuffer(k);
        for (const [f, v] of Object.entries(h)) out.push(Buffer.from(f), v);
      } else if (type === 'list') out.push(...(await r.lrangeBuffer(k, 0, -1)));
      else if (type === 'set') out.push(...(await r.smembersBuffer(k)));
      else if (type === 'zset') out.push(...(await r.zrangeBuffer(k, 0, -1, 'WITHSCORES')));
      else if (type === 'stream') {
        for (const [, fields] of await r.xrangeBuffer(k, '-', '+')) out.push(...fields);
      }
      const d = await r.dumpBuffer(k);
      if (d) out.push(d);
    }
  } while (cursor !== '0');
  return out;
}

/**
 * Whether any 32 bytes in the data hash to the commitment: raw 32-byte windows of every buffer,
 * every 64-hex run (either case), and every base64 run decoded. That is what "the seed is readable"
 * means: with it, anyone computes the digits (docs/fairness.md).
 */
function revealsSeed(data: Buffer[], commitment: string): boolean {
  const target = Buffer.from(commitment, 'hex');
  const hits = (b: Buffer): boolean => {
    for (let i = 0; i + 32 <= b.length; i++) {
      if (createHash('sha256').update(b.subarray(i, i + 32)).digest().equals(target)) return true;
    }
    return false;
  };
  for (const b of data) {
    if (hits(b)) return true;
    const text = b.toString('latin1');
    for (const m of text.matchAll(/[0-9a-fA-F]{64,}/g)) {
      for (let i = 0; i + 64 <= m[0].length; i++) if (hits(Buffer.from(m[0].slice(i, i + 64), 'hex'))) return true;
    }
    for (const m of text.matchAll(/[A-Za-z0-9+/_-]{43,}={0,2}/g)) {
      if (hits(Buffer.from(m[0], 'base64'))) return true;
    }
  }
  return false;
}

describe('no seed at rest before its period closes (issue 12, row 5)', () => {
  let redis: TestRedis;
  let client: Redis;
  let sched: SchedulerProc | null = null;
  let gw: GatewayProc | null = null;
  const prefix = testPrefix('atrest');
  const env = gatewayEnv('', prefix, { FIVED_DURATIONS: '5', FIVED_FREEZE_MS: '1500', FIVED_LEASE_TTL_MS: '1000' });
  let room: Room;

  beforeAll(async () => {
    requireBuild();
    redis = await startRedis({ persistent: true }); // appendonly yes, appendfsync always
    client = new Redis(redis.url);
    env.FIVED_REDIS_URL = redis.url;
    room = roomsOf(loadConfig(env))[0]!;
    sched = spawnScheduler('atrest-s', env);
    gw = await startGatewayProc(env);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([gw?.stop(), sched?.stop()]);
    client?.disconnect();
    await redis?.stop();
  });

  it('before the next period opens, nothing in Redis, its AOF or its RDB holds its seed; at the end the result verifies', async () => {
    const keys = new Keys(prefix);
    // the upcoming period, committed by the processes, with at least 1.5 s left before it opens
    const { w, commitment } = await until('a committed upcoming period', async () => {
      const now = Date.now();
      const next = nextWindow(room, windowAt(room, now));
      if (next.startsAt - now < 1500) return null;
      const c = await client.hget(keys.period(next).meta, 'commitment');
      return c ? { w: next, commitment: c } : null;
    });
    // an RDB too, uncompressed so a clear value would be plainly in it
    await client.config('SET', 'rdbcompression', 'no');
    await client.save();
    const data = [...(await everythingIn(client)), ...filesUnder(redis.dir).map((f) => readFileSync(f))];
    const readAt = Date.now();
    expect(readAt, 'everything was read before the period opened').toBeLessThan(w.startsAt);
    expect(filesUnder(redis.dir).some((f) => /appendonly/.test(f)), 'an AOF exists').toBe(true);
    expect(revealsSeed(data, commitment), 'some stored value is the seed of a period not yet open').toBe(false);
    const meta = await client.hgetall(keys.period(w).meta);
    expect(Object.keys(meta).sort()).toEqual(['commitment', 'endsAt', 'freezeAt', 'sealedSeed', 'seedIv', 'seedKeyId', 'startsAt']);

    // at the end: the result, with its seed, verifies against the commitment published before
    const r = await until('the result of the period', async () => {
      if (Date.now() < w.endsAt) return null;
      const res = await getJson(`${gw!.url}/api/rooms/${room.name}/periods/${w.periodId}`);
      return res.status === 200 && res.body.result ? res.body : null;
    }, w.endsAt - Date.now() + 20_000, 100);
    expect(r.commitment).toBe(commitment);
    const v = verifyDraw(r.result.seed, commitment, drawMessage(w));
    expect(v.commitmentOk).toBe(true);
    expect(v.digits).toEqual(r.result.digits);
    // after the end the stored result carries the seed (allowed: bets are closed) — and the same
    // search finds it, so the search above could have failed
    expect(revealsSeed(await everythingIn(client), commitment)).toBe(true);
  }, 60_000);
});

describe('a process started against Redis without a seed key', () => {
  const bin = CLI_BIN;
  const base = { PATH: process.env.PATH ?? '', FIVED_REDIS_URL: 'redis://127.0.0.1:1', FIVED_JWT_SECRET: 'x'.repeat(32) };

  it.each(['gateway', 'scheduler'])('fived %s refuses to start, saying FIVED_SEED_KEY is required', (cmd) => {
    const r = spawnSync(process.execPath, [bin, cmd], { env: base, encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/FIVED_SEED_KEY is required with FIVED_REDIS_URL/);
  });

  it('fived check-config lists the problem (and passes with a key)', () => {
    const r = spawnSync(process.execPath, [bin, 'check-config'], { env: base, encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(1);
    const doc = JSON.parse(r.stdout) as { ok: boolean; code: string; problems: string[] };
    expect(doc).toMatchObject({ ok: false, code: 'E_CONFIG_INVALID' });
    expect(doc.problems.some((p) => /FIVED_SEED_KEY is required/.test(p))).toBe(true);
    const ok = spawnSync(process.execPath, [bin, 'check-config'], { env: { ...base, FIVED_SEED_KEY: TEST_SEED_KEY }, encoding: 'utf8', timeout: 20_000 });
    expect(ok.status).toBe(0);
    expect(ok.stdout).not.toContain(TEST_SEED_KEY);
    expect(JSON.parse(ok.stdout).config.seedKey).toMatch(/^\*\*\* \(id [0-9a-f]{16}\)$/);
  });
});

describe('seed key rotation and a seed nobody can unseal', () => {
  const OLD = 'a1'.repeat(32);
  const NEW = 'b2'.repeat(32);
  const LOST = 'c3'.repeat(32); // a key no running process has
  let redis: TestRedis;
  const opened: RedisStore[] = [];
  const open = async (prefix: string, seedKey: string, retired: string[] = []) => {
    const s = new RedisStore({ redisUrl: redis.url, keyPrefix: prefix, instance: 'test', seedKey, seedKeysRetired: retired });
    await s.init();
    opened.push(s);
    return s;
  };
  beforeAll(async () => { redis = await startRedis(); });
  afterAll(async () => {
    await Promise.all(opened.map((s) => s.close()));
    await redis?.stop();
  });

  const periodIn = (now: number, startIn: number, len = 600): PeriodWindow => {
    const room = roomsOf(loadConfig({ FIVED_DURATIONS: '1', FIVED_FREEZE_MS: '100' }))[0]!;
    const w = windowAt(room, now + startIn + 1000); // starts after now + startIn (1 s periods)
    return { ...w, freezeAt: w.startsAt + len - 100, endsAt: w.startsAt + len };
  };

  it('a seed sealed under the old key unseals where the old key is listed as retired; elsewhere E_SEED_KEY_UNKNOWN', async () => {
    const prefix = testPrefix('rot');
    const before = await open(prefix, OLD);
    const w = periodIn(Date.now(), 60_000);
    const seed = '7e'.repeat(32);
    await before.commit(w, seed, Date.now());
    const rotated = await open(prefix, NEW, [OLD]);
    expect(await rotated.getSeed(w)).toBe(seed);
    const dropped = await open(prefix, NEW);
    let err: unknown;
    try { await dropped.getSeed(w); } catch (e) { err = e; }
    expect(isFivedError(err) && err.code).toBe('E_SEED_KEY_UNKNOWN');
    // new commitments are sealed under the new key
    const w2 = periodIn(Date.now(), 120_000);
    await rotated.commit(w2, seed, Date.now());
    expect(await before.client.hget(before.keys.period(w2).meta, 'seedKeyId')).not.toBe(await before.client.hget(before.keys.period(w).meta, 'seedKeyId'));
    expect(await dropped.getSeed(w2)).toBe(seed);
  });

  it('a Redis store without a seed key refuses to commit or read a seed (E_CONFIG_INVALID), writing nothing', async () => {
    const prefix = testPrefix('nokey');
    const s = new RedisStore({ redisUrl: redis.url, keyPrefix: prefix, instance: 'test' });
    await s.init();
    opened.push(s);
    const w = periodIn(Date.now(), 60_000);
    await expect(s.commit(w, '7e'.repeat(32), Date.now())).rejects.toMatchObject({ code: 'E_CONFIG_INVALID' });
    await expect(s.getSeed(w)).rejects.toMatchObject({ code: 'E_CONFIG_INVALID' });
    expect(await s.client.exists(s.keys.period(w).meta)).toBe(0);
  });

  it('the reconciler voids (and refunds) a period whose seed no key here opens, instead of retrying forever', async () => {
    const prefix = testPrefix('lost');
    const sealer = await open(prefix, LOST);
    const t0 = Date.now();
    const w = periodIn(t0, 150, 500); // opens in ~150 ms, ends ~500 ms later
    await sealer.commit(w, '5a'.repeat(32), Date.now());
    await sealer.credit('alice', 1000, 'dep-1');
    await until('the period to open', async () => Date.now() >= w.startsAt + 5);
    await sealer.placeBet({ period: w, userId: 'alice', clientBetId: 'b1', kind: 'A', pick: 3, amount: 100 }, LIMITS, PAY, Date.now());
    expect(await sealer.balance('alice')).toBe(900);
    await until('the end', async () => Date.now() >= w.endsAt + 5);
    const here = await open(prefix, NEW);
    const noPool = { run: () => { throw new Error('the pool is not reached for a period that cannot get a result'); } };
    const out = await finish({ store: here, pool: noPool as never, cfg: { paytable: PAY }, storeOptions: {} }, w, { now: Date.now(), who: { instance: 'test', host: 'h', pid: 1, source: 'gateway' } });
    expect(out.how).toBe('void');
    const rec = await here.getPeriod(w);
    expect(rec.status).toBe('void');
    expect(rec.voidReason).toContain('E_SEED_KEY_UNKNOWN');
    expect(await here.balance('alice')).toBe(1000);
    expect(await here.unfinishedPeriods(Date.now(), 10)).toEqual([]);
  });

  it('a gateway whose key cannot open a period\'s seed voids it at its end (refunded), it does not hang', async () => {
    const prefix = testPrefix('gwlost');
    // the gateway runs with TEST_SEED_KEY; the period two ahead is committed first under LOST
    const env = gatewayEnv(redis.url, prefix, { FIVED_DURATIONS: '3', FIVED_FREEZE_MS: '1000' });
    const room = roomsOf(loadConfig(env))[0]!;
    const lost = await open(prefix, LOST);
    const w = nextWindow(room, nextWindow(room, windowAt(room, Date.now())));
    await lost.commit(w, '6b'.repeat(32), Date.now());
    await lost.credit('bob', 1000, 'dep-b');
    const gw = await startGatewayProc(env);
    try {
      await until('the period to open', async () => Date.now() >= w.startsAt + 5, 15_000);
      await lost.placeBet({ period: w, userId: 'bob', clientBetId: 'b1', kind: 'B', pick: 4, amount: 200 }, LIMITS, PAY, Date.now());
      const rec = await until('the period to be void', async () => {
        const p = await lost.getPeriod(w);
        return p.status === 'void' ? p : null;
      }, w.endsAt - Date.now() + 15_000, 100);
      expect(Date.now()).toBeGreaterThanOrEqual(w.endsAt); // never before its end
      expect(rec.voidReason).toContain('E_SEED_KEY_UNKNOWN');
      expect(await until('the refund', async () => (await lost.balance('bob')) === 1000 || null, 10_000)).toBe(true);
      expect(gw.output()).toMatch(/sealed seed cannot be opened/);
    } finally {
      await gw.stop();
    }
  }, 40_000);
});
