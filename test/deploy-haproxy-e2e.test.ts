// The deployment's shape, end to end: the real haproxy (config from scripts/haproxy-config.sh) in
// front of two real gateways and a scheduler on one test Redis. WebSocket players connected
// through HAProxy all see the same results; SIGTERM to one gateway (its drain) moves its players
// to the other — they reconnect, recover what they missed and keep getting results — while
// HAProxy marks the drained gateway DOWN. With --tls-crt it terminates TLS for wss:// players
// (a self-signed certificate made by openssl here) and redirects plain HTTP (issue 13).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { commitmentOf } from '../src/core/draw.js';
import { REPO, http, run, serverSessions, serverStates, spawnFived, startHaproxy, waitUntil, PlayerClient, type FivedProcess, type Haproxy, waitGatewaysReady } from './support/deploy.js';
import { freePort } from './support/ports.js';
import { startRedis, testPrefix, TEST_SEED_KEY, type TestRedis } from './support/redis.js';

const ROOM = 'fiveD_4';
const PLAYERS = 6;

describe('HAProxy in front of two gateways', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fived-haproxy-e2e-'));
  const sock = path.join(dir, 'admin.sock');
  let redis: TestRedis;
  let scheduler: FivedProcess;
  const gateways: FivedProcess[] = [];
  const ports: number[] = [];
  let lb: Haproxy;
  let lbPort = 0;
  const players: PlayerClient[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    const env = {
      FIVED_REDIS_URL: redis.url,
      FIVED_SEED_KEY: TEST_SEED_KEY,
      FIVED_KEY_PREFIX: testPrefix('deploy-e2e'),
      FIVED_DURATIONS: '4',
      FIVED_FREEZE_MS: '1500',
      FIVED_DRAIN_MS: '2000',
      FIVED_LOG_LEVEL: 'info',
    };
    scheduler = spawnFived('e2e-scheduler', ['scheduler'], { ...env, FIVED_SCHEDULER_PORT: '0' });
    for (const name of ['gw-a', 'gw-b']) {
      const port = await freePort();
      ports.push(port);
      gateways.push(spawnFived(name, ['gateway'], { ...env, FIVED_PORT: String(port), FIVED_HOST: '127.0.0.1' }));
    }
    await waitGatewaysReady(gateways, ports);
    lbPort = await freePort();
    const cfg = path.join(dir, 'haproxy.cfg');
    const w = await run(path.join(REPO, 'scripts/haproxy-config.sh'), [
      '-o', cfg, '--bind', `127.0.0.1:${lbPort}`, '--stats', `127.0.0.1:${await freePort()}`, '--stats-socket', sock,
      '--operator', 'none', '--log', 'stdout', '--check-inter', '250', '--slowstart', '1s', '--maxconn', '1000',
      ...ports.map(String),
    ]);
    expect(w.stderr).toBe('');
    lb = await startHaproxy(cfg, lbPort);
    await waitUntil('both gateways UP in HAProxy', async () => {
      const s = await serverStates(sock, 'fived_gateways');
      return ports.every((p) => s[`gw-127.0.0.1:${p}`] === 'UP') ? true : undefined;
    });
  });

  afterAll(async () => {
    for (const p of players) p.close();
    await lb?.stop();
    for (const g of gateways) await g.stop();
    await scheduler?.stop();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the read API through HAProxy and keeps /metrics inside', async () => {
    const rooms = await http(lbPort, 'GET', '/api/rooms');
    expect(rooms.status).toBe(200);
    expect(JSON.stringify(JSON.parse(rooms.body))).toContain(ROOM);
    expect((await http(lbPort, 'GET', '/metrics')).status).toBe(403);
    expect((await http(ports[0]!, 'GET', '/metrics')).status).toBe(200); // still there for Prometheus, directly
  });

  it('terminates TLS (self-signed certificate): wss:// players get results, http:// redirects, HAProxy drops root', async () => {
    // issue 13: `--tls-crt` binds an ssl port with the certificate and its key in one PEM
    const key = path.join(dir, 'tls.key');
    const crt = path.join(dir, 'tls.crt');
    const o = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost', '-keyout', key, '-out', crt]);
    expect(o.code, o.stderr).toBe(0);
    const pem = path.join(dir, 'fived.pem');
    writeFileSync(pem, readFileSync(crt, 'utf8') + readFileSync(key, 'utf8'));
    const [httpPort, tlsPort] = [await freePort(), await freePort()];
    const cfg = path.join(dir, 'tls.cfg');
    // the production defaults (user haproxy, group haproxy, chroot /var/lib/haproxy) when this runs
    // as root, as the service does; an unprivileged run cannot switch users
    const root = process.getuid?.() === 0;
    const w = await run(path.join(REPO, 'scripts/haproxy-config.sh'), [
      '-o', cfg, '--bind', `127.0.0.1:${httpPort}`, '--tls-bind', `127.0.0.1:${tlsPort}`, '--tls-crt', pem, '--stats', `127.0.0.1:${await freePort()}`,
      '--stats-socket', path.join(dir, 'tls.sock'), '--operator', 'none', '--log', 'stdout', '--check-inter', '250', '--maxconn', '1000',
      ...(root ? [] : ['--user', 'none', '--group', 'none', '--chroot', 'none']), ...ports.map(String),
    ]);
    expect(w.stderr).toBe('');
    const text = readFileSync(cfg, 'utf8');
    expect(text).toContain(`bind 127.0.0.1:${tlsPort} ssl crt ${pem} alpn http/1.1`);
    if (root) for (const line of ['user haproxy', 'group haproxy', 'chroot /var/lib/haproxy']) expect(text).toContain(line);
    const tls = await startHaproxy(cfg, tlsPort);
    let client: WebSocket | undefined;
    try {
      if (root) {
        // every haproxy process of this config runs as haproxy, not root
        const ps = await run('ps', ['-o', 'user=', '-p', String(tls.pid)]);
        expect(ps.stdout.trim()).toBe('haproxy');
      }
      const redirect = await http(httpPort, 'GET', '/api/rooms');
      expect(redirect.status).toBe(301);
      expect(redirect.headers.location).toBe('https://127.0.0.1:' + httpPort + '/api/rooms');
      const rooms = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        https.get({ host: '127.0.0.1', port: tlsPort, path: '/api/rooms', servername: 'localhost', ca: readFileSync(crt) }, (res) => {
          let b = '';
          res.on('data', (d: Buffer) => (b += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
        }).on('error', reject);
      });
      expect(rooms.status).toBe(200);
      expect(rooms.body).toContain(ROOM);
      const got: Array<Record<string, unknown>> = [];
      const ws = new WebSocket(`wss://localhost:${tlsPort}/ws?format=json`, ['fived'], { ca: readFileSync(crt) });
      client = ws;
      ws.on('message', (d: Buffer) => got.push(JSON.parse(String(d)) as Record<string, unknown>));
      await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
      ws.send(JSON.stringify({ type: 'subscribe', rooms: [ROOM] }));
      await waitUntil('a result over wss://', async () => (got.some((m) => m.type === 'result') ? true : undefined), 20_000);
      const r = got.find((m) => m.type === 'result')!;
      expect(commitmentOf(r.seed as string)).toBe(r.commitment);
      // a client that does not trust the certificate is refused
      const untrusted = new WebSocket(`wss://localhost:${tlsPort}/ws`, ['fived']);
      const err = await new Promise<Error>((resolve) => untrusted.once('error', resolve));
      expect(String(err)).toMatch(/self[- ]signed|certificate/i);
    } finally {
      client?.terminate();
      await tls.stop();
    }
  });

  it('spreads players over both gateways and gives them all the same result', async () => {
    for (let i = 0; i < PLAYERS; i++) {
      const p = new PlayerClient(`ws://127.0.0.1:${lbPort}/ws`, [ROOM]);
      players.push(p);
      p.connect();
    }
    for (const p of players) await p.until('hello', () => p.hellos > 0);
    // round robin: both serve players (3 and 3 once slowstart has ramped both weights up); the
    // hello carries no instance name (issue 12 row 12): HAProxy's session counts tell
    const sessions = await serverSessions(sock, 'fived_gateways');
    expect(sessions[`gw-127.0.0.1:${ports[0]}`]).toBeGreaterThan(0);
    expect(sessions[`gw-127.0.0.1:${ports[1]}`]).toBeGreaterThan(0);
    expect(Object.values(sessions).reduce((a, b) => a + b, 0)).toBe(PLAYERS);

    for (const p of players) await p.until('a result', () => p.results.size > 0);
    const periodId = [...players[0]!.results.keys()][0]!;
    for (const p of players) await p.until(`result ${periodId}`, () => p.results.has(periodId));
    const seen = players.map((p) => JSON.stringify(p.results.get(periodId)));
    expect(new Set(seen).size).toBe(1);
    const r = players[0]!.results.get(periodId)!;
    expect(commitmentOf(r.seed)).toBe(r.commitment);
    expect(r.digits.reduce((a, b) => a + b, 0)).toBe(r.sum);
  });

  it('moves the players of a draining gateway to the other one, which HAProxy keeps alone in the pool', async () => {
    const onACount = (await serverSessions(sock, 'fived_gateways'))[`gw-127.0.0.1:${ports[0]}`]!;
    expect(onACount).toBeGreaterThan(0);
    // period ids exceed 2^53: compare them as BigInt, never as Number
    const ids = (p: PlayerClient) => [...p.results.keys()].map(BigInt);
    // biome-ignore lint/complexity/useMathMinMax: bigints, which Math.max does not take
    const before = players.map((p) => ids(p).reduce((a, b) => (b > a ? b : a))).reduce((a, b) => (b > a ? b : a));

    const aExit = gateways[0]!.stop(); // SIGTERM: drain
    // the players of gw-a are the ones it closes with GOING_AWAY; they come back on gw-b
    await waitUntil('GOING_AWAY to the players of gw-a', async () => (players.filter((p) => p.closes.includes(1001)).length >= onACount ? true : undefined));
    const onA = players.filter((p) => p.closes.includes(1001));
    expect(onA).toHaveLength(onACount);
    for (const p of onA) await p.until('a new hello', () => p.hellos >= 2);
    await waitUntil('every player on gw-b', async () => ((await serverSessions(sock, 'fived_gateways'))[`gw-127.0.0.1:${ports[1]}`] === PLAYERS ? true : undefined));
    await waitUntil('gw-a DOWN in HAProxy', async () => ((await serverStates(sock, 'fived_gateways'))[`gw-127.0.0.1:${ports[0]}`] === 'DOWN' ? true : undefined));
    expect((await serverStates(sock, 'fived_gateways'))[`gw-127.0.0.1:${ports[1]}`]).toBe('UP');
    expect(await aExit).toBe(0);

    // two more periods after the move: every player has every result since the first it saw
    // (live or recovered), and they all agree
    const target = String(before + 2n);
    for (const p of players) await p.until(`result ${target}`, () => p.results.has(target), 30_000);
    // biome-ignore lint/complexity/useMathMinMax: bigints, which Math.min/max do not take
    const firstCommon = players.map((p) => ids(p).reduce((a, b) => (b < a ? b : a))).reduce((a, b) => (b > a ? b : a));
    for (let id = firstCommon; id <= BigInt(target); id++) {
      const versions = new Set(players.map((p) => JSON.stringify(p.results.get(String(id)) ?? null)));
      expect(versions.size, `period ${id}`).toBe(1);
      expect([...versions][0], `period ${id}`).not.toBe('null');
    }
    for (const p of players) expect(p.open).toBe(true);
    const page = await http(lbPort, 'GET', '/api/rooms');
    expect(page.status).toBe(200); // served by gw-b alone
  });
});
