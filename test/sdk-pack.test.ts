// issue 16 item 1: the packages as a user gets them. `npm pack` of fived (its prepack cleans dist/
// and builds) and of @fived/client (its prepack builds packages/client/dist); the tarballs hold
// what they must (dist, types, the bin) and nothing of test/, bench/, .ci/. The client tarball is
// installed into a fresh project with nothing else (no server dependency comes along); the server
// tarball, unpacked with the repo's node_modules as its dependencies, answers --help, mints a token
// (`fived token`) and runs the gateway (`fived all`, in-memory, a 5 s room) that the installed SDK
// then uses, in Node (docs/sdk.md's quick start, run as written) and in Chromium (the package's
// browser build, loaded as a module by a page): connect, subscribe, a bet, its verified result,
// an idempotent retry, the settlement, the balance.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, run } from './support/deploy.js';
import { CLI_BIN_REL, startFived } from './support/fived.js';
import { freePort, waitForPort } from './support/ports.js';
import type { Proc } from './support/procs.js';

const SECRET = 'sdk-pack-secret-0123456789';
const OPERATOR = 'operator-test-token-0123456789abcdef';
const ROOM = 'fiveD_5';
const START = 10_000;
const SERVER_DEPS = ['uWebSockets.js', 'ioredis', 'pino', 'piscina', 'prom-client', 'jose', 'fived'];

let tmp = '';
let packs = '';
let srv = ''; // the unpacked server package, as node_modules/fived of a project
let app = ''; // the fresh project the client tarball is installed into
let serverTgz = '';
let clientTgz = '';
let port = 0;
let gw: Proc | undefined;
let browser: Browser | undefined;

/** the environment without npm's own variables (npm test sets npm_config_* that would steer a nested npm) */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

async function must(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  const r = await run(cmd, args, { env: cleanEnv(), ...opts });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const tarList = async (tgz: string) => (await must('tar', ['tzf', tgz])).split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
const fivedBin = () => path.join(srv, 'node_modules', 'fived', CLI_BIN_REL);
const gwEnv = (extra: Record<string, string> = {}) =>
  cleanEnv({ FIVED_JWT_SECRET: SECRET, FIVED_OPERATOR_TOKEN: OPERATOR, FIVED_REDIS_URL: '', FIVED_LOG_LEVEL: 'warn', ...extra });

async function token(user: string): Promise<string> {
  return (await must(process.execPath, [fivedBin(), 'token', user, '--ttl', '600'], { env: gwEnv() })).trim();
}

async function credit(user: string, amount: number): Promise<void> {
  const r = await fetch(`http://127.0.0.1:${port}/api/wallet/credit`, {
    method: 'POST',
    headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' },
    body: JSON.stringify({ userId: user, amount, depositId: `sdk-pack-${user}` }),
  });
  expect(r.status).toBe(200);
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'fived-sdk-pack-'));
  packs = path.join(tmp, 'packs');
  mkdirSync(packs);
  // the server first: its prepack rebuilds dist/ (and the client's dist) from a clean slate
  await must('npm', ['pack', '--pack-destination', packs], { cwd: REPO, timeoutMs: 180_000 });
  await must('npm', ['pack', '--workspace', '@fived/client', '--pack-destination', packs], { cwd: REPO, timeoutMs: 120_000 });
  const tgz = readdirSync(packs);
  serverTgz = path.join(packs, tgz.find((f) => /^fived-\d/.test(f))!);
  clientTgz = path.join(packs, tgz.find((f) => /^fived-client-\d/.test(f))!);

  // the server package unpacked as a dependency of a project, its own dependencies the repo's
  srv = path.join(tmp, 'srv');
  const pkg = path.join(srv, 'node_modules', 'fived');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(path.join(srv, 'package.json'), JSON.stringify({ name: 'srv', private: true, type: 'module' }));
  await must('tar', ['xzf', serverTgz, '-C', pkg, '--strip-components=1']);
  symlinkSync(path.join(REPO, 'node_modules'), path.join(pkg, 'node_modules'), 'dir');

  // a fresh project with the client tarball and nothing else
  app = path.join(tmp, 'app');
  mkdirSync(app);
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'sdk-try', version: '1.0.0', private: true, type: 'module' }));
  await must('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', clientTgz], { cwd: app, timeoutMs: 120_000 });

  port = await freePort();
  gw = startFived('installed', ['all'], {
    bin: fivedBin(), cwd: srv,
    env: gwEnv({ FIVED_PORT: String(port), FIVED_DURATIONS: '5', FIVED_FREEZE_MS: '1000' }),
  });
  await waitForPort(port, '127.0.0.1', 20_000);
}, 300_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await gw?.stop(8000);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('npm pack: the tarballs', () => {
  it('fived: dist (CLI, page, Lua, the client copy), bin, docs; no test/, bench/, .ci/, src/, build stamps', async () => {
    const files = await tarList(serverTgz);
    for (const f of ['package.json', 'README.md', CLI_BIN_REL, 'dist/cli.js', 'dist/index.js', 'dist/index.d.ts', 'dist/core/index.js', 'dist/client/index.js', 'dist/client/index.d.ts', 'dist/web/index.html', 'dist/web/app.js', 'dist/web/fived-client.js', 'docs/sdk.md', 'docs/protocol.md']) {
      expect(files, f).toContain(f);
    }
    expect(files.some((f) => f.startsWith('dist/store/lua/') && f.endsWith('.lua'))).toBe(true);
    expect(files.filter((f) => /^(test|bench|\.ci|src|packages|web|node_modules)\//.test(f) || /\.build-/.test(f))).toEqual([]);
    // every file the manifest names exists in the tarball
    const manifest = JSON.parse(readFileSync(path.join(srv, 'node_modules', 'fived', 'package.json'), 'utf8'));
    const targets = [manifest.bin.fived, ...Object.values(manifest.exports as Record<string, string | Record<string, string>>).flatMap((e) => (typeof e === 'string' ? [e] : Object.values(e)))];
    for (const t of targets) expect(files, t).toContain(t.replace(/^\.\//, ''));
  });

  it('@fived/client: dist (ESM, browser bundle, types) and README only; msgpackr its one dependency', async () => {
    const files = await tarList(clientTgz);
    for (const f of ['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/browser.js', 'dist/types/packages/client/src/client.d.ts', 'dist/types/src/protocol.d.ts']) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => !/^(dist\/|package\.json$|README\.md$)/.test(f))).toEqual([]);
    const manifest = JSON.parse(readFileSync(path.join(app, 'node_modules', '@fived', 'client', 'package.json'), 'utf8'));
    expect(Object.keys(manifest.dependencies)).toEqual(['msgpackr']);
    expect(manifest.devDependencies).toBeUndefined();
    for (const e of Object.values(manifest.exports as Record<string, string | Record<string, string>>)) {
      for (const t of typeof e === 'string' ? [e] : Object.values(e)) expect(files, t).toContain(t.replace(/^\.\//, ''));
    }
  });
});

describe('the installed packages', () => {
  it('the client installs alone: no server dependency in the fresh project; its ESM entry and types load', async () => {
    const installed = readdirSync(path.join(app, 'node_modules'));
    for (const d of SERVER_DEPS) expect(installed, d).not.toContain(d);
    expect(existsSync(path.join(app, 'node_modules', 'msgpackr'))).toBe(true);
    // the bundle holds no import of the server's tree or of a server package
    const js = readFileSync(path.join(app, 'node_modules', '@fived', 'client', 'dist', 'index.js'), 'utf8');
    expect([...js.matchAll(/^import .* from ["']([^"']+)["']/gm)].map((m) => m[1])).toEqual(['msgpackr']);
    const out = await must(process.execPath, ['--input-type=module', '-e', "const m = await import('@fived/client'); console.log(JSON.stringify([typeof m.connect, typeof m.verifyResult, m.ErrorCode.PERIOD_FROZEN, m.CloseCode.AUTH_EXPIRED]))"], { cwd: app });
    expect(JSON.parse(out)).toEqual(['function', 'function', 'E_PERIOD_FROZEN', 4003]);
  });

  it('the server package: fived --help runs, and fived, fived/core, fived/client import', async () => {
    const help = await must(process.execPath, [fivedBin(), '--help'], { cwd: srv });
    expect(help).toMatch(/^ {2}token {2,}/m);
    expect(help).toMatch(/^ {2}all {2,}/m);
    const out = await must(process.execPath, ['--input-type=module', '-e', "const [a, b, c] = await Promise.all([import('fived'), import('fived/core'), import('fived/client')]); console.log(JSON.stringify([typeof a.verifyDraw, a.ErrorCode.BAD_REQUEST, typeof b.parsePeriodId, typeof c.connect]))"], { cwd: srv });
    expect(JSON.parse(out)).toEqual(['function', 'E_BAD_REQUEST', 'function', 'function']);
  });
});

describe('the SDK against a live gateway', () => {
  it("in Node: docs/sdk.md's quick start, as written: a bet, its verified result, the settlement, the balance", async () => {
    const doc = readFileSync(path.join(REPO, 'docs', 'sdk.md'), 'utf8');
    const example = /<!-- quickstart\.mjs[^>]*-->\s*```js\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(example, 'docs/sdk.md has the quick start example').toBeTruthy();
    writeFileSync(path.join(app, 'quickstart.mjs'), example!);
    // Node 20 has no WebSocket: the example imports `ws`, as the doc says to install it
    symlinkSync(path.join(REPO, 'node_modules', 'ws'), path.join(app, 'node_modules', 'ws'), 'dir');
    await credit('alice', START);
    const r = await run(process.execPath, ['quickstart.mjs'], {
      cwd: app,
      env: cleanEnv({ GATEWAY_URL: `ws://127.0.0.1:${port}/ws`, GAME_ROOM: ROOM, PLAYER_TOKEN: await token('alice') }),
      timeoutMs: 40_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const { ack, result, settled, balance } = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(ack).toMatchObject({ type: 'bet_ack', room: ROOM, kind: 'SUM', pick: 'big', amount: 100, duplicate: false, balance: START - 100 });
    expect(result).toMatchObject({ room: ROOM, periodId: ack.periodId, verified: true, early: false });
    expect(result.verification).toMatchObject({ commitmentOk: true, digitsOk: true, announcedOk: true });
    const big = result.sum >= 23;
    expect(settled.bets).toEqual([expect.objectContaining({ betId: ack.betId, state: big ? 'won' : 'lost', payout: big ? 196 : 0 })]);
    expect(balance).toBe(START - 100 + (big ? 196 : 0));
    expect(settled.balance).toBe(balance);
    expect(r.stderr).toMatch(/verified: true/);
    expect(r.stderr).not.toMatch(/warning|error/);
  });

  it("in Chromium: the package's browser build as a page's module: a bet, an idempotent retry, a verified result, the balance", async () => {
    const manifest = JSON.parse(readFileSync(path.join(app, 'node_modules', '@fived', 'client', 'package.json'), 'utf8'));
    const bundle = readFileSync(path.join(app, 'node_modules', '@fived', 'client', manifest.exports['./browser'].default), 'utf8');
    await credit('bob', START);
    const tok = await token('bob');
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) errors.push(`${m.text()} (${m.location().url})`); });
    // a document of the gateway's origin (a secure context: WebCrypto verifies; a document that
    // Playwright fulfils itself would trip Chromium's local-network checks), the bundle imported
    // as an ES module from its bytes
    await page.goto(`http://127.0.0.1:${port}/api/time`);
    // (a string, not a function: vitest would rewrite a function's import())
    await page.evaluate(`import(URL.createObjectURL(new Blob([${JSON.stringify(bundle)}], { type: 'text/javascript' }))).then((m) => { window.sdk = m; })`);
    const out = await page.evaluate(
      async ({ token, room }) => {
        const sdk = (window as unknown as { sdk: typeof import('../packages/client/src/index.js') }).sdk;
        const client = sdk.connect('/ws', { token, rooms: [room] });
        const warnings: string[] = [];
        client.on('warning', (w) => warnings.push(w.code));
        const closes: string[] = [];
        client.on('close', (c) => closes.push(`${c.code} ${c.reason}`));
        client.on('error', (e) => closes.push(`${e.code} ${e.message}`));
        await client.ready(10_000).catch((err) => { throw new Error(`${err.message}: ${closes.join('; ')}`); });
        await client.next('subscribed', 10_000);
        let ack: Awaited<ReturnType<typeof client.bet>> | undefined;
        let retry: Awaited<ReturnType<typeof client.bet>> | undefined;
        while (!ack) {
          const periodId = client.room(room)!.periodId;
          const clientBetId = sdk.newClientBetId();
          try {
            ack = await client.bet({ room, periodId, kind: 'A', pick: 7, amount: 250, clientBetId });
            retry = await client.bet({ room, periodId, kind: 'A', pick: 7, amount: 250, clientBetId });
          } catch (err) {
            if (!sdk.isFivedError(err) || !['E_PERIOD_FROZEN', 'E_PERIOD_CLOSED', 'E_PERIOD_VOID'].includes(err.code)) throw err;
            if (client.room(room)!.periodId === periodId) await client.next('period', 15_000);
          }
        }
        const result = await new Promise<import('../packages/client/src/index.js').VerifiedResult>((resolve) => {
          const off = client.on('result', (r) => {
            if (r.room === room && r.periodId === ack.periodId) { off(); resolve(r); }
          });
        });
        const balance = await client.balance();
        client.close();
        return { ack, retry, verified: result.verified, verification: result.verification, periodId: result.periodId, hasSubtle: !!globalThis.crypto?.subtle, balance, warnings, userId: client.userId };
      },
      { token: tok, room: ROOM },
    );
    expect(out.userId).toBe('bob');
    expect(out.ack).toMatchObject({ room: ROOM, kind: 'A', pick: 7, amount: 250, duplicate: false, balance: START - 250 });
    expect(out.retry).toMatchObject({ betId: out.ack.betId, duplicate: true, balance: START - 250 });
    expect(out.periodId).toBe(out.ack.periodId);
    expect(out.hasSubtle).toBe(true);
    expect(out.verified).toBe(true);
    expect(out.verification).toMatchObject({ commitmentOk: true, digitsOk: true, announcedOk: true });
    // the balance: debited once; plus the payout when its settlement already came
    expect([START - 250, START - 250 + 2205]).toContain(out.balance);
    expect(out.warnings).toEqual([]);
    expect(errors).toEqual([]);
  });
});
