// The demo page in a real browser: Debian's Chromium driven by playwright-core against
// `fived all` with a 5 s room and a 1 s freeze (in-memory store, demo sessions on),
// and the same scenario through HAProxy on the local cluster (scripts/cluster.sh: Redis with
// persistence, the scheduler, two gateways).
// The countdown advances, a bet before the freeze is acknowledged, the result appears at the
// period's end, Verify (WebCrypto in the page) says it matches, the page reconnects by itself
// after a gateway restart. Screenshots go to test-artifacts/ (gitignored).
// Issue 16's page points: a watch-only gateway (no FIVED_DEMO) causes no console error, a reload
// shows the last result from history, a void period says so (and that bets are refunded), the bet
// status follows its bet past the period change to its outcome, a too-low stake is refused in the
// page's units, a win says what was paid and the profit, and players never see an instance name,
// an error code or a setting's name.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freeConsecutivePorts, run } from './support/deploy.js';
import { startFived } from './support/fived.js';
import { freePort, waitForPort } from './support/ports.js';
import type { Proc } from './support/procs.js';

// a setting-like word in an operator's void reason, which players must never see (built at run time:
// test/first-hour-config.test.ts scans the repo for FIVED_* names)
const SETTING_LIKE = ['FIVED', 'SOMETHING'].join('_');

const ROOM = 'fiveD_5';
const ROOT = new URL('..', import.meta.url).pathname;
const ARTIFACTS = `${ROOT}test-artifacts`;
let port = 0;
let gw: Proc | undefined;
const INSTANCE = 'gw-page-e2e-instance';
let browser: Browser | undefined;
let page: Page;
const pageErrors: string[] = [];

function spawnGateway(at: number, env: NodeJS.ProcessEnv): Proc {
  return startFived(INSTANCE, ['all'], {
    env: { ...process.env, FIVED_PORT: String(at), FIVED_FREEZE_MS: '1000', FIVED_REDIS_URL: '', FIVED_LOG_LEVEL: 'warn', FIVED_INSTANCE: INSTANCE, ...env },
  });
}

async function startGateway(): Promise<void> {
  gw = spawnGateway(port, { FIVED_DURATIONS: '5', FIVED_DEMO: 'true', FIVED_JWT_SECRET: 'demo-test-secret-0123456789' });
  await waitForPort(port, '127.0.0.1', 20_000);
}

async function stopGateway(): Promise<void> {
  const p = gw;
  gw = undefined;
  await stopProcess(p);
}

async function stopProcess(p: Proc | undefined): Promise<void> {
  await p?.stop(8000);
}

const card = (sel = '') => `.room[data-room="${ROOM}"] ${sel}`.trim();

/** What a player can read on the page: no instance name, no error code, no setting's name. */
async function expectPlayerText(p: Page): Promise<void> {
  // biome-ignore lint/performance/useDomNodeTextContent: innerText is what a player sees (not hidden text)
  const text = await p.evaluate(() => document.body.innerText + ' ' + [...document.querySelectorAll('[title]')].map((e) => e.getAttribute('title')).join(' '));
  expect(text).not.toContain(INSTANCE);
  expect(text).not.toMatch(/\bE_[A-Z_]{3,}/);
  expect(text).not.toMatch(/FIVED_/);
}

/** Waits for the room's period to change from `before` and returns the new period id. */
async function nextPeriod(p: Page, before: string | null, timeout = 8000): Promise<string> {
  await p.waitForFunction(([sel, b]) => document.querySelector(sel)?.textContent !== b, [card('.period'), before] as const, { timeout });
  return (await p.textContent(card('.period')))!.trim();
}

async function bet(p: Page, kind: string, pick: string, amount: string): Promise<void> {
  await p.click(`#slip-kinds button:text-is("${kind}")`);
  await p.click(`#slip-picks button[data-pick="${pick}"]`);
  await p.fill('#slip-amount', amount);
  await p.click('[data-testid="place-bet"]');
}

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
  // the status follows the bet: once its period has moved on it no longer says "Accepted", and it
  // ends on the outcome (the old page kept "Accepted … on #N" for good)
  await nextPeriod(page, periodId);
  await page.waitForSelector('[data-testid="bet-status"]:is([data-kind="pending"], [data-kind="won"], [data-kind="lost"])', { timeout: 4000 });
  expect(await page.textContent('[data-testid="bet-status"]')).not.toMatch(/^Accepted/);
  await page.waitForSelector('[data-testid="bet-status"]:is([data-kind="won"], [data-kind="lost"])', { timeout: 10_000 });
  expect(await page.textContent('[data-testid="bet-status"]')).toMatch(
    new RegExp(`^SUM big for 2\\.50 on #${Number(periodId.slice(8))}: (won: paid 4\\.90 \\(stake 2\\.50, profit 2\\.40\\)|lost the 2\\.50 stake)$`),
  );

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
  await expectPlayerText(page);
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

  it('refuses a too-low stake with a message in the page\'s units', async () => {
    // the server refuses 1 minor unit (E_STAKE_TOO_LOW, "below the minimum 2"); the page says 0.02
    if (!page.url().startsWith('http')) await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForSelector('#conn[data-state="live"]', { timeout: 15_000 });
    await page.waitForSelector('[data-testid="place-bet"]:not([disabled])', { timeout: 8000 });
    await bet(page, 'A', '7', '0.01');
    await page.waitForSelector('[data-testid="bet-status"][data-kind="error"]', { timeout: 4000 });
    expect(await page.textContent('[data-testid="bet-status"]')).toBe('Not placed. The minimum stake is 0.02.');
    await expectPlayerText(page);
  });

  it('says what a win paid, its stake and the profit (exactly)', async () => {
    // SUM big and SUM small on one period: exactly one of them wins; 5.00 is 4.90 net after the
    // 2 % fee, paid 2× = 9.80, a profit of 4.80 over the stake (the old page said "You won 9.80")
    const periodId = await nextPeriod(page, await page.textContent(card('.period')));
    await bet(page, 'SUM', 'big', '5.00');
    await page.waitForSelector('[data-testid="bet-status"][data-kind="ok"]', { timeout: 3000 });
    await bet(page, 'SUM', 'small', '5.00');
    await page.waitForFunction((t) => document.querySelector('[data-testid="bet-status"]')?.textContent?.includes(t), 'SUM small for 5.00', { timeout: 3000 });
    const seq = Number(periodId.slice(8));
    const toast = page.locator('.toast.win');
    await toast.waitFor({ timeout: 12_000 });
    expect(await toast.textContent()).toMatch(new RegExp(`^SUM (big|small) won on #${seq}: paid 9\\.80 \\(stake 5\\.00, profit 4\\.80\\)$`));
    await page.waitForSelector('[data-testid="bet-status"]:is([data-kind="won"], [data-kind="lost"])', { timeout: 5000 });
    expect(await page.textContent('[data-testid="bet-status"]')).toMatch(
      new RegExp(`^SUM small for 5\\.00 on #${seq}: (won: paid 9\\.80 \\(stake 5\\.00, profit 4\\.80\\)|lost the 5\\.00 stake)$`),
    );
    const won = page.locator(`#mybets .bet[data-state="won"]:has-text("#${seq}")`);
    expect(await won.count()).toBe(1);
    expect(await won.locator('.bet-state').textContent()).toBe('won · paid 9.80 (profit 4.80)');
    await page.screenshot({ path: `${ARTIFACTS}/page-e2e-win.png`, fullPage: true });
    await expectPlayerText(page);
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

describe('demo page on a watch-only gateway (no FIVED_DEMO)', () => {
  const OP = 'page-e2e-operator-token-0123456789';
  const ROOM60 = 'fiveD_60';
  let watch: Proc | undefined;
  let base = '';
  let wp: Page;
  const errors: string[] = [];
  const card60 = (sel = '') => `.room[data-room="${ROOM60}"] ${sel}`.trim();

  beforeAll(async () => {
    const at = await freePort();
    base = `http://127.0.0.1:${at}`;
    watch = spawnGateway(at, { FIVED_DURATIONS: '5,60', FIVED_DEMO: 'false', FIVED_OPERATOR_TOKEN: OP });
    await waitForPort(at, '127.0.0.1', 20_000);
    wp = await browser!.newPage({ viewport: { width: 1280, height: 860 } });
    wp.on('pageerror', (e) => errors.push(String(e)));
    wp.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    wp.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
    wp.on('response', (r) => {
      if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`);
    });
  });

  afterAll(async () => {
    await wp?.close();
    await stopProcess(watch);
  });

  it('loads without a console error or a failing request, watching only', async () => {
    await wp.goto(`${base}/`);
    await wp.waitForSelector('#conn[data-state="live"]', { timeout: 15_000 });
    await wp.waitForSelector(card('.countdown'), { timeout: 10_000 });
    await wp.waitForSelector(card('.result[data-period]'), { timeout: 10_000 });
    expect(await wp.textContent('#slip-period')).toBe('Watching only: this server does not take bets from this page.');
    expect(await wp.locator('[data-testid="place-bet"][disabled]').count()).toBe(1);
    await expectPlayerText(wp);
    expect(errors).toEqual([]); // the old page logged a 404 for POST /api/demo/session on every load
  });

  it('shows the last result from history after a reload', async () => {
    // right after a period change: the last result is the period that just ended, and the next
    // live one is seconds away; it can only come from the history API
    const before = await wp.textContent(card('.period'));
    await wp.waitForFunction(([sel, b]) => document.querySelector(sel)?.textContent !== b, [card('.period'), before] as const, { timeout: 8000 });
    const list = (await (await fetch(`${base}/api/rooms/${ROOM}/periods?limit=1`)).json()) as Array<{ periodId: string; endsAt: number }>;
    const last = list[0]!;
    await wp.reload();
    await wp.waitForSelector('#conn[data-state="live"]', { timeout: 15_000 });
    await wp.waitForSelector(card(`.result[data-period="${last.periodId}"]`), { timeout: 4000 });
    expect(await wp.locator(card('.results .empty')).count()).toBe(0);
    expect(await wp.locator(card(`.result[data-period="${last.periodId}"] .balls b`)).count()).toBe(5);
    expect(await wp.getAttribute(card(`.result[data-period="${last.periodId}"]`), 'data-sdk-verified')).toBe('true');
    expect(errors).toEqual([]);
  });

  it('shows a void period as void, why in player words, and that bets are refunded, also after a reload', async () => {
    await wp.waitForSelector(card60('.period'), { timeout: 5000 });
    // a 60 s period with time left for the void and a reload (the current one, else the next)
    let rooms = (await (await fetch(`${base}/api/rooms`)).json()) as Array<{ room: string; periodId: string; endsAt: number; commitment: string | null }>;
    let cur = rooms.find((r) => r.room === ROOM60)!;
    if (cur.endsAt - Date.now() < 20_000) {
      await wp.waitForFunction(([sel, b]) => document.querySelector(sel)?.textContent !== b, [card60('.period'), cur.periodId] as const, { timeout: 25_000 });
      rooms = (await (await fetch(`${base}/api/rooms`)).json()) as typeof rooms;
      cur = rooms.find((r) => r.room === ROOM60)!;
    }
    await wp.waitForFunction(([sel, id]) => document.querySelector(sel)?.textContent === id, [card60('.period'), cur.periodId] as const, { timeout: 5000 });
    // the period the gateway started in was opened late (issue 13): committed, betting, not void
    expect(cur.commitment).toMatch(/^[0-9a-f]{64}$/);
    expect(await wp.textContent(card60('.phase'))).toMatch(/Betting (open|closed)/);
    const r0 = await fetch(`${base}/api/rooms/${ROOM60}/periods/${cur.periodId}/void`, { method: 'POST', headers: { authorization: `Bearer ${OP}`, 'content-type': 'application/json' }, body: JSON.stringify({ reason: `E_TEST operator typed ${SETTING_LIKE}` }) });
    expect(r0.status).toBe(200);
    const why = 'it was cancelled by the operator';
    const expectVoid = async () => {
      await wp.waitForSelector(`.room[data-room="${ROOM60}"][data-phase="void"]`, { timeout: 5000 });
      expect(await wp.textContent(card60('.phase'))).toBe('Void · bets refunded');
      await wp.waitForFunction(([sel, t]) => document.querySelector(sel)?.textContent === t, [card60('[data-testid="void-note"]'), `Void: this period has no result because ${why}. Every bet on it is refunded in full.`] as const, { timeout: 5000 });
      await wp.selectOption('#slip-room', ROOM60);
      expect(await wp.textContent('#slip-period')).toBe('Watching only: this server does not take bets from this page.');
    };
    await expectVoid();
    await wp.screenshot({ path: `${ARTIFACTS}/page-e2e-void.png`, fullPage: true });
    // a page loaded during the void period (hello: no commitment) says void too, not "Betting open"
    await wp.reload();
    await wp.waitForSelector('#conn[data-state="live"]', { timeout: 15_000 });
    await expectVoid();
    await expectPlayerText(wp);

    // an open 5 s period voided by the operator: the card turns void at once (the `void` event),
    // in player words (the operator's reason is not shown), and the period's row says refunded
    const open5 = await nextPeriod(wp, await wp.textContent(card('.period')));
    expect(await wp.textContent(card('.phase'))).toBe('Betting open');
    const r = await fetch(`${base}/api/rooms/${ROOM}/periods/${open5}/void`, { method: 'POST', headers: { authorization: `Bearer ${OP}`, 'content-type': 'application/json' }, body: JSON.stringify({ reason: `E_TEST operator note ${SETTING_LIKE}` }) });
    expect(r.status).toBe(200);
    await wp.waitForSelector(`.room[data-room="${ROOM}"][data-phase="void"]`, { timeout: 3000 });
    expect(await wp.textContent(card('.phase'))).toBe('Void · bets refunded');
    expect(await wp.textContent(card('[data-testid="void-note"]'))).toBe('Void: this period has no result because it was cancelled by the operator. Every bet on it is refunded in full.');
    expect(await wp.textContent(card(`.result.void[data-period="${open5}"]`))).toContain('void: it was cancelled by the operator · bets refunded');
    await expectPlayerText(wp);
    // the next period is an ordinary one again
    await nextPeriod(wp, open5);
    await wp.waitForSelector(`.room[data-room="${ROOM}"]:not([data-phase="void"])`, { timeout: 3000 });
    expect(await wp.locator(card('[data-testid="void-note"]')).isHidden()).toBe(true);
    expect(errors).toEqual([]);
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
