// issue 16 item 4: `fived inspect` computed a period's times from the caller's own settings. An
// operator whose shell has another FIVED_DAY_OFFSET than the cluster got other times, and with them
// the wrong answer to "has it ended?": the result shown before its end (or hidden after it). The
// times now come from the store (the period's meta hash); a period the store never saw is said so.
// Runs the built CLI against a Redis of the test's own, on a period stored as the scheduler does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { periodById } from '../src/core/clock.js';
import { roomsOf, windowAt } from '../src/runtime/rooms.js';
import { RedisStore } from '../src/store/redis.js';
import { CLI_BIN } from './support/fived.js';
import { run } from './support/deploy.js';
import { LIMITS, PAY, planFor, resultOf } from './support/store-harness.js';
import { startRedis, testPrefix, TEST_SEED_KEY, type TestRedis } from './support/redis.js';

// the freeze leaves 2 s before the end for a `fived inspect` to start and answer on a loaded machine
const CLUSTER = { FIVED_DURATIONS: '3', FIVED_FREEZE_MS: '2000' };
// the operator's shell: the same room, but a game day that starts a minute earlier (UTC+00:01)
const OPERATOR = { ...CLUSTER, FIVED_DAY_OFFSET: '+00:01', FIVED_FREEZE_MS: '2500' };
let redis: TestRedis;
let store: RedisStore;
let prefix: string;

beforeAll(async () => {
  redis = await startRedis();
  prefix = testPrefix('inspect-times');
  store = new RedisStore({ redisUrl: redis.url, keyPrefix: prefix, seedKey: TEST_SEED_KEY });
  await store.init();
});
afterAll(async () => {
  await store?.close();
  await redis?.stop();
});

const inspect = (periodId: string, env: Record<string, string> = OPERATOR, room = 'fiveD_3') =>
  run(process.execPath, [CLI_BIN, 'inspect', room, periodId], {
    env: { PATH: process.env.PATH ?? '', FIVED_REDIS_URL: redis.url, FIVED_KEY_PREFIX: prefix, ...env },
    timeoutMs: 30_000,
  });
const until = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now() + 20)));

describe('fived inspect takes the period times from the store', () => {
  it("reports the stored times, and decides hidden/shown by them, whatever the caller's settings", async () => {
    const room = roomsOf(loadConfig(CLUSTER))[0]!;
    const w = windowAt(room, Date.now() + 3000); // the next period, as the cluster times it
    const seed = 'c4'.repeat(32);
    await store.commit(w, seed, w.startsAt - 1);
    await store.credit('ops', 10_000, 'dep-ops');
    await until(w.startsAt);
    await store.placeBet({ period: w, userId: 'ops', clientBetId: 'b1', kind: 'A', pick: 3, amount: 100 }, LIMITS, PAY, Date.now());
    await until(w.freezeAt);
    await store.saveSettlement(await planFor(store, w, seed));
    await store.storeResult(resultOf(w, seed));

    // by the operator's own settings this period ended a minute ago: the old inspect showed its seed
    const theirs = periodById(w.periodId, { duration: 3, freezeMs: 2500, dayStart: loadConfig(OPERATOR).dayStart });
    expect(theirs.endsAt).toBeLessThan(Date.now());
    const before = await inspect(w.periodId);
    expect(before.code, before.stderr).toBe(0);
    const report = JSON.parse(before.stdout);
    expect(report.period).toEqual({ duration: 3, timeline: 'default', periodId: w.periodId, startsAt: w.startsAt, freezeAt: w.freezeAt, endsAt: w.endsAt });
    expect(report.redisTime).toBeLessThan(w.endsAt);
    expect(before.stdout).not.toContain(seed);
    expect(before.stdout).toMatch(/hidden until the period ends/);

    await until(w.endsAt);
    const after = await inspect(w.periodId, { ...CLUSTER, FIVED_DAY_OFFSET: '-00:01' }); // ends a minute later by these
    expect(after.code, after.stderr).toBe(0);
    const a = JSON.parse(after.stdout);
    expect(a.period.endsAt).toBe(w.endsAt);
    expect(after.stdout).toContain(seed);
  });

  it('a period the store has no record of: says so, exit 1', async () => {
    const r = await inspect('20250101000000007');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('the store has no record of fiveD_3 period 20250101000000007');
    expect(r.stderr).toContain(`key prefix ${JSON.stringify(prefix)}`);
  });

  it('a period voided before any commitment (its meta has no times): shown, the times said to be missing, nothing revealed', async () => {
    // as the void script leaves it for a period that never got a commitment
    const ref = { duration: 3, timeline: 'default', periodId: '20250101000000009' };
    await store.client.hset(store.keys.period(ref).meta, 'void', '1', 'reason', 'test', 'vcursor', '0');
    const r = await inspect(ref.periodId);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.period).toMatchObject(ref);
    expect(report.period.times).toMatch(/not in the store/);
    expect(report.period.endsAt).toBeUndefined();
  });

  it('a malformed period id is a usage error (exit 2)', async () => {
    const r = await inspect('2025-01-01');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/must be a string of 17 digits/);
  });
});
