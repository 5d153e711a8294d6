// issue 16 item 4: `npm test` on a fresh Debian machine checks its system programs first
// (scripts/prereqs.mjs, the pretest step): root installs what is missing with apt-get, anyone else
// is stopped at once with the exact command. Run with a PATH lacking the tools, against a fake
// apt-get that records its calls.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO, run } from './support/deploy.js';
import { REDIS_SERVER } from './support/redis.js';

const SCRIPT = path.join(REPO, 'scripts', 'prereqs.mjs');
const dirs: string[] = [];

/** A folder holding only `node` (and, if asked, a fake apt-get): the PATH of a bare machine. */
function barePath(apt?: 'works' | 'fails'): { dir: string; log: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fived-prereqs-'));
  dirs.push(dir);
  symlinkSync(process.execPath, path.join(dir, 'node'));
  const log = path.join(dir, 'apt.log');
  if (apt) {
    // records each call (and DEBIAN_FRONTEND); `install` puts a stub program for each package here
    const bins = JSON.stringify({ [REDIS_SERVER]: [REDIS_SERVER], 'redis-tools': ['redis-cli'], haproxy: ['haproxy'], chromium: ['chromium'], systemd: ['systemd-analyze'], openssl: ['openssl'], coreutils: ['basenc'] });
    writeFileSync(path.join(dir, 'apt-get'), `#!${process.execPath}
const fs = require('node:fs'); const path = require('node:path');
const args = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ args, frontend: process.env.DEBIAN_FRONTEND ?? null }) + '\\n');
if (${JSON.stringify(apt)} === 'fails') process.exit(100);
if (args[0] === 'install') for (const pkg of args.filter((a) => !a.startsWith('-')).slice(1)) {
  for (const bin of (${bins})[pkg] ?? []) { const f = path.join(${JSON.stringify(dir)}, bin); fs.writeFileSync(f, '#!/bin/sh\\n'); fs.chmodSync(f, 0o755); }
}
`);
    chmodSync(path.join(dir, 'apt-get'), 0o755);
  }
  return { dir, log };
}

function prereqs(pathVar: string, as?: 'user' | 'root') {
  const env: NodeJS.ProcessEnv = { HOME: os.tmpdir(), PATH: pathVar };
  if (as) env.PREREQS_AS = as;
  return run(process.execPath, [SCRIPT], { env, timeoutMs: 20_000 });
}

function calls(log: string): Array<{ args: string[]; frontend: string | null }> {
  return existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : [];
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('scripts/prereqs.mjs (npm pretest)', () => {
  it('exits 0 quickly and silently when every program is there', async () => {
    const t0 = Date.now();
    const r = await prereqs(process.env.PATH ?? '');
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('as a normal user: stops at once naming each missing program, its package and the exact command; runs no apt-get', async () => {
    const { dir, log } = barePath('works');
    const r = await prereqs(dir, 'user');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('redis-server (Debian package redis-server)');
    expect(r.stderr).toContain('redis-cli (Debian package redis-tools)');
    expect(r.stderr).toContain('chromium (Debian package chromium)');
    expect(r.stderr).toContain('systemd-analyze (Debian package systemd)');
    const cmd = /sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ([a-z- ]+)\n/.exec(r.stderr);
    expect(cmd, r.stderr).not.toBeNull();
    expect(cmd![1]!.split(' ')).toEqual(expect.arrayContaining([REDIS_SERVER, 'redis-tools', 'chromium', 'systemd']));
    expect(calls(log)).toEqual([]);
  });

  it('as root: apt-get update, then a non-interactive install of exactly the missing packages; exit 0 once they are there', async () => {
    const { dir, log } = barePath('works');
    const r = await prereqs(dir, 'root');
    expect(r.code, r.stderr).toBe(0);
    const c = calls(log);
    expect(c.map((x) => x.args[0])).toEqual(['update', 'install']);
    expect(c[1]!.args.slice(0, 3)).toEqual(['install', '-y', '--no-install-recommends']);
    expect(c[1]!.args.slice(3)).toEqual(expect.arrayContaining([REDIS_SERVER, 'redis-tools', 'chromium', 'systemd']));
    expect(c[1]!.frontend).toBe('noninteractive');
    // a second run finds everything: no apt-get
    const again = await prereqs(dir, 'root');
    expect(again.code).toBe(0);
    expect(calls(log)).toHaveLength(2);
  });

  it('as root: a failing apt-get stops the run with the command to run by hand', async () => {
    const { dir, log } = barePath('fails');
    const r = await prereqs(dir, 'root');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/`apt-get update` failed/);
    expect(r.stderr).toMatch(/apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends .*chromium/);
    expect(calls(log)).toHaveLength(1);
  });

  it('without apt-get: names the packages and stops', async () => {
    const { dir } = barePath();
    const r = await prereqs(dir, 'root');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/No apt-get here: .*redis-server.*chromium/);
  });

  it('is the first step of npm test (before the type check, the lint and the build), and .ci/run only runs npm ci and npm test', () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.pretest).toBe('node scripts/prereqs.mjs && npm run typecheck && npm run lint && npm run build');
    const ci = readFileSync(path.join(REPO, '.ci', 'run'), 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
    expect(ci).toEqual(['set -euo pipefail', 'cd "$(dirname "$0")/.."', 'node --version', 'npm --version', 'npm ci', 'npm test']);
  });
});
