// Issue 13, item 1 and the acknowledgement half of item 2, on real redis-server and redis-sentinel
// processes of the test's own, all with passwords:
//  - every test Redis has an ACL user and the default user off; a store with a wrong password or
//    none gets E_STORE_AUTH, at once, naming the settings;
//  - Sentinel mode: the URL's user:password reach the primary and replicas, FIVED_REDIS_SENTINEL_PASSWORD
//    the Sentinels (a wrong one is E_STORE_AUTH too);
//  - FIVED_REDIS_MIN_REPLICAS: a bet is acknowledged only once WAIT confirms the replica holds it;
//    with the replica gone it is E_STORE_UNCONFIRMED, and its retry with the same clientBetId, once
//    the replica is back, answers the same bet (it stood) rather than placing a second one;
//  - `fived check-config` warns about a Redis URL without credentials;
//  - rediss:// reaches a TLS-only Redis (a self-signed certificate, trusted through NODE_EXTRA_CA_CERTS).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { configWarnings, loadConfig } from '../src/config.js';
import { ErrorCode, isFivedError } from '../src/errors.js';
import { RedisStore } from '../src/store/redis.js';
import type { StoreOptions } from '../src/store/types.js';
import { runFived } from './support/deploy.js';
import { freePort, waitForPort } from './support/ports.js';
import { spawnRedisServer, startRedis, testPrefix, TEST_SEED_KEY, type TestRedis } from './support/redis.js';
import { startReplicaSet, waitForSync, type TestReplicaSet } from './support/sentinel.js';
import { LIMITS, PAY, openPeriod } from './support/store-harness.js';

async function codeOf(p: Promise<unknown>): Promise<string> {
  try { await p; return 'ok'; } catch (err) { return isFivedError(err) ? err.code : `not coded: ${String(err)}`; }
}

const stores: RedisStore[] = [];
function store(o: StoreOptions): RedisStore {
  const s = new RedisStore({ keyPrefix: testPrefix('auth'), instance: 'test', seedKey: TEST_SEED_KEY, ...o });
  stores.push(s);
  return s;
}

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
});

describe('a Redis with an ACL user and a password', () => {
  let redis: TestRedis;
  beforeAll(async () => { redis = await startRedis(); });
  afterAll(async () => { await redis?.stop(); });

  it('the URL with the credentials works; a wrong password or none is E_STORE_AUTH at once, naming the settings', async () => {
    const good = store({ redisUrl: redis.url });
    await good.init();
    expect(await good.credit('u', 100, 'd1')).toEqual({ balance: 100, duplicate: false });
    for (const url of [redis.url.replace(redis.password, 'wrong-password'), `redis://127.0.0.1:${redis.port}`, `redis://nobody:${redis.password}@127.0.0.1:${redis.port}`]) {
      const t0 = Date.now();
      const bad = store({ redisUrl: url });
      const err = await bad.init().then(() => null, (e: unknown) => e);
      expect(isFivedError(err, ErrorCode.STORE_AUTH), String(err)).toBe(true);
      expect((err as Error).message).toMatch(/FIVED_REDIS_URL/);
      expect(Date.now() - t0).toBeLessThan(5000);
    }
  });

  it('the default user cannot log in (disabled), the ACL user can', async () => {
    const anon = new Redis({ port: redis.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    anon.on('error', () => undefined);
    await anon.connect().catch(() => undefined);
    await expect(anon.get('x')).rejects.toThrow(/NOAUTH|closed/);
    anon.disconnect();
    const c = new Redis(redis.url);
    await expect(c.call('AUTH', 'default', redis.password)).rejects.toThrow(/WRONGPASS/);
    expect(await c.acl('WHOAMI')).toBe('fived');
    c.disconnect();
  });

  it('check-config warns about a Redis URL without credentials (and not about one with them)', async () => {
    const env = { FIVED_SEED_KEY: TEST_SEED_KEY };
    const bare = await runFived(['check-config'], { ...env, FIVED_REDIS_URL: `redis://127.0.0.1:${redis.port}` });
    expect(bare.code).toBe(0);
    expect(bare.stderr).toMatch(/warning: FIVED_REDIS_URL has no credentials/);
    expect(JSON.parse(bare.stdout).warnings[0]).toMatch(/no credentials/);
    const withAuth = await runFived(['check-config'], { ...env, FIVED_REDIS_URL: redis.url });
    expect(withAuth.code).toBe(0);
    expect(withAuth.stderr).not.toMatch(/credentials/);
    // the password never shows; the user name does
    expect(JSON.parse(withAuth.stdout).config.redisUrl).toBe(`redis://fived:***@127.0.0.1:${redis.port}`);
    expect(withAuth.stdout).not.toContain(redis.password);
    // Sentinel mode: without a Sentinel password, and with min replicas 0, it says so too
    const cfg = loadConfig({ ...env, FIVED_REDIS_URL: redis.url, FIVED_REDIS_SENTINELS: '127.0.0.1:26379', FIVED_REDIS_MIN_REPLICAS: '0' });
    const w = configWarnings(cfg).join('\n');
    expect(w).toMatch(/FIVED_REDIS_SENTINEL_PASSWORD/);
    expect(w).toMatch(/FIVED_REDIS_MIN_REPLICAS=0/);
    expect(loadConfig({ ...env, FIVED_REDIS_SENTINELS: '127.0.0.1:26379' }).redisMinReplicas).toBe(1);
    expect(loadConfig({ ...env, FIVED_REDIS_URL: redis.url }).redisMinReplicas).toBe(0);
  });
});

describe('Sentinel mode with passwords, bets acknowledged once replicated', () => {
  let set: TestReplicaSet;
  // the primary itself accepts writes without a replica here, so a WAIT that times out can be seen
  beforeAll(async () => { set = await startReplicaSet({ replicas: 1, minReplicasToWrite: 0 }); });
  afterAll(async () => { await set?.stop(); });

  // a generous WAIT where the replica must confirm (a loaded machine), a short one where it cannot
  const sentinelOpts = (waitTimeoutMs = 5000): StoreOptions => ({
    redisUrl: set.url, sentinels: set.sentinels.ports.map((port) => ({ host: '127.0.0.1', port })), sentinelName: 'mymaster',
    sentinelPassword: set.sentinels.password, minReplicas: 1, waitTimeoutMs,
  });

  it('connects through password-protected Sentinels; a bet is acknowledged after WAIT and is on the replica', async () => {
    const s = store(sentinelOpts());
    await s.init();
    const w = await openPeriod(s);
    await s.credit('p', 10_000, 'dp');
    const waitsBefore = s.replicaWaits;
    const acks = await Promise.all([0, 1, 2, 3].map((i) => s.placeBet({ period: w, userId: 'p', clientBetId: `b${i}`, kind: 'C', pick: i, amount: 10 }, LIMITS, PAY, Date.now())));
    expect(acks.map((a) => a.seq).sort()).toEqual([0, 1, 2, 3]);
    // one batch, one WAIT for all four
    expect(s.replicaWaits - waitsBefore).toBe(1);
    const replica = new Redis(set.replicas[0]!.url);
    expect(await replica.hget(s.keys.balances, 'p')).toBe(String(10_000 - 40));
    replica.disconnect();
  });

  it('a wrong Sentinel password is E_STORE_AUTH', async () => {
    const s = store({ ...sentinelOpts(), sentinelPassword: 'not-the-password' });
    const err = await s.init().then(() => null, (e: unknown) => e);
    expect(isFivedError(err, ErrorCode.STORE_AUTH), String(err)).toBe(true);
  });

  it('no replica to confirm: E_STORE_UNCONFIRMED, and the retry with the same id answers the bet that stood', async () => {
    const s = store(sentinelOpts(300));
    await s.init();
    const w = await openPeriod(s);
    await s.credit('q', 10_000, 'dq');
    const replica = set.replicas[0]!;
    await replica.kill();
    const bet = { period: w, userId: 'q', clientBetId: 'lonely', kind: 'C' as const, pick: 3, amount: 25 };
    expect(await codeOf(s.placeBet(bet, LIMITS, PAY, Date.now()))).toBe(ErrorCode.STORE_UNCONFIRMED);
    await replica.restart();
    await waitForSync(replica);
    // the retry through a store with a generous WAIT (a loaded machine must not fail it)
    const patient = store({ ...sentinelOpts(), keyPrefix: s.keys.prefix });
    await patient.init();
    const again = await patient.placeBet(bet, LIMITS, PAY, Date.now());
    expect(again.duplicate).toBe(true); // the same bet, not a second one
    expect(await patient.balance('q')).toBe(10_000 - 25);
  });
});

describe('rediss:// (TLS)', () => {
  it('a fived tool reaches a TLS-only Redis with the ACL user; its certificate is trusted through NODE_EXTRA_CA_CERTS', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fived-tls-'));
    const [cert, key] = [path.join(dir, 'cert.pem'), path.join(dir, 'key.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const port = await freePort();
    const child = spawnRedisServer('redis-tls', [
      '--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--tls-cert-file', cert, '--tls-key-file', key, '--tls-ca-cert-file', cert,
      '--tls-auth-clients', 'no', '--save', '', '--dir', dir, '--user', 'fived', 'on', '>tls-test-password', '~*', '&*', '+@all', '--user', 'default', 'off',
    ]);
    try {
      await waitForPort(port);
      const env = { FIVED_REDIS_URL: `rediss://fived:tls-test-password@127.0.0.1:${port}`, NODE_EXTRA_CA_CERTS: cert };
      const ok = await runFived(['wallet'], env);
      expect(ok.code, ok.stderr).toBe(0);
      expect(JSON.parse(ok.stdout).totals.balanced).toBe(true);
      // the same server over plain redis:// does not answer as Redis (it speaks TLS only)
      const plain = await runFived(['wallet'], { ...env, FIVED_REDIS_URL: env.FIVED_REDIS_URL.replace('rediss:', 'redis:') });
      expect(plain.code).not.toBe(0);
    } finally {
      await child.stop(60_000);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
