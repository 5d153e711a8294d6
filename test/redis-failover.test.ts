// Issue 13, item 2: a failover of the Redis primary loses nothing acknowledged. A real primary, one
// replica and three Sentinels on loopback (passwords everywhere, min-replicas-to-write 1), a
// scheduler and two gateways in Sentinel mode (FIVED_REDIS_MIN_REPLICAS defaults to 1 there). Players
// bet continuously through both gateways. The replica's link first stops passing the primary's
// stream (it stays connected, as a replica behind a slow network), so the primary takes bets the
// replica does not have — the window asynchronous replication always has, made wide enough to
// matter: without WAIT those bets would be acknowledged, then lost (FIVED_REDIS_MIN_REPLICAS=0 makes
// this test fail). Then the link is cut and the primary gets kill -9 (its host dies with what it
// had not sent); the Sentinels promote the replica; the killed node comes back (as systemd would restart it) and the Sentinels make it the
// new primary's replica, so writes are accepted again. Then:
//  - no period from the first bet to the last is left without a result or a void (those that ended
//    while no write was possible are voided by the scheduler's gap sweep);
//  - every acknowledged bet is in the store and settled (won/lost) or refunded with its period's void;
//  - each player's balance = credit - stakes + payouts + refunds, the wallet invariant holds;
//  - one result per period: every client saw the same digits, and the stored result verifies;
//  - gateways and scheduler followed the new primary: bets are acknowledged and the scheduler
//    stores results after the promotion.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertResultVerifies } from '../src/runtime/compute.js';
import { nextWindow, roomsOf, windowOf } from '../src/runtime/rooms.js';
import { RedisStore } from '../src/store/redis.js';
import type { BetRecord } from '../src/store/types.js';
import { waitUntil } from './support/deploy.js';
import { testPrefix, TEST_SEED_KEY } from './support/redis.js';
import { isAcquired, requireBuild, spawnScheduler, type SchedulerProc } from './support/scheduler.js';
import { startReplicaSet, type TestReplicaSet } from './support/sentinel.js';
import { Client, credit, gatewayEnv, startGatewayProc, token, type GatewayProc, type Msg } from './support/gateway.js';

const ROOM = 'fiveD_3';
const DURATION = 3;
const PLAYERS = 4;
const CREDIT = 100_000;

let set: TestReplicaSet;
let sched: SchedulerProc;
let gateways: GatewayProc[] = [];
let store: RedisStore;
const clients: Client[] = [];

interface Acked { user: string; clientBetId: string; periodId: string; betId: string; at: number }
interface Bettor { user: string; acked: Acked[]; errors: Record<string, number>; client: Client; gw: GatewayProc }

beforeAll(async () => {
  requireBuild();
  set = await startReplicaSet({ replicas: 1, downAfterMs: 1000, failoverTimeoutMs: 3000 });
  const env = gatewayEnv(set.url, testPrefix('failover'), {
    FIVED_REDIS_SENTINELS: set.sentinels.list, FIVED_REDIS_SENTINEL_PASSWORD: set.sentinels.password,
    FIVED_REDIS_WAIT_TIMEOUT_MS: '500', FIVED_SETTLE_GRACE_MS: '1000',
  });
  sched = spawnScheduler('sched-fo', env);
  await sched.waitFor(isAcquired, 20_000, 'the lease');
  gateways = await Promise.all([startGatewayProc(env), startGatewayProc(env)]);
  store = new RedisStore({
    redisUrl: set.url, sentinels: set.sentinels.ports.map((port) => ({ host: '127.0.0.1', port })), sentinelPassword: set.sentinels.password,
    keyPrefix: env.FIVED_KEY_PREFIX, seedKey: TEST_SEED_KEY, light: true, instance: 'test-reader',
  });
  await store.init();
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.terminate();
  await Promise.all(gateways.map((g) => g.stop()));
  await sched?.stop();
  await store?.close();
  await set?.stop();
});

async function joinPlayer(i: number): Promise<Bettor> {
  const user = `fo-${i}`;
  const gw = gateways[i % gateways.length]!;
  await credit(gw, user, CREDIT);
  const client = await Client.connect(gw.port, { token: await token(user), format: 'text' });
  clients.push(client);
  await client.next((m) => m.type === 'hello');
  client.send({ type: 'subscribe', rooms: [ROOM] });
  return { user, acked: [], errors: {}, client, gw };
}

/** The period the player's gateway last said is taking bets (its latest tick in the betting phase). */
function bettingPeriod(c: Client): string | null {
  for (let i = c.received.length - 1; i >= 0; i--) {
    const { msg, at } = c.received[i]!;
    if (msg.type !== 'tick' || msg.room !== ROOM) continue;
    return msg.phase === 'betting' && Date.now() - at < 1200 ? (msg.periodId as string) : null;
  }
  return null;
}

/** Bets every ~50 ms until `stop()` says so; records acks and error codes. */
async function bet(b: Bettor, stop: () => boolean): Promise<void> {
  for (let n = 0; !stop(); n++) {
    const periodId = bettingPeriod(b.client);
    if (periodId) {
      const clientBetId = `${b.user}-${n}`;
      try {
        const r = await b.client.request({ type: 'bet', room: ROOM, periodId, kind: 'C', pick: n % 10, amount: 10, clientBetId }, 8000);
        if (r.type === 'bet_ack') b.acked.push({ user: b.user, clientBetId, periodId, betId: r.betId as string, at: Date.now() });
        else b.errors[r.code as string] = (b.errors[r.code as string] ?? 0) + 1;
      } catch {
        b.errors.timeout = (b.errors.timeout ?? 0) + 1;
      }
    }
    await new Promise((r) => setTimeout(r, 50)); // a player's pace, not a wait for an event
  }
}

const room = roomsOf({ durations: [DURATION], freezeMs: 1000, dayStart: { minutes: 0, offsetMinutes: 0 }, timeline: 'default' })[0]!;
function periodsBetween(first: string, last: string): string[] {
  const out: string[] = [];
  for (let w = windowOf(room, first); w.periodId <= last; w = nextWindow(room, w)) out.push(w.periodId);
  return out;
}

const ackCount = (bs: Bettor[]) => bs.reduce((n, b) => n + b.acked.length, 0);

/**
 * Resolves once the Sentinels' primary, whichever node that is now, has a replica online: with
 * min-replicas-to-write 1 it accepts writes again. Usually the restarted old primary has become the
 * new one's replica; on a loaded host the Sentinels may have failed over once more meanwhile (a
 * clean-clone run waited 60 s for the old primary to sync, and a failure said nothing more).
 */
async function waitWritable(timeoutMs: number): Promise<void> {
  let seen = '';
  const nodes = [set.primary, ...set.replicas];
  await waitUntil('a primary with a replica online', async () => {
    const port = await set.sentinels.primaryPort().catch(() => 0);
    const node = nodes.find((n) => n.port === port);
    if (!node) { seen = `the Sentinels name ${port}`; return undefined; }
    const c = new Redis(node.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await c.connect();
      const info = await c.info('replication');
      seen = `primary ${port} by the Sentinels: ${info.replace(/\r?\n/g, ' ').slice(0, 400)}`;
      return /^role:master/m.test(info) && /^slave\d+:.*state=online/m.test(info) ? true : undefined;
    } finally {
      c.disconnect();
    }
  }, timeoutMs, 200).catch((err: Error) => { throw new Error(`${err.message}; last seen: ${seen}`); });
}

/** What a failed wait shows: each player's errors and last tick, the processes' last log lines. */
function diagnose(bs: Bettor[]) {
  const lastTick = (c: Client) => [...c.received].reverse().find((r) => r.msg.type === 'tick');
  return {
    players: bs.map((b) => ({ user: b.user, acked: b.acked.length, errors: b.errors, lastTickAgoMs: Date.now() - (lastTick(b.client)?.at ?? 0), phase: lastTick(b.client)?.msg.phase })),
    scheduler: sched.lines.slice(-15).map((l) => JSON.stringify(l).slice(0, 300)),
    gateways: gateways.map((g) => g.output().split('\n').slice(-10).map((l) => l.slice(0, 300))),
  };
}
const ref = (periodId: string) => ({ duration: DURATION, timeline: 'default', periodId });

describe('Redis primary killed, replica promoted (issue 13)', () => {
  it('loses no acknowledged bet: each settled once or refunded with its void, balances add up, one result per period', async () => {
    const bettors = await Promise.all(Array.from({ length: PLAYERS }, (_, i) => joinPlayer(i)));
    let stopped = false;
    const loops = bettors.map((b) => bet(b, () => stopped));
    await waitUntil('bets acknowledged before the kill', async () => (ackCount(bettors) >= 40 ? true : undefined), 30_000);

    const replica = set.replicas[0]!;
    // the replica falls behind: bets written now are on the primary only
    const unconfirmed = () => bettors.reduce((n, b) => n + (b.errors.E_STORE_UNCONFIRMED ?? 0), 0);
    const [acks0, unconfirmed0] = [ackCount(bettors), unconfirmed()];
    set.links[0]!.hold();
    // with WAIT these bets are refused E_STORE_UNCONFIRMED; without it they would be acknowledged
    await waitUntil('bets sent while the replica lags', async () => (unconfirmed() >= unconfirmed0 + 8 || ackCount(bettors) >= acks0 + 20 ? true : undefined), 30_000);
    set.links[0]!.cut();
    await set.primary.kill();
    const killedAt = Date.now();
    await waitUntil('the Sentinels to promote the replica', async () => ((await set.sentinels.primaryPort()) === replica.port ? true : undefined), 30_000, 200);
    const promotedAt = Date.now();
    // the old primary comes back (systemd) and the Sentinels turn it into the new primary's replica:
    // with min-replicas-to-write 1 the new primary accepts writes again
    await set.primary.restart();
    await waitWritable(60_000);
    const before = ackCount(bettors);
    await waitUntil('bets acknowledged again after the failover', async () => (ackCount(bettors) >= before + 40 ? true : undefined), 60_000).catch((err: Error) => {
      // a clean-clone run timed out here once, beside three other files: say what was going on
      const logs = path.join(os.tmpdir(), `fived-failover-${process.pid}.log`);
      writeFileSync(logs, [...sched.lines.map((l) => JSON.stringify(l)), ...gateways.map((g) => g.output())].join('\n'));
      throw new Error(`${err.message}: ${ackCount(bettors) - before} of 40 since; ${JSON.stringify(diagnose(bettors))}; the processes' logs: ${logs}`);
    });
    stopped = true;
    await Promise.all(loops);

    const acked = bettors.flatMap((b) => b.acked);
    const bettedOn = [...new Set(acked.map((a) => a.periodId))].sort();
    const errors: Record<string, number> = {};
    for (const b of bettors) for (const [k, v] of Object.entries(b.errors)) errors[k] = (errors[k] ?? 0) + v;
    console.log(JSON.stringify({ failover: { acked: acked.length, promotedInMs: promotedAt - killedAt, errors } }));
    // every period from the first bet to the last — those that took bets, and those that ended
    // while the promoted primary refused writes (nothing stored: the scheduler's gap sweep voids
    // them) — ends settled, resulted (no bet to settle) or void: no gap in the history
    const periods = periodsBetween(bettedOn[0]!, bettedOn[bettedOn.length - 1]!);
    let stuck = '';
    await waitUntil('every period settled, resulted or void', async () => {
      for (const p of periods) {
        const rec = await store.getPeriod(ref(p));
        stuck = `${p}: ${JSON.stringify(rec)}`;
        if (!['settled', 'void'].includes(rec.status) && !(rec.status === 'resulted' && !bettedOn.includes(p))) return undefined;
      }
      return true;
    }, 40_000, 250).catch((err: unknown) => {
      const id = stuck.slice(0, 17);
      const said = sched.lines.filter((l) => JSON.stringify(l).includes(id)).map((l) => JSON.stringify(l)).slice(-6).join('\n');
      throw new Error(`${String(err)}; first unfinished ${stuck}; the scheduler about it:\n${said}`);
    });
    await checkBets(bettors);
    await checkResults(periods, killedAt);
    const totals = await store.walletTotals();
    expect(totals.balanced, JSON.stringify(totals)).toBe(true);
    expect(acked.filter((a) => a.at > promotedAt).length).toBeGreaterThanOrEqual(40);
  }, 180_000);
});

/** Every ack is a stored bet, won/lost/refunded; balances equal credit - stakes + payouts + refunds. */
async function checkBets(bettors: Bettor[]): Promise<void> {
  for (const b of bettors) {
    const records: BetRecord[] = await store.userBets(b.user, undefined, 1000);
    const byClientId = new Map(records.map((r) => [r.clientBetId, r]));
    for (const a of b.acked) {
      const r = byClientId.get(a.clientBetId);
      expect(r, `acknowledged bet ${a.clientBetId} (${a.periodId}) is in the store`).toBeDefined();
      expect(r!.betId).toBe(a.betId);
      expect(['won', 'lost', 'refunded'], `${a.clientBetId} is settled or refunded`).toContain(r!.state);
    }
    const stakes = records.reduce((s, r) => s + r.amount, 0);
    const back = records.reduce((s, r) => s + (r.state === 'won' || r.state === 'refunded' ? r.payout : 0), 0);
    expect(await store.balance(b.user), `${b.user}: ${JSON.stringify(b.errors)}`).toBe(CREDIT - stakes + back);
  }
}

/** One result per period: the same digits on every client of both gateways, verifying in the store. */
async function checkResults(periods: string[], killedAt: number): Promise<void> {
  const seen = new Map<string, string>();
  for (const c of clients) {
    for (const { msg } of c.of('result')) {
      const m = msg as Msg & { periodId: string; digits: number[] };
      const d = m.digits.join('');
      if (seen.has(m.periodId)) expect(seen.get(m.periodId), `period ${m.periodId}`).toBe(d);
      else seen.set(m.periodId, d);
    }
  }
  let afterKill = 0;
  for (const p of periods) {
    const rec = await store.getPeriod(ref(p));
    if (rec.status === 'void') continue;
    assertResultVerifies(rec.result!);
    if (seen.has(p)) expect(rec.result!.digits.join('')).toBe(seen.get(p));
    if (rec.result!.tracking.computedAt > killedAt && rec.result!.tracking.source === 'scheduler') afterKill += 1;
  }
  // the scheduler followed the promotion: it computed results after the kill
  expect(afterKill).toBeGreaterThan(0);
}
