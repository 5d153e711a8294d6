// Issue 13, item 3: `fived config apply` changes a room list and a paytable at a stated instant
// while players bet. A scheduler and two gateways on their own Redis keep running (no restart);
// the switch happens at the instant on every instance; every period is settled with the paytable
// it opened with; an instance started with other settings says exactly what differs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PAYTABLE } from '../src/core/types.js';
import { RedisStore } from '../src/store/redis.js';
import type { BetRecord } from '../src/store/types.js';
import { Client, credit, gatewayEnv, getJson, startGatewayProc, token, type GatewayProc } from './support/gateway.js';
import { runFived, waitUntil } from './support/deploy.js';
import { startRedis, testPrefix, TEST_SEED_KEY, type TestRedis } from './support/redis.js';
import { expectedPayout, requireBuild, spawnScheduler, type SchedulerProc } from './support/scheduler.js';

const OLD = { FIVED_DURATIONS: '5,10', FIVED_FREEZE_MS: '1500' };
const NEW = { FIVED_DURATIONS: '5,15', FIVED_FREEZE_MS: '1500', FIVED_PAY_SUM_BIG_SMALL: '3', FIVED_PAY_NUMBER: '8', FIVED_MAX_STAKE: '5000' };
const NEW_PAYTABLE = { ...DEFAULT_PAYTABLE, sumBigSmall: 3, number: 8 };

let redis: TestRedis;
let prefix: string;
let scheduler: SchedulerProc;
const gateways: GatewayProc[] = [];
const clients: Client[] = [];
let store: RedisStore;

const envOf = (game: Record<string, string>) => gatewayEnv(redis.url, prefix, { FIVED_SETTLE_GRACE_MS: '1000', ...game });
const toolEnv = (game: Record<string, string>) => ({ FIVED_REDIS_URL: redis.url, FIVED_KEY_PREFIX: prefix, ...game });

beforeAll(async () => {
  requireBuild();
  redis = await startRedis();
  prefix = testPrefix('cfgapply');
  scheduler = spawnScheduler('sched-cfg', { FIVED_REDIS_URL: redis.url, FIVED_KEY_PREFIX: prefix, FIVED_SEED_KEY: TEST_SEED_KEY, FIVED_SETTLE_GRACE_MS: '1000', ...OLD });
  await scheduler.waitFor((l) => /Lease acquired/.test(l.msg), 20_000, 'the lease');
  gateways.push(await startGatewayProc(envOf(OLD)), await startGatewayProc(envOf(OLD)));
  store = new RedisStore({ redisUrl: redis.url, keyPrefix: prefix, instance: 'test', light: true, seedKey: TEST_SEED_KEY });
  await store.init();
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all(gateways.map((g) => g.stop()));
  await scheduler?.stop();
  await store?.close();
  await redis?.stop();
});

/** Bets on every period of fiveD_5 until `stop()`: big, small and one digit bet per period. */
function bettor(c: Client, user: string): { stop(): Promise<void>; periods: Set<string> } {
  let stopped = false;
  const periods = new Set<string>();
  const loop = (async () => {
    while (!stopped) {
      const p = await c.next((m) => m.type === 'period' && m.room === 'fiveD_5' && !periods.has(m.periodId as string), 15_000, c.received.length);
      const periodId = p.periodId as string;
      periods.add(periodId);
      // big and small: one of them wins every period, so each side of the switch has winners
      for (const [kind, pick] of [['SUM', 'big'], ['SUM', 'small'], ['A', 3]] as const) {
        const ack = await c.request({ type: 'bet', room: 'fiveD_5', periodId, kind, pick, amount: 100, clientBetId: `${user}-${periodId}-${kind}-${pick}` });
        expect(ack.type, JSON.stringify(ack)).toBe('bet_ack');
      }
    }
  })();
  return { periods, stop: async () => { stopped = true; await loop.catch(() => undefined); } };
}

describe('fived config apply', () => {
  it('refuses bad instants and flags, changing nothing', async () => {
    const now = Date.now();
    const cases: Array<[string[], number, RegExp]> = [
      [['config', 'apply', '--at', String(now - 60_000)], 1, /E_INVALID_TIME.*in the past/],
      [['config', 'apply', '--at', String(Math.ceil(now / 30_000) * 30_000 + 30_000 + 1000)], 1, /E_INVALID_TIME.*inside an open period/],
      [['config', 'apply', '--at', 'tomorrow'], 2, /--at "tomorrow": expected an ISO time/],
      [['config', 'apply', '--At', '1'], 2, /unknown option --At/],
      [['config', 'aply'], 2, /unknown action "aply"/],
    ];
    for (const [args, code, msg] of cases) {
      const r = await runFived(args, toolEnv(NEW));
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr).toMatch(msg);
    }
    // the day start and timeline renumber periods: refused
    const day = await runFived(['config', 'apply'], toolEnv({ ...NEW, FIVED_DAY_START: '06:00' }));
    expect(day.code).toBe(1);
    expect(day.stderr).toMatch(/FIVED_DAY_START/);
    const shown = JSON.parse((await runFived(['config', 'show'], toolEnv(NEW))).stdout);
    expect(shown.pending).toBeNull();
    expect(shown.environment.differences.map((d: { setting: string }) => d.setting).sort()).toEqual(['FIVED_DURATIONS', 'FIVED_MAX_STAKE', 'FIVED_PAY_NUMBER', 'FIVED_PAY_SUM_BIG_SMALL']);
  }, 60_000);

  it('switches rooms and paytable at the instant on every instance while players bet; no restart', async () => {
    const users = ['cfg-a', 'cfg-b'];
    for (const u of users) await credit(gateways[0]!, u, 1_000_000);
    const bettors = [];
    for (const [i, u] of users.entries()) {
      const c = await Client.connect(gateways[i]!.port, { token: await token(u) });
      clients.push(c);
      await c.next((m) => m.type === 'hello');
      c.send({ type: 'subscribe', rooms: ['fiveD_5'] });
      bettors.push(bettor(c, u));
    }
    const watcher = await Client.connect(gateways[1]!.port);
    clients.push(watcher);
    await watcher.next((m) => m.type === 'hello');

    // a 30 s boundary (every room of both lists starts a period there) at least 25 s ahead: the
    // 5 s room's next period is committed already (10 s), with room for slow command starts
    const at = Math.ceil((Date.now() + 25_000) / 30_000) * 30_000;
    const dry = await runFived(['config', 'apply', '--at', new Date(at).toISOString(), '--dry-run'], toolEnv(NEW));
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse((await runFived(['config', 'show'], toolEnv(NEW))).stdout).pending).toBeNull();
    const r = await runFived(['config', 'apply', '--at', new Date(at).toISOString()], toolEnv(NEW));
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.atMs).toBe(at);
    expect(out.changes).toEqual(expect.arrayContaining([{ setting: 'FIVED_DURATIONS', field: 'durations', from: '5,10', to: '5,15' }, { setting: 'FIVED_PAY_SUM_BIG_SMALL', field: 'paytable.sumBigSmall', from: '2', to: '3' }]));

    // the bet limits switch too: a 6,000 stake is taken before the instant, refused after it
    const big = await Client.connect(gateways[0]!.port, { token: await token('cfg-c') });
    clients.push(big);
    await credit(gateways[0]!, 'cfg-c', 100_000);
    await big.next((m) => m.type === 'hello');
    big.send({ type: 'subscribe', rooms: ['fiveD_5'] });
    const bigBet = async (id: string) => {
      const p = await big.next((m) => m.type === 'period' && m.room === 'fiveD_5', 10_000, big.received.length);
      return big.request({ type: 'bet', room: 'fiveD_5', periodId: p.periodId, kind: 'SUM', pick: 'odd', amount: 6000, clientBetId: id });
    };
    expect((await bigBet('big-before')).type).toBe('bet_ack');

    // before the instant: the old rooms everywhere; fiveD_15 unknown
    for (const g of gateways) expect((await getJson(`${g.url}/api/rooms`)).body.map((x: { room: string }) => x.room)).toEqual(['fiveD_5', 'fiveD_10']);
    watcher.send({ type: 'subscribe', rooms: ['fiveD_15'] });
    expect((await watcher.next((m) => m.type === 'error')).code).toBe('E_INVALID_ROOM');
    // the gateways' /ready shows the pending change and stays ready (they were started with the settings then in effect)
    const ready = await getJson(`${gateways[0]!.url}/ready`);
    expect(ready.status).toBe(200);
    expect(Date.parse(ready.body.pending.at)).toBe(at);

    // the new room's first period opens exactly at the instant, committed ahead (not void)
    await clients[0]!.next((m) => m.type === 'period' && m.room === 'fiveD_5' && m.startsAt === at, at - Date.now() + 5000, 0);
    watcher.send({ type: 'subscribe', rooms: ['fiveD_15'] });
    const sub = await watcher.next((m) => m.type === 'subscribed' && JSON.stringify(m).includes('fiveD_15'), 5000, 0);
    const info = (sub.rooms as Array<Record<string, unknown>>).find((x) => x.room === 'fiveD_15')!;
    expect(info.startsAt).toBe(at);
    expect(info.freezeAt).toBe(at + 15_000 - 1500);
    expect(info.commitment).toMatch(/^[0-9a-f]{64}$/);
    for (const g of gateways) expect((await getJson(`${g.url}/api/rooms`)).body.map((x: { room: string }) => x.room)).toEqual(['fiveD_5', 'fiveD_15']);
    const first15 = await watcher.next((m) => m.type === 'result' && m.room === 'fiveD_15', 20_000);
    expect(first15.periodId).toBe(info.periodId);
    await scheduler.waitFor((l) => /game settings [0-9a-f]{32} in effect since/.test(l.msg), 5000, 'the switch in the log');
    const refused = await bigBet('big-after');
    expect(refused.type).toBe('error');
    expect(refused.code).toBe('E_STAKE_TOO_HIGH');

    // a few more periods of betting under the new paytable, then stop and let them settle
    await clients[0]!.next((m) => m.type === 'result' && m.room === 'fiveD_5' && periodStart({ periodId: m.periodId as string, duration: 5 }) >= at + 5000, 30_000, 0);
    await Promise.all(bettors.map((b) => b.stop()));
    const bets: BetRecord[] = [];
    await waitUntil('every bet settled', async () => {
      bets.length = 0;
      for (const u of users) bets.push(...(await store.userBets(u, undefined, 500)));
      return bets.every((b) => b.state === 'won' || b.state === 'lost') ? true : undefined;
    }, 30_000, 500);
    const before = bets.filter((b) => periodStart(b) < at);
    const after = bets.filter((b) => periodStart(b) >= at);
    expect(before.length).toBeGreaterThan(0);
    expect(after.length).toBeGreaterThan(0);
    // every bet settled with the paytable its period opened with
    for (const b of bets) {
      const res = await store.getResult({ duration: b.duration, timeline: b.timeline, periodId: b.periodId });
      expect(res, b.periodId).not.toBeNull();
      const paytable = periodStart(b) >= at ? NEW_PAYTABLE : DEFAULT_PAYTABLE;
      expect(b.payout, `${b.periodId} ${b.kind}:${b.pick}`).toBe(expectedPayout(b, res!.digits, paytable));
    }
    // a big/small win pays 3x the net stake after the switch, 2x before: the test tells them apart
    const net = 98; // 100 less the 2 % fee
    expect(after.filter((b) => b.kind === 'SUM' && b.state === 'won').map((b) => b.payout)).toContain(3 * net);
    expect(before.filter((b) => b.kind === 'SUM' && b.state === 'won').map((b) => b.payout)).toContain(2 * net);

    // nobody restarted: same processes, all ready
    expect(scheduler.alive()).toBe(true);
    for (const g of gateways) expect((await getJson(`${g.url}/ready`)).status).toBe(200);

    // an instance started now with the old settings says exactly what differs, and is not ready
    const stale = await startGatewayProc(envOf(OLD));
    gateways.push(stale);
    const s = await getJson(`${stale.url}/ready`);
    expect(s.status).toBe(503);
    const reasons = s.body.reasons.join(' ');
    expect(reasons).toMatch(/FIVED_DURATIONS \(durations\): 5,10 here, 5,15 registered/);
    expect(reasons).toMatch(/FIVED_PAY_SUM_BIG_SMALL \(paytable.sumBigSmall\): 2 here, 3 registered/);
    expect(reasons).toMatch(/FIVED_PAY_NUMBER \(paytable.number\): 9 here, 8 registered/);
    expect(stale.output()).toMatch(/game settings differ from the registered ones/);
  }, 150_000);
});

/** A 5 s room's period start from its id (day start 00:00 UTC). */
function periodStart(b: Pick<BetRecord, 'periodId' | 'duration'>): number {
  const day = Date.UTC(Number(b.periodId.slice(0, 4)), Number(b.periodId.slice(4, 6)) - 1, Number(b.periodId.slice(6, 8)));
  return day + (Number(b.periodId.slice(8)) - 1) * b.duration * 1000;
}
