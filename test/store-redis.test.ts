// RedisStore beyond the contract: Lua vs TS liability bound, the bulk loader, a settlement killed
// half-way (kill -9 of the applying process), data loss detected by the generation key and by
// counters, and Redis killed and restarted with persistence.
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordCount, readRecord } from '../src/core/betbuf.js';
import { liabilityUpperBound } from '../src/core/rules.js';
import { ErrorCode, isFivedError } from '../src/errors.js';
import { CHANNELS } from '../src/store/keys.js';
import { loadBets } from '../bench/lib/loader.js';
import { RedisStore } from '../src/store/redis.js';
import type { SettlementPlan, StoreOptions } from '../src/store/types.js';
import { startRedis, testPrefix, TEST_SEED_KEY, type TestRedis } from './support/redis.js';
import { digest, LIMITS, PAY, invariant, openPeriod, planFor, windowAt } from './support/store-harness.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function codeOf(p: Promise<unknown>): Promise<string> {
  try { await p; return 'ok'; } catch (err) { return isFivedError(err) ? err.code : `not coded: ${String(err)}`; }
}

const stores: RedisStore[] = [];
async function open(url: string, extra: Partial<StoreOptions> = {}): Promise<RedisStore> {
  const s = new RedisStore({ redisUrl: url, keyPrefix: testPrefix('redis'), instance: 'test', seedKey: TEST_SEED_KEY, ...extra });
  stores.push(s);
  await s.init();
  return s;
}

describe('RedisStore on its own redis-server', () => {
  let redis: TestRedis;
  beforeAll(async () => { redis = await startRedis(); });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await redis?.stop();
  });

  it('connects again a connection ioredis ended by itself, and leaves it ended after close()', async () => {
    // ioredis ends a connection for good when its Sentinel connector throws mid-reconnect (a failover
    // detector firing then); disconnect() puts a connection in that same state ('end')
    const s = await open(redis.url);
    const heard: unknown[] = [];
    await s.subscribe(CHANNELS.completed, (_c, m) => heard.push(m));
    const ended = new Promise((r) => s.client.once('end', r));
    s.client.disconnect();
    await ended;
    await expect.poll(() => s.client.status, { timeout: 5000 }).toBe('ready');
    expect(await s.serverTime()).toBeGreaterThan(0);
    const sub = (s as unknown as { base: { sub: Redis } }).base.sub;
    sub.disconnect();
    await expect.poll(async () => {
      await s.publish(CHANNELS.completed, { again: 1 });
      return heard.length;
    }, { timeout: 5000, interval: 100 }).toBeGreaterThan(0); // reconnected and resubscribed
    await s.close();
    await new Promise((r) => setTimeout(r, 600)); // longer than keepConnected's 250 ms: nothing comes back
    expect([s.client.status, sub.status]).toEqual(['end', 'end']);
  });

  it('a balance edited by hand into text HINCRBY refuses (1000.5, 1e3, 0100, -5): every money script refuses or holds before its first write', async () => {
    // credit.lua recorded the deposit id, then its HINCRBY failed (E_INTERNAL): the documented retry
    // after the correction answered `duplicate` and credited nothing. A settlement or void refund
    // failing half-way would have credited part of its winners and stayed unapplied.
    for (const raw of ['1000.5', '1e3', '0100', '-5']) {
      const s = await open(redis.url, { maxBalance: 1e12 });
      const w = await openPeriod(s, { start: -1000, freeze: 400, end: 900 });
      await s.credit('ok', 5_000, `ok-${raw}`);
      await s.credit('bad', 5_000, `bad0-${raw}`);
      // both sides of SUM big/small: each user wins 1960 whatever the digits
      for (const [u, side] of [['ok', 'big'], ['ok', 'small'], ['bad', 'big'], ['bad', 'small']] as const) {
        await s.placeBet({ period: w, userId: u, clientBetId: `${u}-${side}`, kind: 'SUM', pick: side, amount: 1000 }, LIMITS, PAY, Date.now());
      }
      await s.client.hset(s.keys.balances, 'bad', raw);
      const before = await digest(s);
      for (const attempt of [
        () => s.credit('bad', 5, 'z2'),
        () => s.debit('bad', 5, 'w2'),
        () => s.placeBet({ period: w, userId: 'bad', clientBetId: 'more', kind: 'A', pick: 1, amount: 10 }, LIMITS, PAY, Date.now()),
        () => s.walletTotals(),
        () => s.balance('bad'),
      ]) expect(await codeOf(attempt()), raw).toBe(ErrorCode.BALANCE_OUT_OF_RANGE);
      expect(await digest(s), raw).toBe(before); // not even the deposit or withdrawal id
      // the settlement pays the good balance and holds the payout of the bad one, in one step
      await s.saveSettlement(await planFor(s, w));
      await new Promise((r) => setTimeout(r, Math.max(0, w.endsAt - Date.now() + 5)));
      expect(await s.applySettlement(w, Date.now()), raw).toEqual({ applied: true, credited: 1960, held: 1960 });
      expect(await s.client.hget(s.keys.balances, 'bad')).toBe(raw);
      expect(await s.balance('ok')).toBe(3_000 + 1960);
      // corrected as the operations guide says, the same deposit id now credits
      await s.client.hset(s.keys.balances, 'bad', '3000');
      expect(await s.credit('bad', 5, 'z2')).toEqual({ balance: 3005, duplicate: false });
      expect((await s.walletTotals()).balanced).toBe(true);
    }
  });

  it('the Lua liability bound equals liabilityUpperBound', async () => {
    const s = await open(redis.url);
    const mult = fc.integer({ min: 1, max: 1000 });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 1_000_000_000 })), { minLength: 74, maxLength: 74 }),
        fc.record({ feeBps: fc.constant(200), number: mult, bigSmall: mult, oddEven: mult, sumBigSmall: mult, sumOddEven: mult }),
        async (net, pay) => {
          expect(await s.luaLiabilityBound(net, pay)).toBe(liabilityUpperBound(net, pay));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('void refunds whose sum passes 2^53 stay exact: a refund call ends its chunk before its sum leaves the exact range', async () => {
    const s = await open(redis.url, { maxBalance: Number.MAX_SAFE_INTEGER });
    const w = await openPeriod(s);
    const users = ['x0', 'x1', 'x2'];
    for (const u of users) {
      await s.credit(u, 10, `dx-${u}`);
      await s.placeBet({ period: w, userId: u, clientBetId: 'b', kind: 'A', pick: 1, amount: 2 }, LIMITS, PAY, Date.now());
    }
    // period stakes far above any limit (written by hand): 3 × 4·10^15 > 2^53
    const stake = 4_000_000_000_000_003n;
    for (const u of users) await s.client.hset(s.keys.period(w).ustake, u, stake.toString());
    const refundsBefore = BigInt((await s.client.hget(s.keys.totals, 'refunds')) ?? '0');
    await s.voidPeriod(w, 'huge refunds');
    for (const u of users) expect(await s.client.hget(s.keys.balances, u)).toBe((8n + stake).toString());
    expect(BigInt((await s.client.hget(s.keys.totals, 'refunds'))!) - refundsBefore).toBe(3n * stake);
  });

  it('bets of one period placed in one event-loop turn go to Redis as one script call (at most 256 bets each)', async () => {
    const s = await open(redis.url);
    const [w1, w2] = [await openPeriod(s), await openPeriod(s)];
    for (let u = 0; u < 10; u++) await s.credit(`m${u}`, 1_000_000, `dm${u}`);
    const place = (w: typeof w1, i: number) => s.placeBet({ period: w, userId: `m${i % 10}`, clientBetId: `c${i}`, kind: 'D', pick: i % 10, amount: 10 }, LIMITS, PAY, Date.now());
    await place(w1, 9999); // loads the script (EVALSHA answered NOSCRIPT, then EVAL) outside the counts
    const calls = async () => {
      const m = /cmdstat_evalsha:calls=(\d+)/.exec(await s.client.info('commandstats'));
      return Number(m?.[1] ?? 0);
    };
    const c0 = await calls();
    const acks = await Promise.all(Array.from({ length: 100 }, (_, i) => place(w1, i)));
    const c1 = await calls();
    expect(c1 - c0).toBe(1);
    expect(acks.map((a) => a.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    // two periods in one turn: one call each; 300 bets of one period: 256 + 44
    await Promise.all([...Array.from({ length: 300 }, (_, i) => place(w1, 100 + i)), place(w2, 0)]);
    expect((await calls()) - c1).toBe(3);
    expect(await s.balance('m0')).toBe(1_000_000 - 10 * 41);
  });

  it('the loader writes the real layout: snapshot, totals and wallet invariant agree', async () => {
    const s = await open(redis.url);
    const w = windowAt(Date.now());
    const r = await loadBets(s, w, 100_000, { users: 5000 });
    expect(r).toMatchObject({ count: 100_000, users: 5000 });
    const snap = await s.snapshot(w);
    expect(recordCount(snap.records)).toBe(100_000);
    expect(snap.users).toHaveLength(5000);
    expect(snap.users[0]).toBe('load-0');
    let sum = 0;
    for (let i = 0; i < 100_000; i++) sum += readRecord(snap.records, i).amount;
    expect(sum).toBe(r.totalStake);
    expect((await s.patternTotals(w)).reduce((a, b) => a + b, 0)).toBe(r.totalStake);
    const inv = await invariant(s);
    expect(inv.left).toBe(inv.right);
    expect(await codeOf(loadBets(s, w, 10))).toBe(ErrorCode.BAD_REQUEST);
    // a light store (worker threads) does not write the generation key
    const light = await open(redis.url, { light: true });
    expect(await light.client.exists(light.keys.generation)).toBe(0);
  });

  it('a settlement killed half-way (kill -9) resumes from its journal: every winner credited exactly once', async () => {
    const prefix = testPrefix('crash');
    const s = await open(redis.url, { keyPrefix: prefix });
    const w = windowAt(Date.now(), { start: -10_000, freeze: -5000, end: -1000 });
    await loadBets(s, w, 600, { users: 300, userPrefix: 'cr-' });
    const snap = await s.snapshot(w);
    // every bet pays twice its amount: 300 winners
    const n = recordCount(snap.records);
    const payouts = new Float64Array(n);
    const userPayouts = new Float64Array(snap.users.length);
    for (let i = 0; i < n; i++) {
      const rec = readRecord(snap.records, i);
      payouts[i] = rec.amount * 2;
      userPayouts[rec.userIdx]! += rec.amount * 2;
    }
    const total = payouts.reduce((a, b) => a + b, 0);
    const plan: SettlementPlan = { period: w, betCount: n, payouts, users: snap.users, userPayouts, totalPayout: total };
    await s.saveSettlement(plan);
    const before = await Promise.all(snap.users.map((u) => s.balance(u)));

    const child = path.join(os.tmpdir(), `fived-apply-${process.pid}.mts`);
    writeFileSync(child, `
      import { RedisStore } from ${JSON.stringify(path.join(ROOT, 'src/store/redis.ts'))};
      const [url, prefix, ref] = process.argv.slice(2);
      const s = new RedisStore({ redisUrl: url, keyPrefix: prefix, light: true, settleChunk: 10,
        onSettleChunk: async (i) => { process.stdout.write('chunk ' + i.chunk + '\\n'); await new Promise((r) => setTimeout(r, 20)); } });
      await s.init();
      await s.applySettlement(JSON.parse(ref), Date.now());
      process.stdout.write('finished\\n');
    `);
    const proc = spawn(process.execPath, ['--import', 'tsx', child, redis.url, prefix, JSON.stringify(w)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        proc.stdout!.on('data', (b: Buffer) => {
          out += b.toString();
          if (/chunk 8\n/.test(out)) { proc.kill('SIGKILL'); resolve(); }
          if (out.includes('finished')) reject(new Error('the child finished before it was killed'));
        });
        proc.once('exit', (code, sig) => { if (sig !== 'SIGKILL') reject(new Error(`child exited ${code}`)); });
      });
      await new Promise((r) => proc.exitCode !== null || proc.signalCode !== null ? r(null) : proc.once('exit', r));
    } finally {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      rmSync(child, { force: true });
    }
    const mid = await Promise.all(snap.users.map((u) => s.balance(u)));
    const creditedByChild = mid.reduce((a, b) => a + b, 0) - before.reduce((a, b) => a + b, 0);
    expect(creditedByChild).toBeGreaterThan(0);
    expect(creditedByChild).toBeLessThan(total);
    const pending = await s.pendingSettlements();
    expect(pending.map((p) => p.periodId)).toEqual([w.periodId]);
    // whoever runs next completes it from the pending set
    const done = await s.applySettlement(pending[0]!, Date.now());
    expect(done.applied).toBe(true);
    expect(done.credited).toBe(total - creditedByChild);
    expect(await s.applySettlement(w, Date.now())).toEqual({ applied: false, credited: 0, held: 0 });
    const after = await Promise.all(snap.users.map((u) => s.balance(u)));
    after.forEach((b, i) => { expect(b - before[i]!).toBe(userPayouts[i]); });
    expect(await s.pendingSettlements()).toEqual([]);
    const inv = await invariant(s);
    expect(inv.left).toBe(inv.right);
  });

  it('counters that went backwards (older data, same generation) are detected after a reconnect', async () => {
    const s = await open(redis.url);
    const w = await openPeriod(s);
    await s.credit('g', 1000, 'dg');
    await s.placeBet({ period: w, userId: 'g', clientBetId: 'a', kind: 'A', pick: 1, amount: 100 }, LIMITS, PAY, Date.now());
    await s.client.hset(s.keys.totals, 'stakes', 0); // as a lagging replica would have it
    const inconsistent = new Promise<void>((r) => s.on('inconsistent', () => r()));
    const ready = new Promise<void>((r) => s.on('ready', () => r()));
    const id = await s.client.client('ID');
    const admin = await open(redis.url, { light: true });
    await admin.client.client('KILL', 'ID', String(id));
    await inconsistent;
    await ready;
    expect(s.inconsistencies).toBe(1);
    expect((await s.getPeriod(w)).status).toBe('void');
    expect(await s.balance('g')).toBe(1000); // the bet the store still knew of was refunded
    expect(await codeOf(s.placeBet({ period: w, userId: 'g', clientBetId: 'b', kind: 'A', pick: 1, amount: 100 }, LIMITS, PAY, Date.now()))).toBe(ErrorCode.PERIOD_VOID);
    expect(s.healthy()).toBe(true);
  });

  it('a rollback of balance changes alone (no bet) is detected; open periods are voided, ended ones never', async () => {
    // a backup restored after a deposit: the stakes total is the same, only the ledger went back
    const s = await open(redis.url, { heartbeatMs: 50 });
    const ended = await openPeriod(s, { freeze: 400, end: 500 });
    const live = await openPeriod(s);
    await s.credit('h', 1000, 'dh1');
    await s.placeBet({ period: ended, userId: 'h', clientBetId: 'e', kind: 'A', pick: 1, amount: 100 }, LIMITS, PAY, Date.now());
    await s.placeBet({ period: live, userId: 'h', clientBetId: 'l', kind: 'A', pick: 1, amount: 100 }, LIMITS, PAY, Date.now());
    await s.credit('h', 500, 'dh2');
    const seq = Number(await s.client.get(s.keys.ledgerSeq));
    await expect.poll(() => s.maxLedgerSeq).toBe(seq); // the store's watermark has seen the deposit
    await new Promise((r) => setTimeout(r, Math.max(0, ended.endsAt + 20 - Date.now())));
    // as the backup has them: the sequence and the feed stream before the deposit
    await s.client.set(s.keys.ledgerSeq, seq - 1);
    await s.client.xdel(s.keys.ledgerFeed, `${seq}-0`);
    await s.client.xsetid(s.keys.ledgerFeed, `${seq - 1}-0`);
    const inconsistent = new Promise<void>((r) => s.on('inconsistent', () => r()));
    const ready = new Promise<void>((r) => s.on('ready', () => r()));
    const admin = await open(redis.url, { light: true });
    await admin.client.client('KILL', 'ID', String(await s.client.client('ID')));
    await inconsistent;
    await ready;
    expect(s.inconsistencies).toBe(1);
    expect((await s.getPeriod(live)).status).toBe('void');
    expect((await s.userBets('h', live)).map((b) => b.state)).toEqual(['refunded']);
    // the period that had ended keeps its chance of a result: the committed seed gives the same digits
    expect((await s.getPeriod(ended)).status).not.toBe('void');
  });

  it('bets acknowledged right after a reconnect do not look like older data (no false data-loss alarm)', async () => {
    // The long chaos runs voided open periods after Redis restarts from its AOF although nothing was
    // lost: the check compared what it read after the reconnect with the highest stakes total seen
    // so far, which bets sent just after the reconnect (their replies right behind the reads)
    // could raise before the comparison ran. It must compare with what was seen before the reconnect.
    const s = await open(redis.url);
    const w = await openPeriod(s);
    await s.credit('rr', 10_000_000, 'drr');
    let alarms = 0;
    s.on('inconsistent', () => { alarms += 1; });
    const admin = await open(redis.url, { light: true });
    for (let round = 0; round < 20; round++) {
      await s.placeBet({ period: w, userId: 'rr', clientBetId: `pre${round}`, kind: 'A', pick: 1, amount: 10 }, LIMITS, PAY, Date.now());
      const ready = new Promise<void>((resolve) => s.client.once('ready', () => {
        // bets of players retrying at once, sent right behind the store's own reads
        const bets = [0, 1, 2].map((i) => s.placeBet({ period: w, userId: 'rr', clientBetId: `post${round}-${i}`, kind: 'B', pick: i, amount: 10 }, LIMITS, PAY, Date.now()));
        void Promise.all(bets).then(() => resolve(), () => resolve());
      }));
      await admin.client.client('KILL', 'ID', String(await s.client.client('ID')));
      await ready;
      await new Promise((r) => setTimeout(r, 20)); // the check's replies are in
    }
    expect(alarms).toBe(0);
    expect(s.inconsistencies).toBe(0);
    expect((await s.getPeriod(w)).status).toBe('open');
    expect(recordCount((await s.snapshot(w)).records)).toBe(80);
  });
});

describe('RedisStore with a replica (FIVED_REDIS_MIN_REPLICAS)', () => {
  it('takes a counter as seen only once the replica holds it: a write it never got is no "older data" after a failover', async () => {
    const primary = await startRedis({ password: null, extraArgs: ['--repl-diskless-sync-delay', '0'] }); // the replica syncs at once
    const replica = await startRedis({ password: null, extraArgs: ['--replicaof', '127.0.0.1', String(primary.port)] });
    const admin = new Redis({ port: replica.port, host: '127.0.0.1', lazyConnect: true });
    let s: RedisStore | null = null;
    try {
      await admin.connect();
      await expect.poll(async () => /master_link_status:up/.test(await admin.info('replication')), { timeout: 10_000 }).toBe(true);
      const store = await open(primary.url, { heartbeatMs: 50, minReplicas: 1 });
      s = store;
      await store.credit('rep', 100, 'r1'); // acknowledged once the replica holds it
      const seq = Number(await store.client.get(store.keys.ledgerSeq));
      // replicas report their offset about once a second (REPLCONF ACK): a second or two, not one beat
      await expect.poll(() => store.maxLedgerSeq, { timeout: 10_000 }).toBe(seq);
      // the replica stops following; a number written on the primary alone (as a write whose WAIT
      // never came back) is what a failover to that replica would lose
      await admin.replicaof('NO', 'ONE');
      await store.client.set(store.keys.ledgerSeq, String(seq + 5));
      const client = store.client;
      const infoCalls = async () => Number(/cmdstat_info:calls=(\d+)/.exec(await client.info('commandstats'))?.[1] ?? 0);
      const from = await infoCalls();
      await expect.poll(infoCalls).toBeGreaterThan(from + 4); // several beats have read it
      expect(store.maxLedgerSeq).toBe(seq);
    } finally {
      await s?.close();
      admin.disconnect();
      await replica.stop();
      await primary.stop();
    }
  });
});

describe('RedisStore and a Redis that restarts', () => {
  it('a restart without persistence is detected by the generation key: open periods are voided', async () => {
    const redis = await startRedis();
    try {
      const s = await open(redis.url);
      const w = await openPeriod(s);
      await s.credit('p', 1000, 'dp');
      await s.placeBet({ period: w, userId: 'p', clientBetId: 'a', kind: 'B', pick: 2, amount: 100 }, LIMITS, PAY, Date.now());
      const inconsistent = new Promise<{ expected: string | null; found: string | null }>((r) => s.on('inconsistent', r));
      const ready = new Promise<void>((r) => s.on('ready', () => r()));
      await redis.restart();
      const info = await inconsistent;
      expect(info.expected).not.toBeNull();
      expect(info.found).toBeNull();
      await ready;
      const p = await s.getPeriod(w);
      expect(p.status).toBe('void');
      expect(p.voidReason).toMatch(/store data lost/);
      expect(await codeOf(s.placeBet({ period: w, userId: 'p', clientBetId: 'b', kind: 'B', pick: 2, amount: 100 }, LIMITS, PAY, Date.now()))).toBe(ErrorCode.PERIOD_VOID);
      expect(await s.client.get(s.keys.generation)).not.toBe(info.expected);
    } finally {
      await redis.stop();
    }
  });

  it('killed and restarted with persistence: coded errors while down, works after, resubscribed, no acknowledged bet lost', async () => {
    const redis = await startRedis({ persistent: true });
    try {
      const s = await open(redis.url, { heartbeatMs: 500 });
      const w = await openPeriod(s);
      await s.credit('k', 100_000, 'dk');
      const heard: unknown[] = [];
      await s.subscribe(CHANNELS.completed, (_c, m) => heard.push(m));
      const acked: number[] = [];
      for (let i = 0; i < 20; i++) acked.push((await s.placeBet({ period: w, userId: 'k', clientBetId: `a${i}`, kind: 'C', pick: i % 10, amount: 10 }, LIMITS, PAY, Date.now())).seq);
      let inconsistent = false;
      s.on('inconsistent', () => { inconsistent = true; });
      const down = new Promise<void>((r) => s.on('down', () => r()));
      await redis.kill();
      await down;
      expect(s.healthy()).toBe(false);
      const t0 = Date.now();
      // one batch (one tick) while down: every bet of it gets the coded error
      const whileDown = await Promise.all(['x', 'y', 'z'].map((id) => codeOf(s.placeBet({ period: w, userId: 'k', clientBetId: id, kind: 'C', pick: 1, amount: 10 }, LIMITS, PAY, Date.now()))));
      expect(whileDown).toEqual([ErrorCode.STORE_UNAVAILABLE, ErrorCode.STORE_UNAVAILABLE, ErrorCode.STORE_UNAVAILABLE]);
      expect(await codeOf(s.balance('k'))).toBe(ErrorCode.STORE_UNAVAILABLE);
      // the message a player or an operator reads names no client-library option
      expect(((await s.balance('k').catch((e: unknown) => e)) as Error).message).toBe('redis unavailable: no connection (it is re-established by itself)');
      expect(Date.now() - t0).toBeLessThan(2000); // fail fast, no offline queue
      const ready = new Promise<void>((r) => s.on('ready', () => r()));
      await redis.restart();
      await ready;
      expect(inconsistent).toBe(false);
      expect(s.healthy()).toBe(true);
      // the retry of the bet refused while down goes through; the acked ones are all there
      await s.placeBet({ period: w, userId: 'k', clientBetId: 'x', kind: 'C', pick: 1, amount: 10 }, LIMITS, PAY, Date.now());
      const snap = await s.snapshot(w);
      expect(recordCount(snap.records)).toBe(21);
      expect(await s.balance('k')).toBe(100_000 - 210);
      // the subscriber reconnected and resubscribed by itself
      const got = new Promise<void>((resolve) => {
        const t = setInterval(() => { void s.publish(CHANNELS.completed, { ping: 1 }); }, 100);
        const check = setInterval(() => { if (heard.length > 0) { clearInterval(t); clearInterval(check); resolve(); } }, 20);
      });
      await got;
      expect(heard[0]).toEqual({ ping: 1 });
    } finally {
      await redis.stop();
    }
  });
});
