// Issue 13, item 3 on the local cluster: `cluster.sh start` with other game settings than the ones
// registered fails saying exactly what differs (the /ready reasons, field by field) instead of a
// bare "not ready"; after `fived config apply` registers them, the same start succeeds and the
// instances keep the settings in effect until the registered instant.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO, freeConsecutivePorts, http, run, runFived } from './support/deploy.js';
import { freePort } from './support/ports.js';

const SCRIPT = path.join(REPO, 'scripts/cluster.sh');

describe('cluster.sh and changed game settings', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fived-cluster-settings-'));
  let env: NodeJS.ProcessEnv = {};
  const cluster = (extra: Record<string, string>, ...args: string[]) => run(SCRIPT, args, { env: { ...env, ...extra }, timeoutMs: 120_000 });

  afterAll(async () => {
    await run(SCRIPT, ['stop'], { env, timeoutMs: 60_000 });
    rmSync(dir, { recursive: true, force: true });
  });

  it('start with other durations prints what differs; after config apply it starts', async () => {
    const gwBase = await freeConsecutivePorts(1);
    const redisPort = await freePort();
    env = {
      PATH: process.env.PATH, HOME: process.env.HOME, FIVED_CLUSTER_DIR: dir, FIVED_GATEWAYS: '1', FIVED_SCHEDULERS: '1',
      FIVED_BASE_PORT: String(gwBase), FIVED_SCHEDULER_PORT: String(await freeConsecutivePorts(1, new Set([gwBase]))),
      FIVED_LB_PORT: String(await freePort()), FIVED_LB_STATS_PORT: String(await freePort()), FIVED_LB_OPERATOR_PORT: '0',
      FIVED_REDIS_PORT: String(redisPort), FIVED_FREEZE_MS: '1500', FIVED_READY_TIMEOUT_S: '40',
    };
    const first = await cluster({ FIVED_DURATIONS: '10,60' }, 'start');
    expect(first.code, first.stderr).toBe(0);
    expect((await cluster({}, 'stop')).code).toBe(0);

    const refused = await cluster({ FIVED_DURATIONS: '30,60', FIVED_READY_TIMEOUT_S: '8' }, 'start');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/not ready after 8s/);
    expect(refused.stderr).toMatch(/\/ready: game settings differ from the registered ones .*FIVED_DURATIONS \(durations\): 30,60 here, 10,60 registered/);
    expect(refused.stderr).toMatch(/fived config apply/);

    // the runbook's procedure: register the new settings (from the next game-day start), then start
    expect((await cluster({}, 'restart', 'redis')).code).toBe(0);
    // the cluster's own Redis runs with an ACL user whose password start saved in cluster.env
    const password = /^FIVED_CLUSTER_REDIS_PASSWORD=(.*)$/m.exec(readFileSync(path.join(dir, 'cluster.env'), 'utf8'))?.[1];
    expect(password).toBeTruthy();
    const tool = { FIVED_REDIS_URL: `redis://fived:${password}@127.0.0.1:${redisPort}`, FIVED_DURATIONS: '30,60', FIVED_FREEZE_MS: '1500' };
    const applied = await runFived(['config', 'apply'], tool);
    expect(applied.code, applied.stderr).toBe(0);
    const at = JSON.parse(applied.stdout).atMs as number;
    expect(at % 86_400_000).toBe(0); // the next game-day start (00:00 UTC)
    expect(at).toBeGreaterThan(Date.now());
    expect((await cluster({}, 'stop')).code).toBe(0);

    const started = await cluster({ FIVED_DURATIONS: '30,60' }, 'start');
    expect(started.code, started.stderr).toBe(0);
    // until the registered instant every instance keeps the settings in effect
    const rooms = JSON.parse((await http(gwBase, 'GET', '/api/rooms')).body) as Array<{ room: string }>;
    expect(rooms.map((r) => r.room)).toEqual(['fiveD_10', 'fiveD_60']);
    const ready = JSON.parse((await http(gwBase, 'GET', '/ready')).body);
    expect(Date.parse(ready.pending.at)).toBe(at);
  }, 240_000);
});
