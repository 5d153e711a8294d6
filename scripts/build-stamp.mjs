#!/usr/bin/env node
// Whether dist/ is current, so `npm start` does not rebuild (8 s) when nothing changed.
//   begin   first step of `npm run build`: records the build's start time (dist/.build-started)
//           and forgets the last stamp, so a failed build never counts as current
//   end     last step of `npm run build`: the start time becomes dist/.build-stamp
//   check   exit 0 when dist/ is current, 1 (with the reason) when not
//   ensure  `npm start`'s prestart: runs `npm run build` unless dist/ is current
//   clean   `npm pack`'s prepack, before its build: removes dist/ (and packages/client/dist/), so
//           a tarball holds only what this build wrote (no file of a renamed or deleted source)
// Current = a stamp exists and no input (src/, web/, packages/, the build scripts and configs,
// package*.json) was modified after the start of the build that wrote it, less a second (file
// times come from a coarser clock than Date.now()). The start time, not the end: a file saved
// during a build may not be in it. Erring this way costs at most one needless build.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const INPUT_DIRS = ['src', 'web', 'packages'];
const INPUT_FILES = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build-assets.mjs', 'scripts/build-web.mjs', 'scripts/build-stamp.mjs'];
const SKIP = new Set(['node_modules', 'dist']);
const MARGIN_MS = 1000;

/** @param {string} root */
function stampPaths(root) {
  return { started: path.join(root, 'dist', '.build-started'), stamp: path.join(root, 'dist', '.build-stamp') };
}

/** the newest input's mtime (ms) and its path */
export function newestInput(root = ROOT) {
  let newest = { mtimeMs: 0, file: '' };
  /** @param {string} file */
  const see = (file) => {
    let st;
    try { st = statSync(file); } catch { return; }
    if (st.isDirectory()) {
      for (const e of readdirSync(file)) if (!SKIP.has(e)) see(path.join(file, e));
    } else if (st.mtimeMs > newest.mtimeMs) newest = { mtimeMs: st.mtimeMs, file };
  };
  for (const d of INPUT_DIRS) see(path.join(root, d));
  for (const f of INPUT_FILES) see(path.join(root, f));
  return newest;
}

/** null when dist/ is current, else why not */
export function staleReason(root = ROOT) {
  let builtFrom;
  try {
    builtFrom = JSON.parse(readFileSync(stampPaths(root).stamp, 'utf8')).startedAt;
  } catch {
    return 'no completed build in dist/';
  }
  const n = newestInput(root);
  if (typeof builtFrom !== 'number' || n.mtimeMs >= builtFrom - MARGIN_MS) return `${path.relative(root, n.file)} changed since the last build`;
  return null;
}

/** @param {string | undefined} mode */
function main(mode) {
  const { started, stamp } = stampPaths(ROOT);
  switch (mode) {
    case 'begin':
      mkdirSync(path.dirname(started), { recursive: true });
      rmSync(stamp, { force: true });
      writeFileSync(started, JSON.stringify({ startedAt: Date.now() }));
      return 0;
    case 'end':
      renameSync(started, stamp);
      return 0;
    case 'clean':
      rmSync(path.join(ROOT, 'dist'), { recursive: true, force: true });
      rmSync(path.join(ROOT, 'packages', 'client', 'dist'), { recursive: true, force: true });
      return 0;
    case 'check': {
      const why = staleReason();
      if (why) console.error(`dist/ is not current: ${why}`);
      return why ? 1 : 0;
    }
    case 'ensure': {
      const why = staleReason();
      if (!why) {
        console.error('dist/ is current: not rebuilding (npm run build forces it)');
        return 0;
      }
      console.error(`building: ${why}`);
      const npm = process.env.npm_execpath;
      const r = npm
        ? spawnSync(process.execPath, [npm, 'run', 'build'], { cwd: ROOT, stdio: 'inherit' })
        : spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
      return r.status ?? 1;
    }
    default:
      console.error('usage: node scripts/build-stamp.mjs begin|end|check|ensure|clean');
      return 2;
  }
}

if (process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url) {
  process.exitCode = main(process.argv[2]);
}
