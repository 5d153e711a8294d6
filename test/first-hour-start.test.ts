// issue 16 item 4: `npm start` says where to open the page and how to bet in demo mode (plain
// lines, not only JSON logs), and does not rebuild when dist/ is current (scripts/build-stamp.mjs,
// its prestart). The banner is read from a real `fived all`; the stamp logic runs in a small
// project of its own whose "build" only records that it ran.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startFived } from './support/fived.js';
import { REPO, run } from './support/deploy.js';
import { freePort } from './support/ports.js';
import type { Proc } from './support/procs.js';

const SECRET = 'a'.repeat(64);

interface Started { child: Proc; banner: string }
const children: Proc[] = [];

/** Starts `fived all` and resolves with everything it wrote on stderr up to the banner's blank line. */
function startAll(env: Record<string, string>): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = startFived('all', ['all'], { env: { PATH: process.env.PATH, HOME: os.tmpdir(), FIVED_LOG_LEVEL: 'error', ...env } });
    children.push(child);
    let err = '';
    const timer = setTimeout(() => reject(new Error(`no banner within 30 s:\n${err}`)), 30_000);
    child.child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (/\n {2}open http:\/\/[^\n]*\n[\s\S]*\n\n/.test(err)) {
        clearTimeout(timer);
        resolve({ child, banner: err });
      }
    });
    void child.exited.then((e) => { clearTimeout(timer); reject(new Error(`fived all exited (${e.code}):\n${err}`)); });
  });
}

function get(url: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function stop(child: Proc): Promise<void> {
  await child.stop(60_000);
}

afterAll(async () => {
  for (const c of children) await stop(c);
});

describe('fived all (npm start) prints where to open the page and how to bet', () => {
  it('watch mode: the URL it serves the page on, and the exact demo command', async () => {
    const port = await freePort();
    const { child, banner } = await startAll({ FIVED_PORT: String(port), FIVED_DURATIONS: '30' });
    const url = /^ {2}open (http:\/\/\S+)$/m.exec(banner)?.[1];
    expect(url).toBe(`http://127.0.0.1:${port}/`);
    const page = await get(url!);
    expect(page.status).toBe(200);
    expect(page.type).toMatch(/text\/html/);
    expect(banner).toContain('demo mode is off');
    expect(banner).toMatch(/^ {4}FIVED_DEMO=true FIVED_JWT_SECRET=\$\(openssl rand -hex 32\) npm start$/m);
    // the banner is plain text, not a JSON log line
    for (const line of banner.split('\n').filter((l) => l.includes('open http'))) expect(() => JSON.parse(line)).toThrow();
    await stop(child);
  });

  it('demo mode (as the printed command starts it): says so, and the page can get a demo session', async () => {
    const port = await freePort();
    const { child, banner } = await startAll({ FIVED_PORT: String(port), FIVED_DURATIONS: '30', FIVED_DEMO: 'true', FIVED_JWT_SECRET: SECRET });
    expect(banner).toContain(`open http://127.0.0.1:${port}/`);
    expect(banner).toContain('demo mode is on');
    expect(banner).not.toContain('FIVED_DEMO=true FIVED_JWT_SECRET');
    const session = await get(`http://127.0.0.1:${port}/api/demo/session`, 'POST');
    expect(session.status, session.body).toBe(200);
    await stop(child);
  });

  it('starts despite a mistyped setting, but the banner names it with a "did you mean"', async () => {
    const port = await freePort();
    const { child, banner } = await startAll({ FIVED_PORT: String(port), FIVED_DURATIONS: '30', FIVED_DURATION: '60' });
    expect(banner).toContain('  warning: unknown setting FIVED_DURATION; did you mean FIVED_DURATIONS? (ignored)');
    await stop(child);
  });
});

describe('scripts/build-stamp.mjs: npm start builds only when dist/ is stale', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  /** a project with src/, web/ and a "build" that logs its runs (and fails while FAIL exists) */
  function project(): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fived-stamp-'));
    dirs.push(dir);
    mkdirSync(path.join(dir, 'scripts'));
    mkdirSync(path.join(dir, 'src'));
    mkdirSync(path.join(dir, 'web'));
    copyFileSync(path.join(REPO, 'scripts', 'build-stamp.mjs'), path.join(dir, 'scripts', 'build-stamp.mjs'));
    writeFileSync(path.join(dir, 'build.cjs'), `const fs = require('node:fs');
fs.appendFileSync('build.log', 'built\\n');
if (fs.existsSync('FAIL')) process.exit(1);
`);
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({
      name: 'stamp-test', private: true,
      scripts: { build: 'node scripts/build-stamp.mjs begin && node build.cjs && node scripts/build-stamp.mjs end' },
    }));
    writeFileSync(path.join(dir, 'src', 'a.ts'), 'export {};\n');
    writeFileSync(path.join(dir, 'web', 'app.ts'), 'export {};\n');
    // everything was written a minute ago
    const past = new Date(Date.now() - 60_000);
    for (const f of ['package.json', 'src/a.ts', 'web/app.ts', 'scripts/build-stamp.mjs']) utimesSync(path.join(dir, f), past, past);
    return dir;
  }
  const stamp = (dir: string, mode: string) => run(process.execPath, ['scripts/build-stamp.mjs', mode], { cwd: dir, env: { PATH: process.env.PATH, HOME: os.tmpdir() } });
  const builds = (dir: string) => (existsSync(path.join(dir, 'build.log')) ? readFileSync(path.join(dir, 'build.log'), 'utf8').split('\n').filter(Boolean).length : 0);

  it('builds when there is no build, then not again until a source under src/ or web/ changes', async () => {
    const dir = project();
    expect((await stamp(dir, 'check')).code).toBe(1);
    let r = await stamp(dir, 'ensure');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('no completed build');
    expect(builds(dir)).toBe(1);

    r = await stamp(dir, 'ensure');
    expect(r).toMatchObject({ code: 0 });
    expect(r.stderr).toContain('dist/ is current: not rebuilding');
    expect(builds(dir)).toBe(1);
    expect((await stamp(dir, 'check')).code).toBe(0);

    writeFileSync(path.join(dir, 'web', 'app.ts'), 'export const x = 1;\n');
    r = await stamp(dir, 'check');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${path.join('web', 'app.ts')} changed since the last build`);
    expect((await stamp(dir, 'ensure')).code).toBe(0);
    expect(builds(dir)).toBe(2);

    writeFileSync(path.join(dir, 'src', 'b.ts'), 'export {};\n'); // a new file counts too
    expect((await stamp(dir, 'check')).code).toBe(1);
  });

  it('a failed build never counts as current: the next start builds again', async () => {
    const dir = project();
    expect((await stamp(dir, 'ensure')).code).toBe(0);
    writeFileSync(path.join(dir, 'FAIL'), '');
    writeFileSync(path.join(dir, 'src', 'a.ts'), 'export const broken = ;\n');
    expect((await stamp(dir, 'ensure')).code).not.toBe(0);
    expect(builds(dir)).toBe(2);
    rmSync(path.join(dir, 'FAIL'));
    const r = await stamp(dir, 'check');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no completed build');
  });

  it('is what npm start and npm run build use', () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.prestart).toBe('node scripts/build-stamp.mjs ensure');
    expect(pkg.scripts.build).toMatch(/^node scripts\/build-stamp\.mjs begin && .* && node scripts\/build-stamp\.mjs end$/);
  });
});
