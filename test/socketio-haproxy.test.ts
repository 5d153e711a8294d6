// Existing Socket.IO front ends against fived (issue 15): the real `socket.io-client` through the
// real HAProxy (config from scripts/haproxy-config.sh) to two real gateways and a scheduler on one
// test Redis, on both transports. Connection and token rules, the live events of a period, bets in
// rupees, results verified against the commitment, exact settlement, refusals that change nothing,
// the REST routes — and nothing of a result before the period's end, on any route or event.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitmentOf, resultMatches } from '../src/core/draw.js';
import { netStake } from '../src/core/rules.js';
import { AUTH_TEXT } from '../src/gateway/socketio/auth.js';
import { haproxyCommand, http, REPO, run, serverStates, spawnFived, startHaproxy, waitUntil, type FivedProcess, type Haproxy, waitGatewaysReady } from './support/deploy.js';
import { freePort } from './support/ports.js';
import { startRedis, testPrefix, TEST_SEED_KEY, type TestRedis } from './support/redis.js';
import { claimsToken, SioPlayer, type SioOptions, type Transport } from './support/sio.js';

const SECRET = 'socketio-e2e-secret-0123456789';
const OPERATOR = 'socketio-e2e-operator-token-0123456789abcdef';
const DURATION = 5;
const TRANSPORTS: Transport[] = ['websocket', 'polling'];

describe('Socket.IO front ends through HAProxy to two gateways', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fived-sio-e2e-'));
  const sock = path.join(dir, 'admin.sock');
  let redis: TestRedis;
  let scheduler: FivedProcess;
  const gateways: FivedProcess[] = [];
  const ports: number[] = [];
  let lb: Haproxy;
  let url = '';
  const players: SioPlayer[] = [];

  const player = (o: SioOptions) => {
    const p = new SioPlayer(url, o);
    players.push(p);
    return p;
  };
  const credit = async (userId: string, minor: number) => {
    const r = await http(ports[0]!, 'POST', '/api/wallet/credit', JSON.stringify({ userId, amount: minor, depositId: `d-${userId}-${Math.random()}` }), { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' });
    expect(r.status).toBe(200);
  };
  const rest = async (p: string, tok?: string) => {
    const lbPort = Number(new URL(url).port);
    const r = await http(lbPort, 'GET', p, undefined, tok === undefined ? {} : { authorization: `Bearer ${tok}` });
    return { status: r.status, body: JSON.parse(r.body) };
  };

  beforeAll(async () => {
    redis = await startRedis();
    const env = {
      FIVED_REDIS_URL: redis.url, FIVED_SEED_KEY: TEST_SEED_KEY, FIVED_KEY_PREFIX: testPrefix('sio-e2e'), FIVED_DURATIONS: String(DURATION),
      FIVED_FREEZE_MS: '2500', FIVED_LOG_LEVEL: 'warn', FIVED_JWT_SECRET: SECRET, FIVED_OPERATOR_TOKEN: OPERATOR,
      FIVED_MAX_CONNS_PER_IP: '0', FIVED_HTTP_RATE_PER_IP: '0', FIVED_USER_BET_RATE: '0',
    };
    scheduler = spawnFived('sio-scheduler', ['scheduler'], { ...env, FIVED_SCHEDULER_PORT: '0' });
    for (const name of ['sio-a', 'sio-b']) {
      const port = await freePort();
      ports.push(port);
      gateways.push(spawnFived(name, ['gateway'], { ...env, FIVED_PORT: String(port), FIVED_HOST: '127.0.0.1' }));
    }
    await waitGatewaysReady(gateways, ports);
    const lbPort = await freePort();
    const cfg = path.join(dir, 'haproxy.cfg');
    const w = await run(path.join(REPO, 'scripts/haproxy-config.sh'), [
      '-o', cfg, '--bind', `127.0.0.1:${lbPort}`, '--stats', `127.0.0.1:${await freePort()}`, '--stats-socket', sock,
      '--operator', 'none', '--log', 'stdout', '--check-inter', '250', '--slowstart', '0s', '--maxconn', '1000', '--conns-per-ip', '0', '--http-rate-per-ip', '0',
      ...ports.map(String),
    ]);
    expect(w.stderr).toBe('');
    lb = await startHaproxy(cfg, lbPort);
    url = `http://127.0.0.1:${lbPort}`;
    await waitUntil('both gateways UP in HAProxy', async () => {
      const s = await serverStates(sock, 'fived_gateways');
      return ports.every((p) => s[`gw-127.0.0.1:${p}`] === 'UP') ? true : undefined;
    });
  }, 90_000);

  afterAll(async () => {
    for (const p of players) p.close();
    await lb?.stop();
    for (const g of gateways) await g.stop();
    await scheduler?.stop();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds the token in each of the four places, on both transports, and takes the user from userId, id, user_id or sub', async () => {
    const claims = [{ userId: 7001 }, { id: 'sio-id' }, { user_id: 7003 }, { sub: 'sio-sub' }];
    const users = ['7001', 'sio-id', '7003', 'sio-sub'];
    for (const [i, u] of users.entries()) await credit(u, 10_000 + i); // each user's own balance tells who it is
    for (const transport of TRANSPORTS) {
      const toks = await Promise.all(claims.map((c) => claimsToken(SECRET, c)));
      const ways: SioOptions[] = [
        { transport, auth: { token: toks[0] } },
        { transport, query: { token: toks[1]! } },
        { transport, headers: { authorization: `Bearer ${toks[2]}` } },
        { transport, headers: { 'x-auth-token': toks[3]! } },
      ];
      for (const [i, o] of ways.entries()) {
        const p = player(o);
        const hello = await p.next('connected');
        expect(hello).toMatchObject({ mode: 'MULTI_INSTANCE_SETUP', bettingEnabled: true, connectionId: p.socket.id });
        const bal = await p.ask('getBalance', undefined, ['balanceUpdate']);
        expect(bal.payload).toMatchObject({ success: true, data: { mainWallet: (10_000 + i) / 100, totalAvailable: (10_000 + i) / 100, currency: 'INR', thirdPartyWallet: 0, canPlay: true } });
        expect(p.socket.io.engine.transport.name).toBe(transport);
        p.close();
      }
    }
  });

  it('refuses bad tokens with every connect_error text, on both transports', async () => {
    const cases: Array<[SioOptions['auth'], string]> = [
      [{}, AUTH_TEXT.NO_TOKEN],
      [{ token: 'null' }, AUTH_TEXT.NULL_STRING],
      [{ token: 'short' }, AUTH_TEXT.TOO_SHORT],
      [{ token: 'abcdefghijkl.mnop' }, AUTH_TEXT.FORMAT],
      [{ token: await claimsToken('a-different-secret-0123456789', { userId: 1 }) }, AUTH_TEXT.MALFORMED],
      [{ token: await claimsToken(SECRET, { userId: 1 }, { expS: -30 }) }, AUTH_TEXT.EXPIRED],
      [{ token: await claimsToken(SECRET, { userId: 1 }, { nbfS: 3600 }) }, AUTH_TEXT.NOT_ACTIVE],
      [{ token: await claimsToken(SECRET, { userId: 1 }, { noExp: true }) }, AUTH_TEXT.FAILED],
      [{ token: await claimsToken(SECRET, { role: 'player' }) }, AUTH_TEXT.NO_USER],
    ];
    for (const transport of TRANSPORTS) {
      for (const [auth, text] of cases) {
        const p = player({ transport, auth });
        expect((await p.next('connect_error')).message).toBe(text);
        expect(p.events('connected')).toHaveLength(0);
        p.close();
      }
    }
  });

  it('plays a period: join, countdown, bets in rupees, bettingClosed, one periodResult from both gateways verified at the end, exact betResult and balance', async () => {
    const lbStats = async () => totals(await haproxyCommand(sock, 'show stat'), 'fived_socketio');
    const before = await lbStats();
    const users = ['8101', '8102', '8103', '8104'];
    const ps: SioPlayer[] = [];
    for (const [i, u] of users.entries()) {
      await credit(u, 100_000); // ₹1,000.00
      // websocket, polling, websocket, and the client's default: polling, then the upgrade
      const transport: Transport = i === 3 ? 'upgrade' : TRANSPORTS[i % 2]!;
      const p = player({ transport, auth: { token: await claimsToken(SECRET, { userId: Number(u) }) } });
      await p.next('connected');
      ps.push(p);
    }
    // the upgraded one moved to WebSocket (through HAProxy: the upgrade request reached its gateway)
    await waitUntil('the upgrade to WebSocket', async () => (ps[3]!.socket.io.engine.transport.name === 'websocket' ? true : undefined), 15_000);
    // both gateways hold sessions (round robin), and the polling ones stayed on theirs (else: "Session ID unknown")
    const after = await lbStats();
    for (const port of ports) expect(after[`gw-127.0.0.1:${port}`]! - (before[`gw-127.0.0.1:${port}`] ?? 0)).toBeGreaterThan(0);
    const open = await Promise.all(ports.map(async (port) => Number(/^fived_gateway_socketio_connections (\d+)$/m.exec((await http(port, 'GET', '/metrics')).body)?.[1] ?? NaN)));
    expect(open.reduce((x, y) => x + y, 0)).toBeGreaterThanOrEqual(users.length);
    // the WebSocket-first players were served by the native path, the polling and upgrading ones by the socket.io package (docs/socketio.md "Two paths")
    const served = async (path: string) => (await Promise.all(ports.map(async (port) => Number(new RegExp(`^fived_gateway_socketio_opened_total\\{path="${path}"\\} (\\d+)$`, 'm').exec((await http(port, 'GET', '/metrics')).body)?.[1] ?? 0)))).reduce((x, y) => x + y, 0);
    expect(await served('native')).toBeGreaterThanOrEqual(2);
    expect(await served('package')).toBeGreaterThanOrEqual(2);

    for (const p of ps) {
      const joined = await p.ask('joinGame', { gameType: 'fiveD', duration: DURATION }, ['joinedGame', 'error']);
      expect(joined.payload).toMatchObject({ gameType: 'fiveD', duration: DURATION, roomId: `fiveD_${DURATION}`, bettingEnabled: true });
      const info = await p.next('periodInfo');
      const current = await p.next('currentPeriod');
      expect(info).toMatchObject({ gameType: 'fiveD', duration: DURATION, source: 'websocket_validated' });
      expect(info.periodId).toMatch(/^\d{17}$/);
      expect(current).toMatchObject({ periodId: info.periodId, status: info.bettingOpen ? 'betting' : 'closed' });
      expect(info.timeRemaining).toBeLessThanOrEqual(DURATION);
      expect(new Date(info.endTime).toISOString()).toBe(info.endTime);
    }
    // the next period from its start: every player gets its periodStart (with the commitment)
    const start = await ps[0]!.fresh('periodStart', () => true, 15_000);
    const periodId: string = start.periodId;
    const endsAt = Date.parse(start.endTime);
    const starts = await Promise.all(ps.map((p) => p.next('periodStart', (s) => s.periodId === periodId)));
    expect(new Set(starts.map((s) => s.commitment)).size).toBe(1);
    const tick = await ps[1]!.next('timeUpdate', (t) => t.periodId === periodId);
    expect(tick).toMatchObject({ gameType: 'fiveD', duration: DURATION, roomId: `fiveD_${DURATION}`, source: 'websocket_tick' });
    expect(Number.isInteger(tick.timeRemaining) && tick.timeRemaining <= DURATION).toBe(true);

    // each player: SUM big + SUM small + A odd + A even, ₹10.00 each: exactly two win, whatever the digits
    const stake = 1000;
    const bets = [['SUM', 'big'], ['SUM', 'small'], ['A', 'odd'], ['A', 'even']] as const;
    for (const p of ps) {
      for (const [position, selection] of bets) {
        const r = await p.ask('placeBet', { gameType: 'fiveD', duration: DURATION, periodId, type: 'size', position, selection, amount: 10 }, ['betSuccess', 'betError']);
        expect(r.event, JSON.stringify(r.payload)).toBe('betSuccess');
        expect(r.payload).toMatchObject({ success: true, periodId, betAmount: 10, netAmount: 9.8, platformFee: 0.2, odds: 2, expectedWin: 19.6, gameType: 'fiveD', duration: DURATION });
      }
      expect((await p.next('betSuccess', (b) => b.betValue === 'A_even')).walletBalance).toBe(960);
    }
    // a bet in the freeze is refused and changes nothing
    await Promise.all(ps.map((p) => p.next('bettingClosed', (c) => c.periodId === periodId)));
    for (const p of ps) expect(p.events('bettingClosed').filter((c) => c.payload.periodId === periodId)).toHaveLength(1);
    const late = await ps[0]!.ask('placeBet', { gameType: 'fiveD', duration: DURATION, periodId, position: 'A', selection: 1, amount: 10 }, ['betSuccess', 'betError']);
    expect(late.event).toBe('betError');
    expect(late.payload).toMatchObject({ success: false, code: 'BETTING_CLOSED' });

    // nothing early: during the freeze no route shows this period's result or outcome
    const tok = await claimsToken(SECRET, { userId: 8101 });
    const last = await rest(`/api/games/5d/${DURATION}/last-result`, tok);
    const hist = await rest(`/api/games/5d/${DURATION}/history?limit=50`, tok);
    const mine = await rest(`/api/games/5d/${DURATION}/my-bets?periodId=${periodId}`, tok);
    expect(Date.now()).toBeLessThan(endsAt); // still inside the period (the freeze lasts 2.5 s)
    expect(last.body.result?.periodId ?? null).not.toBe(periodId);
    expect(hist.body.data.results.map((r: { periodId: string }) => r.periodId)).not.toContain(periodId);
    expect(mine.body.data.bets).toHaveLength(4);
    for (const b of mine.body.data.bets) expect(b).toMatchObject({ status: 'pending', result: null, winAmount: 0 });

    const results = await Promise.all(ps.map((p) => p.next('periodResult', (r) => r.periodId === periodId)));
    const arrivals = ps.map((p) => p.events('periodResult').find((s) => s.payload.periodId === periodId)!.at);
    for (const at of arrivals) expect(at).toBeGreaterThanOrEqual(endsAt); // never before the end
    const strip = (r: Record<string, unknown>) => JSON.stringify({ ...r, timestamp: undefined });
    expect(new Set(results.map(strip)).size).toBe(1); // identical from both gateways
    const r = results[0]!;
    const digits = ['A', 'B', 'C', 'D', 'E'].map((k) => r.result[k] as number);
    expect(r.result.sum).toBe(digits.reduce((a, b) => a + b, 0));
    expect(r.winners).toEqual([]);
    expect(r.verification.commitment).toBe(start.commitment);
    expect(commitmentOf(r.verification.seed)).toBe(r.verification.commitment);
    expect(resultMatches(r.verification.seed, r.verification.commitment, `fiveD:${DURATION}:default:${periodId}`, digits)).toBe(true);

    // exact settlement: two winners of net × 2 each, to the paisa
    const net = netStake(stake, 200);
    const expected = 100_000 - 4 * stake + 2 * net * 2;
    for (const p of ps) {
      const br = await p.next('betResult', (b) => b.periodId === periodId);
      expect(br.result).toEqual(r.result);
      expect(br.userResult.hasWon).toBe(true);
      expect(br.userResult.totalWinnings).toBe((2 * net * 2) / 100);
      expect(br.userResult.winningBets).toHaveLength(2);
      const bu = await p.next('balanceUpdate', (b) => b.data.mainWallet === expected / 100);
      expect(bu.success).toBe(true);
      const resultAt = p.events('periodResult').find((s) => s.payload.periodId === periodId)!.at;
      expect(p.events('betResult').find((s) => s.payload.periodId === periodId)!.at).toBeGreaterThanOrEqual(resultAt);
    }
    const bal = await rest('/api/wallet/balances', tok);
    expect(bal.body).toEqual({ success: true, mainWallet: { balance: expected / 100, currency: 'INR' }, thirdPartyWallet: { balance: 0, currency: 'INR', exists: false } });
    const settled = await rest(`/api/games/5d/${DURATION}/my-bets?periodId=${periodId}`, tok);
    const won = settled.body.data.bets.filter((b: { status: string }) => b.status === 'won');
    expect(won).toHaveLength(2);
    for (const b of won) expect(b).toMatchObject({ winAmount: 19.6, payout: 19.6, profitLoss: 9.6, result: r.result });
    const lr = await rest(`/api/games/5d/${DURATION}/last-result`, tok);
    expect(lr.body.success).toBe(true);
    expect(BigInt(lr.body.result.periodId)).toBeGreaterThanOrEqual(BigInt(periodId));
  });

  it('answers bad bets with the betError codes and changes nothing', async () => {
    await credit('8201', 5_000); // ₹50.00
    const p = player({ transport: 'polling', auth: { token: await claimsToken(SECRET, { userId: 8201 }) } });
    await p.next('connected');
    await p.ask('joinGame', { gameType: 'fiveD', duration: DURATION }, ['joinedGame']);
    const open = await p.fresh('periodStart');
    const bet = { gameType: 'fiveD', duration: DURATION, periodId: open.periodId, type: 'number', position: 'A', selection: 3, amount: 10 };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ amount: 10.555 }, 'INVALID_DATA'],
      [{ amount: -5 }, 'INVALID_DATA'],
      [{ position: 'F' }, 'INVALID_DATA'],
      [{ position: 'SUM', selection: 23 }, 'INVALID_DATA'],
      [{ selection: 10 }, 'INVALID_DATA'],
      [{ gameType: '5d' }, 'INVALID_GAME_TYPE'],
      [{ duration: String(DURATION) }, 'INVALID_DURATION'],
      [{ periodId: '20000101000000001' }, 'BETTING_CLOSED'],
      [{ amount: 60 }, 'INSUFFICIENT_BALANCE'],
    ];
    for (const [change, code] of cases) {
      const r = await p.ask('placeBet', { ...bet, ...change }, ['betSuccess', 'betError']);
      expect(r.event, `${JSON.stringify(change)} → ${JSON.stringify(r.payload)}`).toBe('betError');
      expect(r.payload).toMatchObject({ success: false, code });
      expect(typeof r.payload.message).toBe('string');
    }
    expect(p.events('betError')).toHaveLength(cases.length); // one event per refusal
    expect((await p.ask('getBalance', undefined, ['balanceUpdate'])).payload.data.mainWallet).toBe(50);
    const mine = await p.ask('getMyBets', { gameType: 'fiveD', duration: DURATION }, ['myBets']);
    expect(mine.payload).toMatchObject({ success: true, data: { bets: [] } });
    const bad = await p.ask('joinGame', { gameType: 'fiveD', duration: 30 }, ['error']);
    expect(bad.payload).toEqual({ message: 'Invalid game: fiveD 30s', code: 'INVALID_GAME_DURATION', availableOptions: [DURATION] });
  });

  it('answers ping, getPeriodInfo, getPeriodStats and leaveGame in the replaced system\'s shapes', async () => {
    const p = player({ transport: 'websocket', auth: { token: await claimsToken(SECRET, { userId: 8301 }) } });
    await p.next('connected');
    expect((await p.ask('ping', {}, ['pong'])).payload).toMatchObject({ serverTime: expect.any(Number), currentGame: null, gameTicksActive: true });
    await p.ask('joinGame', { gameType: 'fiveD', duration: DURATION }, ['joinedGame']);
    const pong = await p.ask('ping', {}, ['pong']);
    expect(pong.payload.currentGame).toEqual({ gameType: 'fiveD', duration: DURATION, roomId: `fiveD_${DURATION}` });
    expect(p.events('pong')).toHaveLength(2); // one per ping
    const info = await p.ask('getPeriodInfo', { gameType: 'fiveD', duration: DURATION }, ['periodInfoResponse']);
    expect(info.payload).toMatchObject({ success: true, data: { gameType: 'fiveD', duration: DURATION, periodId: expect.stringMatching(/^\d{17}$/), currentTime: expect.any(String) } });
    const stats = await p.ask('getPeriodStats', { gameType: 'fiveD', duration: DURATION, periodId: info.payload.data.periodId }, ['periodStats']);
    expect(stats.payload).toMatchObject({ success: true, data: { gameType: 'fiveD', active: true } });
    expect(JSON.stringify(stats.payload)).not.toMatch(/uniqueUsers|userId/);
    expect((await p.ask('leaveGame', { gameType: 'fiveD', duration: DURATION }, ['leftGame'])).payload).toEqual({ gameType: 'fiveD', duration: DURATION, roomId: `fiveD_${DURATION}` });
    // a player still in the room gets two more ticks meanwhile; the one that left gets none
    const from = p.seen.length;
    const watcher = player({ transport: 'websocket', auth: { token: await claimsToken(SECRET, { userId: 8302 }) } });
    await watcher.next('connected');
    await watcher.ask('joinGame', { gameType: 'fiveD', duration: DURATION }, ['joinedGame']);
    const first = await watcher.fresh('timeUpdate');
    await watcher.fresh('timeUpdate', (t) => t.timestamp !== first.timestamp);
    expect(p.seen.slice(from).filter((s) => s.event === 'timeUpdate')).toHaveLength(0);
  });

  it('serves the REST routes with Bearer tokens in the replaced system\'s shapes', async () => {
    const tok = await claimsToken(SECRET, { userId: 8101 });
    expect((await rest(`/api/games/5d/${DURATION}/last-result`)).status).toBe(401);
    expect((await rest(`/api/games/5d/${DURATION}/last-result`, 'not-a-token-at-all')).body).toEqual({ success: false, message: 'Invalid token' });
    expect((await rest('/api/games/5d/30/last-result', tok))).toEqual({ status: 400, body: { success: false, message: `Invalid duration for 5d. Valid durations: ${DURATION}` } });
    const last = await rest(`/api/games/5D/${DURATION}/last-result`, tok);
    expect(last.body).toMatchObject({ success: true, result: { gameType: 'fiveD', duration: DURATION, result: { A: expect.any(Number), sum: expect.any(Number) } } });
    const hist = await rest(`/api/games/5d/${DURATION}/history?page=1&limit=2`, tok);
    expect(hist.body).toMatchObject({ success: true, gameType: 'fiveD', duration: DURATION, data: { pagination: { page: 1, limit: 2, offset: 0 } } });
    expect(hist.body.data.results.length).toBeGreaterThan(0);
    for (const bad of ['0x10', '1e1', '%205', '-1', '51', '2.0']) {
      expect(await rest(`/api/games/5d/${DURATION}/history?limit=${bad}`, tok)).toEqual({ status: 400, body: { success: false, message: 'limit must be an integer from 0 to 50' } });
    }
    for (const h of hist.body.data.results) expect(Date.parse(h.createdAt)).toBeLessThanOrEqual(Date.now());
    const mine = await rest(`/api/games/5d/${DURATION}/my-bets?limit=3`, tok);
    expect(mine.body.data.pagination).toMatchObject({ total: 4, page: 1, limit: 3, hasMore: true, totalPages: 2 });
    expect(mine.body.data.filters).toEqual({ gameType: 'fiveD', duration: DURATION, periodId: null, status: null, startDate: null, endDate: null });
    expect(mine.body.data.bets[0]).toEqual(expect.objectContaining({ betType: expect.any(String), betValue: expect.any(String), betAmount: 10, taxAmount: 0.2, amountAfterTax: 9.8, odds: 2 }));
    const all = await rest('/api/games/5d/my-bets?status=won', tok);
    expect(all.body.data).toMatchObject({ gameType: 'fiveD', summary: { total_bets: 2, total_wins: 2, by_duration: { [String(DURATION)]: { count: 2, wins: 2 } } }, pagination: { current_page: 1, total_records: 2 } });
    expect((await rest('/api/games/5d/my-bets?startDate=2026-01-01', tok)).status).toBe(400);
    // a front end on another origin: CORS with credentials, and the preflight answered
    const lbPort = Number(new URL(url).port);
    const origin = 'https://play.example.test';
    const withOrigin = await http(lbPort, 'GET', `/api/games/5d/${DURATION}/last-result`, undefined, { authorization: `Bearer ${tok}`, origin });
    expect(withOrigin.headers['access-control-allow-origin']).toBe(origin);
    expect(withOrigin.headers['access-control-allow-credentials']).toBe('true');
    const preflight = await http(lbPort, 'OPTIONS', '/api/games/5d/my-bets', undefined, { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-headers']).toContain('Authorization');
    const wallet = await rest('/api/wallet/balance', tok);
    expect(wallet.body).toMatchObject({ success: true, wallet: { balance: expect.stringMatching(/^\d+\.\d{2}$/) } });
  });

  it('disconnects its Socket.IO clients when a gateway drains; they reconnect through HAProxy to the other one', async () => {
    const gauge = async (port: number) => Number(/^fived_gateway_socketio_connections (\d+)$/m.exec((await http(port, 'GET', '/metrics')).body)?.[1]);
    for (const p of players) p.close(); // the earlier tests' players: only this test's count below
    await waitUntil('no Socket.IO connection left', async () => ((await gauge(ports[0]!)) + (await gauge(ports[1]!)) === 0 ? true : undefined));
    const ps: SioPlayer[] = [];
    for (let i = 0; i < 4; i++) {
      const p = player({ transport: i % 2 === 0 ? 'websocket' : 'polling', reconnection: true, auth: { token: await claimsToken(SECRET, { userId: 8400 + i }) } });
      await p.next('connected');
      ps.push(p);
    }
    const onA = await gauge(ports[0]!);
    expect(onA).toBeGreaterThan(0);
    const from = ps.map((p) => p.seen.length);
    const exited = gateways[0]!.stop(); // SIGTERM: drain
    await waitUntil('the clients of the draining gateway disconnected', async () =>
      (ps.filter((p, i) => p.seen.slice(from[i]).some((s) => s.event === 'disconnect')).length >= onA ? true : undefined), 20_000);
    const dropped = ps.filter((p, i) => p.seen.slice(from[i]).some((s) => s.event === 'disconnect'));
    // "transport close" (or "transport error" for a poll cut short): socket.io-client reconnects on
    // its own (a server-side "io server disconnect" would leave that to the front end), and HAProxy
    // sends it to the gateway left
    for (const [i, p] of ps.entries()) {
      if (!dropped.includes(p)) continue;
      expect(['transport close', 'transport error']).toContain(p.seen.slice(from[i]).find((s) => s.event === 'disconnect')!.payload.reason);
      expect((await p.next('connected', () => true, 20_000, from[i])).connectionId).toBe(p.socket.id);
    }
    expect(await gauge(ports[1]!)).toBe(ps.length);
    expect(await exited).toBe(0);
  });
});

/** Total sessions (stot) per server of a backend, from `show stat`. */
function totals(csv: string, backend: string): Record<string, number> {
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').replace(/^# /, '').split(',');
  const [iPx, iSv, iTot] = ['pxname', 'svname', 'stot'].map((h) => header.indexOf(h));
  const out: Record<string, number> = {};
  for (const line of lines.slice(1)) {
    const f = line.split(',');
    if (f[iPx!] === backend && f[iSv!] !== 'FRONTEND' && f[iSv!] !== 'BACKEND') out[f[iSv!]!] = Number(f[iTot!] ?? 0);
  }
  return out;
}
