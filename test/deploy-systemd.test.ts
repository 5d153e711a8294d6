// systemd/ and scripts/install-systemd.sh: the script installs the units into a directory tree
// (--root) as `systemctl enable` would, every installed unit passes `systemd-analyze verify`
// without a warning, and the units carry what the deployment relies on (drain shorter than the
// stop timeout, check-config before start, hardening that leaves V8 alone).
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { CLI_BIN } from './support/fived.js';
import { REPO, run } from './support/deploy.js';

const SCRIPT = path.join(REPO, 'scripts/install-systemd.sh');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'fived-systemd-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const root = path.join(tmp, 'root');
const units = path.join(root, 'etc/systemd/system');
const envFile = path.join(root, 'etc/fived/fived.env');
// Rendered with this repo and this node, so ExecStart= points at files that exist here.
const installArgs = ['--root', root, '--gateways', '3', '--base-port', '4000', '--app-dir', REPO, '--node', process.execPath];

/** KEY=value lines of an environment file, as systemd reads them (comments and blanks skipped). */
function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

/** Values of one directive in a unit file (all occurrences, in order). */
function directive(unit: string, key: string): string[] {
  return unit.split('\n').filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));
}

function seconds(v: string): number {
  const m = /^(\d+)(ms|s|min)?$/.exec(v);
  if (!m) throw new Error(`not a time span: ${v}`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n / 1000 : m[2] === 'min' ? n * 60 : n;
}

describe('scripts/install-systemd.sh --root', () => {
  it('installs the units, enables the ports and the scheduler, and writes the env file', async () => {
    const r = await run(SCRIPT, installArgs);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const f of ['fived-gateway@.service', 'fived-scheduler.service', 'fived.target']) expect(existsSync(path.join(units, f)), f).toBe(true);
    const wants = readdirSync(path.join(units, 'fived.target.wants')).sort();
    expect(wants).toEqual(['fived-gateway@4000.service', 'fived-gateway@4001.service', 'fived-gateway@4002.service', 'fived-scheduler.service']);
    expect(readlinkSync(path.join(units, 'fived.target.wants/fived-gateway@4001.service'))).toBe('../fived-gateway@.service');
    expect(readlinkSync(path.join(units, 'multi-user.target.wants/fived.target'))).toBe('../fived.target');
    const gw = readFileSync(path.join(units, 'fived-gateway@.service'), 'utf8');
    expect(gw).toContain(`ExecStart=${process.execPath} ${CLI_BIN} gateway`);
    expect(gw).not.toContain('/opt/fived/bin');

    expect(statSync(envFile).mode & 0o777).toBe(0o600); // it holds the seed key
    const env = parseEnvFile(readFileSync(envFile, 'utf8'));
    expect(env.FIVED_JWT_SECRET).toMatch(/^[0-9a-f]{64}$/); // not the example's placeholder
    expect(env.FIVED_SEED_KEY).toMatch(/^[0-9a-f]{64}$/); // a random seed key of its own
    expect(env.FIVED_SEED_KEY).not.toBe(env.FIVED_JWT_SECRET);
  });

  it('keeps an existing env file and re-enables exactly the ports listed', async () => {
    const existing = `FIVED_REDIS_URL=redis://fived:kept-password@10.0.0.2:6379\nFIVED_SEED_KEY=${'5e'.repeat(32)}\n`;
    writeFileSync(envFile, existing);
    const r = await run(SCRIPT, ['--root', root, '--ports', '4000,4005', '--no-scheduler', '--app-dir', REPO, '--node', process.execPath]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('keeping the existing');
    expect(readFileSync(envFile, 'utf8')).toBe(existing);
    expect(readdirSync(path.join(units, 'fived.target.wants')).sort()).toEqual(['fived-gateway@4000.service', 'fived-gateway@4005.service']);
    // back to the first layout for the checks below
    expect((await run(SCRIPT, installArgs)).code).toBe(0);
  });

  it('changes nothing with --dry-run and refuses bad input', async () => {
    const dryRoot = path.join(tmp, 'dry');
    const r = await run(SCRIPT, ['--dry-run', '--root', dryRoot, '--gateways', '2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`ln -sfn ../fived-gateway@.service ${dryRoot}/etc/systemd/system/fived.target.wants/fived-gateway@3001.service`);
    expect(existsSync(dryRoot)).toBe(false);
    for (const args of [['--ports', '3000,abc'], ['--gateways', '0'], ['--base-port', '70000'], ['--app-dir', 'relative/dir'], ['--what']]) {
      const bad = await run(SCRIPT, ['--root', path.join(tmp, 'bad'), ...args]);
      expect(bad.code, args.join(' ')).toBe(2);
      expect(bad.stderr).toMatch(/^install-systemd: /);
    }
    expect(existsSync(path.join(tmp, 'bad'))).toBe(false);
  });
});

describe('the installed units', () => {
  it('pass systemd-analyze verify without a warning', async () => {
    expect(lstatSync(units).isDirectory()).toBe(true);
    for (const unit of ['fived-gateway@4000.service', 'fived-gateway@4002.service', 'fived-scheduler.service', 'fived.target']) {
      const r = await run('systemd-analyze', ['verify', path.join(units, unit)]);
      expect(r.stderr, unit).toBe('');
      expect(r.code, unit).toBe(0);
    }
  });

  it('systemd-analyze verify does catch a broken unit (the check above is not vacuous)', async () => {
    const broken = path.join(tmp, 'broken');
    rmSync(broken, { recursive: true, force: true });
    const bad = readFileSync(path.join(units, 'fived-scheduler.service'), 'utf8').replace(`${process.execPath} ${CLI_BIN} scheduler`, '/nonexistent/node x').replace('KillMode=mixed', 'KillMode=mixd');
    mkdirSync(broken);
    writeFileSync(path.join(broken, 'fived-scheduler.service'), bad);
    const r = await run('systemd-analyze', ['verify', path.join(broken, 'fived-scheduler.service')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/nonexistent\/node/);
    expect(r.stderr).toMatch(/kill mode/i);
  });

  it('stop after the drain, check the config first, restart on failure, and allow many sockets', () => {
    const example = parseEnvFile(readFileSync(path.join(REPO, 'systemd/fived.env.example'), 'utf8'));
    const drainS = Math.max(loadConfig({}).drainMs, Number(example.FIVED_DRAIN_MS ?? 0)) / 1000;
    for (const f of ['fived-gateway@.service', 'fived-scheduler.service']) {
      const u = readFileSync(path.join(units, f), 'utf8');
      const [stop] = directive(u, 'TimeoutStopSec');
      expect(seconds(stop!), f).toBeGreaterThan(drainS + 5);
      expect(directive(u, 'ExecStartPre')[0]).toBe(`${process.execPath} ${CLI_BIN} check-config`);
      expect(directive(u, 'EnvironmentFile')[0]).toBe('/etc/fived/fived.env');
      expect(directive(u, 'Restart')).toEqual(['on-failure']);
      expect(directive(u, 'KillSignal')).toEqual(['SIGTERM']);
      expect(Number(directive(u, 'LimitNOFILE')[0])).toBeGreaterThanOrEqual(65_536);
      expect(directive(u, 'PartOf')).toEqual(['fived.target']);
    }
    const gw = readFileSync(path.join(units, 'fived-gateway@.service'), 'utf8');
    expect(directive(gw, 'Environment')).toContain('FIVED_PORT=%i');
    expect(Number(directive(gw, 'LimitNOFILE')[0])).toBeGreaterThanOrEqual(1_000_000);
  });

  it('are hardened the way Node tolerates', async () => {
    for (const f of ['fived-gateway@.service', 'fived-scheduler.service']) {
      const u = readFileSync(path.join(units, f), 'utf8');
      for (const [k, v] of [['NoNewPrivileges', 'yes'], ['ProtectSystem', 'strict'], ['ProtectHome', 'yes'], ['PrivateTmp', 'yes'], ['DynamicUser', 'yes']] as const) {
        expect(directive(u, k), `${f} ${k}`).toEqual([v]);
      }
      expect(directive(u, 'MemoryDenyWriteExecute'), f).toEqual([]); // breaks V8's JIT
    }
    const r = await run('systemd-analyze', ['security', '--offline=yes', path.join(units, 'fived-gateway@4000.service')]);
    const m = /Overall exposure level for \S+: ([\d.]+)/.exec(r.stdout + r.stderr);
    expect(m, r.stdout + r.stderr).not.toBeNull();
    expect(Number(m![1])).toBeLessThan(4.5); // systemd's scale: 10 = unprotected
  });
});

describe('scripts/install-systemd.sh --archiver', () => {
  const aroot = path.join(tmp, 'archiver');
  const aunits = path.join(aroot, 'etc/systemd/system');
  const args = ['--root', aroot, '--gateways', '1', '--base-port', '4000', '--app-dir', REPO, '--node', process.execPath];

  it('installs the archiver unit on the release path, enables it, and a later run without the flag disables it', async () => {
    const r = await run(SCRIPT, [...args, '--archiver']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const u = readFileSync(path.join(aunits, 'fived-archiver.service'), 'utf8');
    // the committed unit names /opt/fived/current like the others, so the render points it at this app
    expect(directive(u, 'ExecStart')).toEqual([`${process.execPath} ${CLI_BIN} archiver`]);
    expect(directive(u, 'ExecStartPre')).toEqual([`${process.execPath} ${CLI_BIN} check-config`]);
    expect(directive(u, 'WorkingDirectory')).toEqual([REPO]);
    expect(u).not.toContain('/opt/fived/bin');
    expect(readlinkSync(path.join(aunits, 'fived.target.wants/fived-archiver.service'))).toBe('../fived-archiver.service');
    const v = await run('systemd-analyze', ['verify', path.join(aunits, 'fived-archiver.service')]);
    expect(v.stderr).toBe('');
    expect(v.code).toBe(0);

    expect((await run(SCRIPT, args)).code).toBe(0);
    expect(readdirSync(path.join(aunits, 'fived.target.wants')).sort()).toEqual(['fived-gateway@4000.service', 'fived-scheduler.service']);
  });
});

describe('systemd/fived.env.example', () => {
  it('is a valid configuration once it has a seed key, and leaves the port to the unit', () => {
    const env = parseEnvFile(readFileSync(path.join(REPO, 'systemd/fived.env.example'), 'utf8'));
    expect(Object.keys(env).length).toBeGreaterThan(10);
    expect(env.FIVED_PORT).toBeUndefined();
    expect(env.FIVED_INSTANCE).toBeUndefined();
    expect(env.FIVED_DEMO).toBe('false');
    // the example ships no key (a published one would protect nothing): refused until one is set
    expect(env.FIVED_SEED_KEY).toBe('');
    expect(() => loadConfig(env)).toThrow(/FIVED_SEED_KEY is required/);
    const cfg = loadConfig({ ...env, FIVED_SEED_KEY: 'ab'.repeat(32) });
    expect(cfg.redisUrl).toBe('redis://fived:CHANGE-ME@127.0.0.1:6379'); // with credentials (issue 13)
    expect(cfg.durations).toEqual([60, 180, 300, 600]);
  });

  it('passes `fived check-config` as the unit runs it', async () => {
    const env = parseEnvFile(readFileSync(envFile, 'utf8'));
    const u = readFileSync(path.join(units, 'fived-gateway@.service'), 'utf8');
    const [cmd, ...args] = directive(u, 'ExecStartPre')[0]!.split(' ');
    const ok = await run(cmd!, args, { env: { PATH: process.env.PATH, ...env, FIVED_PORT: '4000' } });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const bad = await run(cmd!, args, { env: { PATH: process.env.PATH, ...env, FIVED_PORT: '4000', FIVED_FREEZE_MS: 'soon' } });
    expect(bad.code).not.toBe(0);
    expect(bad.stdout + bad.stderr).toContain('FIVED_FREEZE_MS');
  });
});
