// Issue 12 row 3: a scheduler whose clock runs ahead must neither close betting early nor move
// money (or send `settled`) before the end. Beyond FIVED_MAX_CLOCK_SKEW_MS it is not ready and
// does not take the lease (a standby carries on); within it, it acts on a clock aligned with
// Redis TIME. Real processes on a Redis of the test's own; the test process's clock is the store's.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freePort } from './support/ports.js';
import { startRedis, testPrefix, type TestRedis } from './support/redis.js';
import { isAcquired, isStarted, spawnScheduler, type SchedulerProc } from './support/scheduler.js';
import { Client, credit, gatewayEnv, getJson, startGatewayProc, token, type GatewayProc, type Msg } from './support/gateway.js';

const ROOM = 'fiveD_3';
let redis: TestRedis | null = null;
let procs: Array<SchedulerProc | GatewayProc> = [];
let clients: Client[] = [];

afterEach(async () => {
  for (const c of clients) c.terminate();
  clients = [];
  await Promise.all(procs.map((p) => p.stop()));
  procs = [];
});
afterAll(async () => {
  await redis?.stop();
});

/** Bets right before the freeze (true clock), watches balance and settled until after the end. */
async function bettingAroundTheEnd(gw: GatewayProc, user: string): Promise<{ periodId: string; freezeAt: number; endsAt: number; lateAck: Msg; balances: Array<{ at: number; balance: number }>; settled: Msg; settledAt: number; ticks: Msg[]; start: number }> {
  await credit(gw, user, 1000);
  const c = await Client.connect(gw.port, { token: await token(user), format: 'text' });
  clients.push(c);
  await c.next((m) => m.type === 'hello');
  c.send({ type: 'subscribe', rooms: [ROOM] });
  const period = await c.next((m) => m.type === 'period', 8000);
  const start = c.received.length;
  const periodId = period.periodId as string;
  const freezeAt = period.freezeAt as number;
  const endsAt = period.endsAt as number;
  // one bet at once, then every digit of A 300 ms before the freeze: a scheduler 1.5 s ahead
  // would have frozen the period by then
  const first = await c.request({ type: 'bet', room: ROOM, periodId, kind: 'B', pick: 'odd', amount: 10, clientBetId: 'early' });
  expect(first.type, JSON.stringify(first)).toBe('bet_ack');
  await new Promise((r) => setTimeout(r, Math.max(0, freezeAt - 300 - Date.now())));
  const acks = await Promise.all(Array.from({ length: 10 }, (_, d) => c.request({ type: 'bet', room: ROOM, periodId, kind: 'A', pick: d, amount: 10, clientBetId: `late${d}` })));
  const lateAck = acks.find((a) => a.type !== 'bet_ack') ?? acks[0]!;
  const balances: Array<{ at: number; balance: number }> = [];
  while (Date.now() < endsAt + 300) {
    const b = await c.request({ type: 'balance' });
    balances.push({ at: Date.now(), balance: b.balance as number });
    await new Promise((r) => setTimeout(r, 25));
  }
  const settled = await c.next((m) => m.type === 'settled' && m.periodId === periodId, 10_000);
  const settledAt = c.received.find((r) => r.msg === settled)!.at;
  const ticks = c.received.slice(start).map((r) => r.msg).filter((m) => m.type === 'tick' && m.periodId === periodId && (m.now as number) < freezeAt);
  return { periodId, freezeAt, endsAt, lateAck, balances, settled, settledAt, ticks, start };
}

function expectNothingEarly(r: Awaited<ReturnType<typeof bettingAroundTheEnd>>): void {
  // betting stayed open until the freeze by the true clock, as the ticks said
  expect(r.lateAck.type, JSON.stringify(r.lateAck)).toBe('bet_ack');
  expect(r.ticks.length).toBeGreaterThan(0);
  for (const t of r.ticks) expect(t.phase).toBe('betting');
  // no balance change and no settled notice before the end
  const debited = 1000 - 10 - 100;
  for (const b of r.balances) if (b.at < r.endsAt) expect(b.balance, `balance changed ${r.endsAt - b.at} ms before the end`).toBe(debited);
  expect(r.settledAt).toBeGreaterThanOrEqual(r.endsAt);
  const won = (r.settled.bets as Array<{ state: string; payout: number }>).filter((b) => b.state === 'won');
  expect(won.length).toBeGreaterThanOrEqual(1); // one digit of A wins for sure
  expect(r.settled.balance).toBeGreaterThan(debited);
}

describe('a scheduler whose clock runs ahead (row 3)', () => {
  it('1.5 s ahead: not ready, never takes the lease (the standby does); betting closes and money moves only at the true instants', async () => {
    redis ??= await startRedis();
    const env = gatewayEnv(redis.url, testPrefix('skew'));
    // the skewed one first: on its own it would take the lease at once
    const port = await freePort();
    const skewed = spawnScheduler('sched-skewed', { ...env, FIVED_CLOCK_OFFSET_MS: '1500', FIVED_SCHEDULER_PORT: String(port) });
    procs.push(skewed);
    await skewed.waitFor(isStarted, 15_000, 'start');
    const ready = await getJson(`http://127.0.0.1:${port}/ready`);
    expect(ready.status).toBe(503);
    expect(ready.body.ready).toBe(false);
    expect(ready.body.reasons.join(' ')).toMatch(/clock skew/);
    expect(ready.body.skewMs).toBeGreaterThan(1000);
    expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toMatch(/^fived_scheduler_ready 0$/m);

    const standby = spawnScheduler('sched-true', env);
    procs.push(standby);
    await standby.waitFor(isAcquired, 15_000, 'the lease (standby)');
    const gw = await startGatewayProc(env);
    procs.push(gw);

    const r = await bettingAroundTheEnd(gw, 'skew-bettor');
    expectNothingEarly(r);
    // the scheduler with the true clock did the work; the skewed one never acted
    expect(skewed.lines.some(isAcquired)).toBe(false);
    expect(skewed.lines.some((l) => l.tag === '5D_PRECALC_EXEC' || l.tag === '5D_PERIOD_END')).toBe(false);
    expect(standby.lines.some((l) => l.tag === '5D_PRECALC_EXEC' && l.periodId === r.periodId)).toBe(true);
  }, 60_000);

  it('200 ms ahead (within the limit): it acts, on a clock aligned with Redis TIME — no early freeze, no early settlement', async () => {
    redis ??= await startRedis();
    const env = gatewayEnv(redis.url, testPrefix('skew-in'));
    const port = await freePort();
    const sched = spawnScheduler('sched-ahead', { ...env, FIVED_CLOCK_OFFSET_MS: '200', FIVED_SCHEDULER_PORT: String(port) });
    procs.push(sched);
    await sched.waitFor(isAcquired, 15_000, 'the lease');
    expect((await getJson(`http://127.0.0.1:${port}/ready`)).status).toBe(200);
    const gw = await startGatewayProc(env);
    procs.push(gw);
    const r = await bettingAroundTheEnd(gw, 'ahead-bettor');
    expectNothingEarly(r);
    // the skewed-but-ready scheduler computed and settled this period itself
    const end = await sched.waitFor((l) => l.tag === '5D_PERIOD_END' && l.periodId === r.periodId, 10_000, 'its settlement');
    expect(end.msg).toMatch(/settlement applied/);
  }, 60_000);
});
