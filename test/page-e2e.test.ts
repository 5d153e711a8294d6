// The demo page in a real browser: Debian's Chromium driven by playwright-core against
// `node bin/fived.js all` with a 5 s room and a 1 s freeze (in-memory store, demo sessions on),
// and the same scenario through HAProxy on the local cluster (scripts/cluster.sh: Redis with
// persistence, the scheduler, two gateways).
// The countdown advances, a bet before the freeze is acknowledged, the result appears at the
// period's end, Verify (WebCrypto in the page) says it matches, the page reconnects by itself
// after a gateway restart. Screenshots go to test-artifacts/ (gitignored).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freeConsecutivePorts, run } from './helpers/deploy.js';
import { freePort, waitForPort } from './helpers/ports.js';

const ROOM = 'fiveD_5';
const ROOT = new URL('..', import.meta.url).pathname;
const ARTIFACTS = `${ROOT}test-artifacts`;
let port = 0;
let gw: ChildProcess | undefined;
let browser: Browser | undefined;
let page: Page;
const pageErrors: string[] = [];

async function startGateway(): Promise<void> {
  gw = spawn(process.execPath, ['bin/fived.js', 'all'], {
    cwd: ROOT,
    env: { ...process.env, FIVED_PORT: String(port), FIVED_DURATIONS: '5', FIVED_FREEZE_MS: '1000', FIVED_DEMO: 'true', FIVED_JWT_SECRET: 'demo-test-secret-0123456789', FIVED_REDIS_URL: '', FIVED_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForPort(port, '127.0.0.1', 20_000);
}

async function stopGateway(): Promise<void> {
  const p = gw;
  gw = undefined;
  if (!p?.pid || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  process.kill(p.pid, 'SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 8000))]);
  if (p.exitCode === null && p.signalCode === null) {
    process.kill(p.pid, 'SIGKILL');
    await exited;
  }
}

const card = (sel = '') => `.room[data-room="${ROOM}"] ${sel}`.trim();

/** The round trip a player makes: live countdown, a bet before the freeze, the result at the end, verified. */
async function liveRoundTrip(page: Page, base: string, shot: string): Promise<void> {
  pageErrors.length = 0; // only errors of this round trip count (a restart test before it logs refused connections)
  await page.goto(`${base}/`);
  await page.waitForSelector('#conn[data-state="live"]', { timeout: 15_000 });
  await page.waitForSelector(card('.countdown'), { timeout: 10_000 });

  // countdown advances (driven by server ticks)
  const first = await page.textContent(card('.countdown'));
  await page.waitForFunction(
    ([sel, before]) => document.querySelector(sel)?.textContent !== before,
    [card('.countdown'), first] as const,
    { timeout: 5000 },
  );
  // a demo session: balance shown, slip enabled
  await expect.poll(() => page.textContent('#balance'), { timeout: 5000 }).not.toBe('—');

  // record in the page when each result row appears (page clock = this host's clock)
  await page.evaluate(() => {
    const w = window as unknown as { shownAt: Record<string, number> };
    w.shownAt = {};
    new MutationObserver(() => {
      document.querySelectorAll<HTMLElement>('.result[data-period]').forEach((li) => {
        w.shownAt[li.dataset.period!] ??= Date.now();
      });
    }).observe(document.body, { subtree: true, childList: true });
  });

  // wait for a period start, then bet SUM big at once (4 s of betting)
  const before = await page.textContent(card('.period'));
  await page.waitForFunction(([sel, b]) => document.querySelector(sel)?.textContent !== b, [card('.period'), before] as const, { timeout: 8000 });
  const periodId = (await page.textContent(card('.period')))!.trim();
  expect(periodId).toMatch(/^\d{17}$/);
  await page.click('#slip-kinds button:text-is("SUM")');
  await page.click('#slip-picks button[data-pick="big"]');
  await page.fill('#slip-amount', '2.50');
  await page.click('[data-testid="place-bet"]');
  await page.waitForSelector('[data-testid="bet-status"][data-kind="ok"]', { timeout: 4000 });
  expect(await page.textContent('[data-testid="bet-status"]')).toContain(`SUM big for 2.50`);
  expect(await page.locator('#mybets .bet[data-state="pending"]').count()).toBe(1);

  // the result of that period appears at its end, not before
  const info = (await (await fetch(`${base}/api/rooms/${ROOM}/periods/${periodId}`)).json()) as { endsAt: number };
  const row = card(`.result[data-period="${periodId}"]`);
  await page.waitForSelector(row, { timeout: 10_000 });
  const shownAt = await page.evaluate((p) => (window as unknown as { shownAt: Record<string, number> }).shownAt[p], periodId);
  if (shownAt === undefined) throw new Error('the result row was never observed');
  expect(shownAt).toBeGreaterThanOrEqual(info.endsAt);
  expect(shownAt - info.endsAt).toBeLessThan(2000);

  // verify recomputes the draw in the browser with WebCrypto
  await page.click(`${row} button.verify`);
  await page.waitForSelector(`${row} button.verify[data-ok="true"]`, { timeout: 5000 });
  expect(await page.textContent(`${row} button.verify`)).toContain('Matches commitment');
  expect(await page.textContent(`${row} .verify-out`)).toMatch(/SHA-256\(seed\) equals the commitment announced before betting/);

  // the bet settles after the end: won or lost, balance updated
  await page.waitForSelector('#mybets .bet:is([data-state="won"], [data-state="lost"])', { timeout: 10_000 });
  await page.screenshot({ path: `${ARTIFACTS}/${shot}.png`, fullPage: true });
  expect(pageErrors).toEqual([]);
}

beforeAll(async () => {
  for (const f of ['dist/cli.js', 'dist/web/index.html', 'dist/web/app.js']) {
    if (!existsSync(`${ROOT}${f}`)) throw new Error(`${f} is missing: run \`npm run build\` first`);
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  port = await freePort();
  await startGateway();
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
});

afterAll(async () => {
  await browser?.close();
  await stopGateway();
});

describe('demo page in Chromium', () => {
  it('shows a live room, takes a bet, reveals the result at the end and verifies it', async () => {
    await liveRoundTrip(page, `http://127.0.0.1:${port}`, 'page-e2e');
  });

  it('fits a phone-sized screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: `${ARTIFACTS}/page-e2e-phone.png`, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  it('reconnects by itself after the gateway restarts', async () => {
    await stopGateway();
    await page.waitForSelector('#conn[data-state="down"]', { timeout: 10_000 });
    await startGateway();
    await page.waitForSelector('#conn[data-state="live"]', { timeout: 20_000 });
    const t = await page.textContent(card('.countdown'));
    await page.waitForFunction(([sel, before]) => document.querySelector(sel)?.textContent !== before, [card('.countdown'), t] as const, { timeout: 5000 });
  });
});

describe('demo page through HAProxy on the local cluster', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fived-page-cluster-'));
  let env: NodeJS.ProcessEnv;
  let lb: Page;
  const cluster = (...args: string[]) => run(path.join(ROOT, 'scripts/cluster.sh'), args, { env, timeoutMs: 120_000 });

  beforeAll(async () => {
    const gwBase = await freeConsecutivePorts(2);
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      FIVED_CLUSTER_DIR: dir,
      FIVED_GATEWAYS: '2',
      FIVED_SCHEDULERS: '1',
      FIVED_BASE_PORT: String(gwBase),
      FIVED_SCHEDULER_PORT: String(await freePort()),
      FIVED_LB_PORT: String(await freePort()),
      FIVED_LB_STATS_PORT: String(await freePort()),
      FIVED_LB_OPERATOR_PORT: String(await freePort()),
      FIVED_REDIS_PORT: String(await freePort()),
      FIVED_DURATIONS: '5',
      FIVED_FREEZE_MS: '1000',
      FIVED_DEMO: 'true',
      FIVED_READY_TIMEOUT_S: '40',
    };
    const r = await cluster('start');
    expect(r.code, r.stderr).toBe(0);
    lb = await browser!.newPage({ viewport: { width: 1280, height: 860 } });
    lb.on('pageerror', (e) => pageErrors.push(String(e)));
  });

  afterAll(async () => {
    await lb?.close();
    await cluster('stop'); // ends exactly the processes it started, by pid
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows a live room, takes a bet, reveals the result at the end and verifies it', async () => {
    const info = JSON.parse(readFileSync(path.join(dir, 'cluster.json'), 'utf8')) as { lbPort: number };
    await liveRoundTrip(lb, `http://127.0.0.1:${info.lbPort}`, 'page-e2e-haproxy');
  });
});
