#!/usr/bin/env node
// `npm test`'s first step (pretest): the system programs the suite starts. When one is missing,
// root installs it with apt-get (Debian); anyone else is stopped at once with the exact command to
// run, rather than minutes of `spawn haproxy ENOENT` failures. Exit 0 when all are there.
//
// PREREQS_AS=user|root overrides who we are (tests: the non-root answer without dropping privileges,
// the root path against a fake apt-get). Not a FIVED_* setting.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** program the tests run → the Debian package that provides it */
export const TOOLS = [
  { bin: 'redis-server', pkg: 'redis-server', why: 'every Redis test starts its own' },
  { bin: 'redis-cli', pkg: 'redis-tools', why: 'test/deploy-cluster.test.ts' },
  { bin: 'haproxy', pkg: 'haproxy', why: 'test/deploy-*.test.ts, test/page-e2e.test.ts' },
  { bin: 'chromium', pkg: 'chromium', why: 'test/page-e2e.test.ts' },
  { bin: 'systemd-analyze', pkg: 'systemd', why: 'test/deploy-systemd.test.ts (unit files verified)' },
  { bin: 'openssl', pkg: 'openssl', why: 'test/docs-fairness.test.ts (the recipe with standard tools)' },
  { bin: 'basenc', pkg: 'coreutils', why: 'test/docs-fairness.test.ts (the recipe with standard tools)' },
  // Debian keeps the server's programs under /usr/lib/postgresql/<version>/bin, off PATH (issue 14)
  { bin: 'postgres', pkg: 'postgresql', why: 'test/archive-*.test.ts, bench:archive (each starts its own PostgreSQL)', dirs: postgresBinDirs },
];

/** /usr/lib/postgresql/<version>/bin of every installed version */
export function postgresBinDirs() {
  const root = '/usr/lib/postgresql';
  try {
    return readdirSync(root).map((v) => path.join(root, v, 'bin'));
  } catch {
    return [];
  }
}

// Debian keeps haproxy in /usr/sbin, which a normal user's PATH lacks; vitest.config.ts adds these
// to the tests' PATH, so a program found there counts as present.
export const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** PATH with the sbin folders appended (those not already on it). */
export function withSbin(p = process.env.PATH ?? '') {
  const parts = p.split(path.delimiter).filter(Boolean);
  return [...parts, ...SBIN_DIRS.filter((d) => !parts.includes(d))].join(path.delimiter);
}

/** @param {string} bin @param {string} searchPath */
function found(bin, searchPath) {
  for (const dir of searchPath.split(path.delimiter).filter(Boolean)) {
    try {
      accessSync(path.join(dir, bin), constants.X_OK);
      return true;
    } catch { /* next */ }
  }
  return false;
}

/** the tools not found on PATH (+ sbin folders) */
export function missingTools(searchPath = withSbin()) {
  return TOOLS.filter((t) => !found(t.bin, t.dirs ? [searchPath, ...t.dirs()].join(path.delimiter) : searchPath));
}

/** @param {string[]} pkgs @param {boolean} root */
export function installCommand(pkgs, root) {
  const sudo = root ? '' : 'sudo ';
  return `${sudo}apt-get update && ${sudo}DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${pkgs.join(' ')}`;
}

function isRoot() {
  const as = process.env.PREREQS_AS;
  if (as === 'user') return false;
  if (as === 'root') return true;
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** @param {typeof TOOLS} missing */
function describe(missing) {
  return missing.map((t) => `  - ${t.bin} (Debian package ${t.pkg}): ${t.why}`).join('\n');
}

function main() {
  const missing = missingTools();
  if (missing.length === 0) return 0;
  const pkgs = [...new Set(missing.map((t) => t.pkg))];
  const root = isRoot();
  const hasApt = found('apt-get', withSbin());
  if (!root || !hasApt) {
    console.error(`npm test needs programs that are not installed:\n${describe(missing)}\n`);
    console.error(hasApt
      ? `Install them (then run npm test again):\n\n  ${installCommand(pkgs, root)}\n`
      : `No apt-get here: install the packages above (${pkgs.join(', ')}) with your system's package manager, then run npm test again.\n`);
    return 1;
  }
  console.error(`npm test: installing ${pkgs.join(' ')} (missing:\n${describe(missing)})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...pkgs]]) {
    const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (r.status !== 0) {
      console.error(`npm test: \`apt-get ${args.join(' ')}\` failed (${r.error?.message ?? `exit ${r.status}`}); install by hand:\n\n  ${installCommand(pkgs, true)}\n`);
      return 1;
    }
  }
  const still = missingTools();
  if (still.length > 0) {
    console.error(`npm test: still missing after apt-get install:\n${describe(still)}`);
    return 1;
  }
  return 0;
}

if (process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url) {
  process.exitCode = main();
}
