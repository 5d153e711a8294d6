// issue 16 item 4: `fived check-config` refuses FIVED_* names that are no setting (`FIVED_DURATION=30`
// was `ok:true`), each with a "did you mean", while the tools' own variables (scripts/cluster.sh,
// chaos, soak, bench) pass. The known names are src/config.ts's SETTINGS, checked here to be exactly
// what loadConfig reads.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, SETTINGS, TOOL_PREFIXES, TOOL_VARIABLES, unknownSettings } from '../src/config.js';
import { warnUnknownSettings } from '../src/commands/common.js';
import { parseAt } from '../src/commands/config.js';
import { isCalendarDay } from '../src/commands/args.js';
import { redisUrlProblem } from '../src/config/groups.js';
import { CLI_BIN } from './support/fived.js';
import { REPO, run } from './support/deploy.js';

const checkConfig = (env: Record<string, string>) =>
  run(process.execPath, [CLI_BIN, 'check-config'], { env: { PATH: process.env.PATH, ...env }, timeoutMs: 30_000 });

/** every file under `dir` (recursively) */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = path.join(dir, e);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe('the known FIVED_* names', () => {
  it('SETTINGS is exactly the set of names loadConfig reads', () => {
    const read = new Set<string>();
    const env = new Proxy({} as Record<string, string | undefined>, {
      get(_t, name) {
        if (typeof name === 'string') read.add(name);
        return undefined;
      },
    });
    loadConfig(env);
    expect([...read].sort()).toEqual([...SETTINGS].sort());
  });

  it("every FIVED_* name the repo's scripts, benchmarks, units and tests use is a setting or a tool's variable", () => {
    const where = ['scripts', 'bench', 'systemd', 'haproxy', '.ci', 'test'].flatMap((d) => files(path.join(REPO, d)))
      // the tests that spell names wrong on purpose
      .filter((f) => !/first-hour-[a-z]+\.test\.ts$/.test(f));
    const seen = new Map<string, string>();
    for (const f of where) {
      for (const m of readFileSync(f, 'utf8').matchAll(/\bFIVED_[A-Z][A-Z0-9_]*[A-Z0-9]\b/g)) seen.set(m[0], path.relative(REPO, f));
    }
    expect(seen.size).toBeGreaterThan(40);
    const unknown = unknownSettings(Object.fromEntries([...seen.keys()].map((n) => [n, '1'])));
    expect(unknown.map((u) => `${u.name} (${seen.get(u.name)})`)).toEqual([]);
  });

  it('a tool variable is never also a setting', () => {
    for (const n of Object.keys(TOOL_VARIABLES)) expect(SETTINGS as readonly string[]).not.toContain(n);
    for (const p of Object.keys(TOOL_PREFIXES)) expect(SETTINGS.filter((s) => s.startsWith(p))).toEqual([]);
  });
});

describe('fived check-config and unknown names', () => {
  it('FIVED_DURATION=30: refused with "did you mean FIVED_DURATIONS?" (exit 1)', async () => {
    const r = await checkConfig({ FIVED_DURATION: '30' });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({ ok: false, code: 'E_CONFIG_INVALID', problems: ['unknown setting FIVED_DURATION; did you mean FIVED_DURATIONS?'] });
    expect(r.stderr).toContain('unknown setting FIVED_DURATION; did you mean FIVED_DURATIONS?');
  });

  it('lists every unknown name beside the other problems; a name like no setting gets no guess', async () => {
    const r = await checkConfig({ FIVED_DURATION: '30', FIVED_PROT: '4000', fived_demo: 'true', FIVED_WIBBLE_WOBBLE: '1', FIVED_MAX_STAKE: 'lots' });
    expect(r.code).toBe(1);
    const problems = (JSON.parse(r.stdout) as { problems: string[] }).problems;
    expect(problems).toEqual(expect.arrayContaining([
      'unknown setting FIVED_DURATION; did you mean FIVED_DURATIONS?',
      'unknown setting FIVED_PROT; did you mean FIVED_PORT?',
      'unknown setting fived_demo; did you mean FIVED_DEMO?',
      'unknown setting FIVED_WIBBLE_WOBBLE; not a fived setting (all of them: SETTINGS in src/config.ts)',
    ]));
    expect(problems.some((p) => p.startsWith('FIVED_MAX_STAKE="lots"'))).toBe(true);
    expect(problems).toHaveLength(5);
  });

  it("the tools' own variables pass (cluster.sh hands every FIVED_* to the processes)", async () => {
    const r = await checkConfig({
      FIVED_CLUSTER_DIR: '/tmp/x', FIVED_GATEWAYS: '3', FIVED_LB_PORT: '8080', FIVED_READY_TIMEOUT_S: '40', FIVED_REDIS_PORT: '6390',
      FIVED_CHAOS_ROUNDS: '3', FIVED_SOAK_MINUTES: '1', FIVED_BENCH_QUICK: '1', FIVED_DURATIONS: '30,60',
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, config: { durations: [30, 60] } });
  });

  it('a near miss of a tool variable names the tool', () => {
    expect(unknownSettings({ FIVED_GATEWAY: '3' })).toEqual([{ name: 'FIVED_GATEWAY', suggestion: 'FIVED_GATEWAYS', message: 'unknown setting FIVED_GATEWAY; did you mean FIVED_GATEWAYS (read by scripts/cluster.sh)?' }]);
  });

  it('a serving process is not stopped by them but logs a warning naming each', () => {
    const warned: Array<{ obj: object; msg: string }> = [];
    const out = warnUnknownSettings({ warn: (obj, msg) => warned.push({ obj, msg }) }, { FIVED_DURATION: '30', FIVED_PORT: '3000', FIVED_GATEWAYS: '2' });
    expect(out).toEqual(['unknown setting FIVED_DURATION; did you mean FIVED_DURATIONS?']);
    expect(warned).toHaveLength(1);
    expect(warned[0]!.obj).toEqual({ unknown: ['FIVED_DURATION'] });
    expect(warned[0]!.msg).toContain('did you mean FIVED_DURATIONS?');
    expect(warnUnknownSettings({ warn: () => { throw new Error('no warning expected'); } }, { FIVED_PORT: '1' })).toEqual([]);
  });
});

describe('FIVED_REDIS_URL is checked before any command uses it', () => {
  const SEED = { FIVED_SEED_KEY: 'ab'.repeat(32) };
  it('a port that is no number or beyond 65535, a scheme other than redis(s)://: check-config refuses it (it was "ok": true)', async () => {
    for (const [url, problem] of [
      ['redis://127.0.0.1:notaport', 'FIVED_REDIS_URL: the port "notaport" is not a number from 1 to 65535'],
      ['redis://127.0.0.1:99999', 'FIVED_REDIS_URL: the port "99999" is not a number from 1 to 65535'],
      ['redis://fived:s3cret@127.0.0.1:0', 'FIVED_REDIS_URL: the port "0" is not a number from 1 to 65535'],
      ['http://127.0.0.1:6379', 'FIVED_REDIS_URL: the scheme "http://" is not redis:// or rediss://'],
    ] as const) {
      const r = await checkConfig({ FIVED_REDIS_URL: url, ...SEED });
      expect(r.code, url).toBe(1);
      const out = JSON.parse(r.stdout) as { ok: boolean; code: string; problems: string[] };
      expect(out).toMatchObject({ ok: false, code: 'E_CONFIG_INVALID' });
      expect(out.problems).toEqual([expect.stringContaining(problem)]);
      expect(r.stdout + r.stderr).not.toContain('s3cret'); // the password is never repeated
    }
    for (const ok of ['redis://127.0.0.1:6379', 'rediss://fived:p%40ss@redis.example:6380/2', 'redis://[::1]:6379', 'redis://localhost']) expect(redisUrlProblem(ok), ok).toBeNull();
  });

  it('a command refuses it with E_CONFIG_INVALID (it failed with "TypeError: Invalid URL")', async () => {
    const r = await run(process.execPath, [CLI_BIN, 'inspect', 'fiveD_60', '20250731000000001'], { env: { PATH: process.env.PATH, FIVED_REDIS_URL: 'redis://127.0.0.1:notaport' }, timeoutMs: 30_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('E_CONFIG_INVALID');
    expect(r.stderr).toContain('the port "notaport" is not a number from 1 to 65535');
    expect(r.stderr).not.toMatch(/TypeError|Invalid URL/);
  });
});

describe('impossible dates are refused, not moved', () => {
  it('fived config apply --at 2027-02-31T00:00:00Z: usage error, exit 2 (it was applied on 2027-03-03)', async () => {
    for (const at of ['2027-02-31T00:00:00Z', '2027-02-29T12:00:00+01:00', '2027-01-01T24:00:00Z', '2027-01-01T10:00:00+25:00']) {
      const r = await run(process.execPath, [CLI_BIN, 'config', 'apply', '--at', at], { env: { PATH: process.env.PATH }, timeoutMs: 30_000 });
      expect(r.code, at).toBe(2);
      expect(r.stderr).toContain(`--at ${JSON.stringify(at)}: expected an ISO time with its zone`);
    }
    expect(parseAt('2028-02-29T00:00:00Z')).toBe(Date.UTC(2028, 1, 29));
    expect(parseAt('2027-03-01T01:00:00+01:00')).toBe(Date.UTC(2027, 2, 1));
    expect(() => parseAt('2027-04-31T00:00:00Z')).toThrow(/expected an ISO time/);
    // the one check of a written day, export's --from/--to too
    expect(['2027-02-28', '2028-02-29', '0001-01-01', '9999-12-31'].every(isCalendarDay)).toBe(true);
    expect(['2027-02-29', '2027-13-01', '0000-01-01', '2027-1-01'].some(isCalendarDay)).toBe(false);
  });
});
