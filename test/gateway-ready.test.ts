// Readiness and shutdown: a skewed clock or a different game configuration keeps a gateway out
// of rotation; SIGTERM drains (GOING_AWAY to clients, new connections refused) and exits in time.
// Also: `fived gateway` refuses to run without Redis, and `fived check-config` reports problems.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { CLI_BIN } from './support/fived.js';
import { startRedis, testPrefix, type TestRedis } from './support/redis.js';
import { Client, gatewayEnv, getJson, startGatewayProc, type GatewayProc } from './support/gateway.js';

let redis: TestRedis;
let prefix: string;
const procs: GatewayProc[] = [];

beforeAll(async () => {
  redis = await startRedis();
  prefix = testPrefix('gwready');
});

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await redis?.stop();
});

async function gateway(extra: Record<string, string> = {}): Promise<GatewayProc> {
  const p = await startGatewayProc(gatewayEnv(redis.url, prefix, extra));
  procs.push(p);
  return p;
}

describe('readiness', () => {
  it('is ready when store, pool, clock and config agree; not with a skewed clock or another game config', async () => {
    const good = await gateway();
    const ok = await getJson(`${good.url}/ready`);
    expect(ok.status).toBe(200);
    expect(ok.body.ready).toBe(true);
    expect(Math.abs(ok.body.skewMs)).toBeLessThan(250);

    const skewed = await gateway({ FIVED_CLOCK_OFFSET_MS: '2000', FIVED_MAX_CLOCK_SKEW_MS: '250' });
    const s = await getJson(`${skewed.url}/ready`);
    expect(s.status).toBe(503);
    expect(s.body.reasons.join(' ')).toMatch(/clock skew/);
    expect(s.body.skewMs).toBeGreaterThan(1500);
    // a clock running ahead must not leak a result early: it holds results back by its lead
    const watcher = await Client.connect(skewed.port);
    await watcher.next((m) => m.type === 'hello');
    watcher.send({ type: 'subscribe', rooms: ['fiveD_3'] });
    const early = await watcher.next((m) => m.type === 'result', 10_000);
    const got = watcher.received.find((r) => r.msg === early)!;
    expect(got.at).toBeGreaterThanOrEqual(early.endsAt as number);
    watcher.close();

    const otherFee = await gateway({ FIVED_FEE_BPS: '300' });
    const f = await getJson(`${otherFee.url}/ready`);
    expect(f.status).toBe(503);
    // it says exactly what differs, field by field, and how to change the registered settings
    expect(f.body.reasons.join(' ')).toMatch(/game settings differ/);
    expect(f.body.reasons.join(' ')).toMatch(/FIVED_FEE_BPS \(paytable\.feeBps\): 300 here, \d+ registered/);
    expect(f.body.reasons.join(' ')).toMatch(/fived config apply/);
    expect(f.body.differences).toEqual([expect.objectContaining({ field: 'paytable.feeBps', setting: 'FIVED_FEE_BPS', mine: '300' })]);
    expect(f.body.fingerprint).not.toBe(f.body.registeredFingerprint);
    expect(f.body.registeredFingerprint).toBe(ok.body.fingerprint);

    // the first one is still ready: the registered fingerprint did not change
    expect((await getJson(`${good.url}/ready`)).status).toBe(200);
    const metrics = await (await fetch(`${good.url}/metrics`)).text();
    for (const name of ['fived_gateway_connections', 'fived_gateway_tick_lateness_seconds_bucket', 'fived_gateway_event_loop_delay_seconds_bucket', 'fived_gateway_pool_queue_depth', 'fived_gateway_fallback_total']) {
      expect(metrics).toContain(name);
    }
  }, 30_000);
});

describe('shutdown', () => {
  it('on SIGTERM sends GOING_AWAY, refuses new connections and exits within the bound', async () => {
    const gw = await gateway({ FIVED_DRAIN_MS: '2000' });
    const c = await Client.connect(gw.port);
    await c.next((m) => m.type === 'hello');
    const t0 = Date.now();
    const stopping = gw.stop(20_000);
    expect(await c.closed).toBe(1001);
    await expect(Client.connect(gw.port)).rejects.toThrow();
    expect(await stopping).toBe(0);
    expect(Date.now() - t0).toBeLessThan(2000 + 5000 + 2000);
    expect(gw.output()).toMatch(/fived gateway stopped/);
  }, 30_000);
});

describe('commands', () => {
  const bin = CLI_BIN;
  const env = (extra: Record<string, string>) => ({ PATH: process.env.PATH ?? '', ...extra });

  it('fived gateway refuses to run without Redis, saying why', () => {
    const r = spawnSync(process.execPath, [bin, 'gateway'], { env: env({ FIVED_PORT: '0' }), encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/FIVED_REDIS_URL/);
    expect(r.stderr).toMatch(/fived all/);
  });

  it('fived check-config prints the config or the problems', () => {
    const ok = spawnSync(process.execPath, [bin, 'check-config'], { env: env({ FIVED_OPERATOR_TOKEN: 'secret-op-0123456789abcdef0123456789' }), encoding: 'utf8', timeout: 20_000 });
    expect(ok.status).toBe(0);
    const parsed = JSON.parse(ok.stdout) as { ok: boolean; config: Record<string, unknown>; fingerprint: string };
    expect(parsed.ok).toBe(true);
    expect(parsed.config.operatorToken).toBe('***');
    expect(parsed.fingerprint).toMatch(/^[0-9a-f]{32}$/);
    const bad = spawnSync(process.execPath, [bin, 'check-config'], { env: env({ FIVED_DURATIONS: '7', FIVED_PORT: 'x' }), encoding: 'utf8', timeout: 20_000 });
    expect(bad.status).toBe(1);
    const problems = (JSON.parse(bad.stdout) as { problems: string[] }).problems;
    expect(problems.some((p) => p.includes('FIVED_DURATIONS'))).toBe(true);
    expect(problems.some((p) => p.includes('FIVED_PORT'))).toBe(true);
  });
});
