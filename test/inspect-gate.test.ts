// Issue 12 row 4: `fived inspect ROOM ID` during the frozen window printed the stored result
// (digits + seed). Before the end by Redis TIME it must print nothing of the result, the seed or
// the settlement; after the end, everything. The command runs as operators run it (the built CLI)
// against a Redis of the test's own, on a period stored as the scheduler stores it at the freeze.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { drawDigits, drawMessage } from '../src/core/draw.js';
import { roomsOf, windowAt } from '../src/runtime/rooms.js';
import { decode, encode } from '../src/store/codec.js';
import { RedisStore } from '../src/store/redis.js';
import type { StoredResult } from '../src/store/types.js';
import { run as runCli } from './support/deploy.js';
import { CLI_BIN } from './support/fived.js';
import type { JsonBody } from './support/gateway.js';
import { LIMITS, PAY, planFor, resultOf } from './support/store-harness.js';
import { startRedis, testPrefix, TEST_SEED_KEY, type TestRedis } from './support/redis.js';

const run = promisify(execFile);
// the freeze leaves 2 s before the end for a `fived inspect` to start and answer on a loaded machine
// 2 s of betting, 4 s frozen: the frozen inspect (a CLI process) must run inside the window on a loaded host
const env = { FIVED_DURATIONS: '6', FIVED_FREEZE_MS: '4000' };
const ROOM = `fiveD_${env.FIVED_DURATIONS}`;
let redis: TestRedis;
let store: RedisStore;
let prefix: string;

beforeAll(async () => {
  redis = await startRedis();
  prefix = testPrefix('inspect');
  store = new RedisStore({ redisUrl: redis.url, keyPrefix: prefix, seedKey: TEST_SEED_KEY });
  await store.init();
});
afterAll(async () => {
  await store?.close();
  await redis?.stop();
});

async function inspect(periodId: string): Promise<string> {
  const r = await run(process.execPath, [CLI_BIN, 'inspect', ROOM, periodId], {
    env: { PATH: process.env.PATH ?? '', FIVED_REDIS_URL: redis.url, FIVED_KEY_PREFIX: prefix, ...env },
  });
  return r.stdout;
}

const until = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now() + 20)));

describe('fived inspect (row 4)', () => {
  it('prints no result, seed or settlement before the end by Redis TIME; all of it after', async () => {
    const room = roomsOf(loadConfig(env))[0]!;
    const w = windowAt(room, Date.now() + room.duration * 1000); // the next period
    const seed = 'a7'.repeat(32);
    await store.commit(w, seed, w.startsAt - 1);
    await store.credit('insp', 10_000, 'dep-insp');
    await until(w.startsAt);
    for (let d = 0; d <= 9; d++) await store.placeBet({ period: w, userId: 'insp', clientBetId: `i${d}`, kind: 'A', pick: d, amount: 100 }, LIMITS, PAY, Date.now());
    // at the freeze, as the scheduler does: snapshot, plan saved, result stored
    await until(w.freezeAt);
    await store.saveSettlement(await planFor(store, w, seed));
    const stored = resultOf(w, seed);
    await store.storeResult(stored);
    const digits = drawDigits(seed, drawMessage(w)).digits;
    expect(stored.digits).toEqual(digits);

    const frozen = await inspect(w.periodId);
    const report = JSON.parse(frozen);
    expect(report.redisTime).toBeLessThan(w.endsAt);
    expect(frozen).not.toContain(seed);
    expect(frozen).not.toMatch(/"digits"|tracking|"sum"/);
    const keys = report.keys as Record<string, JsonBody>;
    const resultKey = Object.keys(keys).find((k) => k.includes('precalc_5d_result') && !k.includes('{'))!;
    expect(keys[resultKey].value).toMatch(/hidden until the period ends/);
    const metaKey = Object.keys(keys).find((k) => k.endsWith(':meta'))!;
    expect(keys[metaKey].seed).toBeUndefined(); // sealed at rest: no clear seed field to hide
    expect(keys[metaKey].sealedSeed).toBeTypeOf('string');
    expect(keys[metaKey].total).toMatch(/hidden/); // the plan's total payout tells a lot about the digits
    expect(keys[metaKey].winners).toMatch(/hidden/);
    const wusersKey = Object.keys(keys).find((k) => k.endsWith(':wusers'))!;
    expect(keys[wusersKey].winners).toMatch(/hidden/);

    await until(w.endsAt);
    const after = JSON.parse(await inspect(w.periodId));
    expect(after.redisTime).toBeGreaterThanOrEqual(w.endsAt);
    expect(after.keys[resultKey].value).toMatchObject({ digits, seed, commitment: stored.commitment });
    expect(after.keys[metaKey].winners).toBe('1'); // one user, and one digit of A wins
    expect(after.keys[wusersKey].winners).toBe(1);
    expect(after.verified).toBe(true);

    // the stored result rewritten to other digits, the seed kept (as someone writing into Redis
    // would): flagged, with the reason, exit 1 — the gateways never serve it
    const cliEnv = { PATH: process.env.PATH ?? '', FIVED_REDIS_URL: redis.url, FIVED_KEY_PREFIX: prefix, ...env };
    const stored2 = decode<StoredResult>((await store.client.getBuffer(resultKey))!);
    const other = stored2.digits.map((d) => (d + 1) % 10);
    await store.client.set(resultKey, encode({ ...stored2, digits: other, sum: other.reduce((a, b) => a + b, 0) }), 'KEEPTTL');
    const forged = await runCli(process.execPath, [CLI_BIN, 'inspect', ROOM, w.periodId], { env: cliEnv, timeoutMs: 30_000 });
    expect(forged.code).toBe(1);
    const f = JSON.parse(forged.stdout);
    expect(f.verified).toBe(false);
    expect(f.reason).toBe(`its digits ${other.join('')} (sum ${other.reduce((a, b) => a + b, 0)}) are not the ones its seed draws, ${digits.join('')} (sum ${stored.sum})`);
    expect(forged.stderr).toContain(`E_RESULT_MISMATCH: the stored result of ${ROOM} period ${w.periodId} does not verify`);
    // another seed too: the seed is not the committed one
    await store.client.set(resultKey, encode({ ...stored2, seed: 'aa'.repeat(32) }), 'KEEPTTL');
    const seedForged = await runCli(process.execPath, [CLI_BIN, 'inspect', ROOM, w.periodId], { env: cliEnv, timeoutMs: 30_000 });
    expect(seedForged.code).toBe(1);
    expect(JSON.parse(seedForged.stdout)).toMatchObject({ verified: false, reason: expect.stringMatching(/SHA-256 of its seed is not the commitment/) });
  }, 30_000);
});
