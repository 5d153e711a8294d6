// Issue 13, "Starting cleanly". A gateway or a scheduler whose port is taken exits non-zero at
// once with a coded message (systemd's Restart=on-failure can act; nothing keeps running behind
// a port it never got). A fresh cluster (a new Redis, a scheduler and a gateway started inside a
// period, before its freeze) opens that first period late: its commitment is public at once, a bet
// is taken, and the period's result comes at its end, verifying against the commitment.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drawMessage, verifyDraw } from '../src/core/draw.js';
import { runFived } from './support/deploy.js';
import { startRedis, testPrefix, TEST_SEED_KEY, type TestRedis } from './support/redis.js';
import { spawnScheduler, isAcquired, type SchedulerProc } from './support/scheduler.js';
import { Client, credit, gatewayEnv, JWT_SECRET, startGatewayProc, token, type GatewayProc } from './support/gateway.js';

let redis: TestRedis;
beforeAll(async () => { redis = await startRedis(); });
afterAll(async () => { await redis?.stop(); });

/** A plain TCP server holding a port on 127.0.0.1 (the "other process" in the way). */
async function holdPort(): Promise<{ port: number; close(): Promise<void> }> {
  const server = net.createServer((s) => s.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return { port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('a serving process that cannot bind its port', () => {
  const base = () => ({ FIVED_REDIS_URL: redis.url, FIVED_SEED_KEY: TEST_SEED_KEY, FIVED_KEY_PREFIX: testPrefix('bind'), FIVED_HOST: '127.0.0.1', FIVED_JWT_SECRET: JWT_SECRET, FIVED_LOG_LEVEL: 'info' });

  it('gateway: exits 1 at once with E_LISTEN_FAILED naming the address', async () => {
    const held = await holdPort();
    try {
      // runFived rejects if the process is still running after the bound (the old behaviour: it
      // logged, then "store closed" every second, forever)
      const r = await runFived(['gateway'], { ...base(), FIVED_PORT: String(held.port) }, 20_000);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`fived gateway: E_LISTEN_FAILED: cannot listen on 127.0.0.1:${held.port}`);
      expect(r.stdout).not.toMatch(/store closed/);
    } finally {
      await held.close();
    }
  });

  it('scheduler: exits 1 at once with E_LISTEN_FAILED naming its metrics address', async () => {
    const held = await holdPort();
    try {
      const r = await runFived(['scheduler'], { ...base(), FIVED_SCHEDULER_HOST: '127.0.0.1', FIVED_SCHEDULER_PORT: String(held.port) }, 20_000);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`fived scheduler: E_LISTEN_FAILED: cannot listen on 127.0.0.1:${held.port} (in use by another process)`);
    } finally {
      await held.close();
    }
  });
});

describe('cold start: the first period of a fresh cluster', () => {
  const DURATION = 20;
  const ROOM = `fiveD_${DURATION}`;
  let scheduler: SchedulerProc | undefined;
  let gw: GatewayProc | undefined;
  let client: Client | undefined;

  afterAll(async () => {
    client?.terminate();
    await Promise.all([gw?.stop(), scheduler?.stop()]);
  });

  it('is opened late: committed at once, takes a bet, and has its result at its end', async () => {
    // start early in a period, so that its freeze is well ahead (a loaded machine starts slowly)
    const ms = DURATION * 1000;
    const into = Date.now() % ms;
    if (into > 1500) await new Promise((r) => setTimeout(r, ms - into + 200));
    const startedAt = Date.now();
    const firstPeriodEnds = startedAt - (startedAt % ms) + ms;

    const env = gatewayEnv(redis.url, testPrefix('cold'), { FIVED_DURATIONS: String(DURATION), FIVED_FREEZE_MS: '2000' });
    scheduler = spawnScheduler('cold-sched', env);
    gw = await startGatewayProc(env);
    await scheduler.waitFor(isAcquired, 15_000, 'the lease');

    await credit(gw, 'cold-player', 10_000);
    client = await Client.connect(gw.port, { token: await token('cold-player') });
    const hello = await client.next((m) => m.type === 'hello');
    const info = (hello.rooms as Array<Record<string, unknown>>).find((r) => r.room === ROOM)!;
    // the period the cluster started in, with its commitment public (not void)
    expect(info.endsAt).toBe(firstPeriodEnds);
    expect(info.commitment).toMatch(/^[0-9a-f]{64}$/);
    expect(Date.now()).toBeLessThan((info.freezeAt as number) - 500);
    client.send({ type: 'subscribe', rooms: [ROOM] });
    await client.next((m) => m.type === 'subscribed');

    const periodId = info.periodId as string;
    const ack = await client.request({ type: 'bet', room: ROOM, periodId, kind: 'SUM', pick: 'big', amount: 100, clientBetId: 'cold-1' });
    expect(ack.type).toBe('bet_ack');
    expect(ack.balance).toBe(9900);

    const result = await client.next((m) => m.type === 'result' && m.periodId === periodId, ms + 10_000);
    const arrived = client.received.find((r) => r.msg === result)!.at;
    expect(arrived).toBeGreaterThanOrEqual(firstPeriodEnds);
    const v = verifyDraw(result.seed as string, info.commitment as string, drawMessage({ duration: DURATION, timeline: 'default', periodId }));
    expect(v.commitmentOk).toBe(true);
    expect(v.digits).toEqual(result.digits);
    const settled = await client.next((m) => m.type === 'settled' && m.periodId === periodId, 10_000);
    expect((settled.bets as unknown[]).length).toBe(1);
    expect(gw.output()).not.toMatch(/no commitment before/);
    // whichever came first (the scheduler or the gateway) says it opened the period late
    const said = (text: string) => new RegExp(`"periodId":"${periodId}"[^\n]*opened late`).test(text);
    expect(said(gw.output()) || scheduler.lines.some((l) => said(JSON.stringify(l)))).toBe(true);
  }, 90_000);
});
