// haproxy/haproxy.cfg and scripts/haproxy-config.sh: the committed file is the script's output,
// `haproxy -c` accepts what the script writes, and a real haproxy with that config routes only
// the public paths (a recording HTTP + WebSocket server stands in for the gateways here; the
// end-to-end test with real gateways is deploy-haproxy-e2e.test.ts).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { loadConfig } from '../src/config.js';
import { REPO, http, run, serverStates, startHaproxy, waitUntil, type Haproxy } from './support/deploy.js';
import { freePort } from './support/ports.js';

const SCRIPT = path.join(REPO, 'scripts/haproxy-config.sh');
const dir = mkdtempSync(path.join(os.tmpdir(), 'fived-haproxy-cfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('scripts/haproxy-config.sh', () => {
  it('wrote the committed haproxy/haproxy.cfg (four gateways on 3000..3003)', async () => {
    const r = await run(SCRIPT, ['3000', '3001', '3002', '3003']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(readFileSync(path.join(REPO, 'haproxy/haproxy.cfg'), 'utf8'));
  });

  it('haproxy -c accepts the committed file and a multi-host one', async () => {
    const committed = await run('haproxy', ['-c', '-f', path.join(REPO, 'haproxy/haproxy.cfg')]);
    expect(committed.stdout + committed.stderr).toContain('Configuration file is valid');
    expect(committed.code).toBe(0);
    const multi = path.join(dir, 'multi.cfg');
    const w = await run(SCRIPT, ['-o', multi, '--bind', ':8080', '--operator', '10.0.0.5:8081', '10.0.0.11:3000', '10.0.0.11:3001', '10.0.0.12:3000']);
    expect(w.code).toBe(0);
    const c = await run('haproxy', ['-c', '-f', multi]);
    expect(c.code).toBe(0);
    const text = readFileSync(multi, 'utf8');
    expect(text).toContain('server gw-10.0.0.12:3000 10.0.0.12:3000');
    expect(text).toContain('track fived_gateways/gw-10.0.0.11:3001');
  });

  it('carries the settings the deployment relies on', () => {
    const text = readFileSync(path.join(REPO, 'haproxy/haproxy.cfg'), 'utf8');
    for (const line of [
      'balance roundrobin',
      'option httpchk GET /ready',
      'http-check expect status 200',
      'timeout tunnel 1h',
      'timeout client-fin 5s',
      'timeout http-request 5s',
      'slowstart 10s',
      'stats uri /',
      'bind 127.0.0.1:8404',
    ]) expect(text).toContain(line);
    expect(text).toMatch(/leastconn/); // the comment on long-lived sockets
    // issue 12, row 8: the log line carries the path only, never the query (?token=)
    expect(text).not.toMatch(/option httplog/);
    const logFormat = text.split('\n').find((l) => l.trim().startsWith('log-format'));
    expect(logFormat).toBeDefined();
    expect(logFormat).toContain('%HP');
    expect(logFormat).not.toMatch(/%(\{[^}]*\})?r(?![a-z])/); // %r / %{+Q}r: the whole request line
    for (const withQuery of ['%HU', '%HQ']) expect(logFormat).not.toContain(withQuery);
    // issue 12, row 7: per-address limits in stick tables, and the client address for the gateways
    for (const line of [
      'stick-table type ipv6 size 1m expire 60s store conn_cur,http_req_rate(10s)',
      'tcp-request connection track-sc0 src',
      'tcp-request connection reject if { sc_conn_cur(0) gt 500 }',
      'http-request deny deny_status 429 if { sc_http_req_rate(0) gt 1000 }',
      'http-request set-header X-Forwarded-For %[src]',
    ]) expect(text).toContain(line);
    expect(text).not.toContain('option forwardfor'); // it appends: a client's own header would come first
    for (const port of [3000, 3001, 3002, 3003]) expect(text).toContain(`server gw-127.0.0.1:${port} 127.0.0.1:${port}`);
    // issue 13: HAProxy drops root after binding, confined to its chroot
    for (const line of ['    chroot /var/lib/haproxy', '    user haproxy', '    group haproxy']) expect(text).toContain(`${line}\n`);
  });

  it('leaves user, group and chroot out only when told (an unprivileged HAProxy)', async () => {
    const r = await run(SCRIPT, ['--user', 'none', '--group', 'none', '--chroot', 'none', '3000']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/^\s*(user|group|chroot) /m);
    const other = await run(SCRIPT, ['--user', 'lb', '--group', 'lb', '--chroot', '/srv/lb', '3000']);
    for (const line of ['user lb', 'group lb', 'chroot /srv/lb']) expect(other.stdout).toContain(line);
  });

  it('has per-address limits matching the gateways\' defaults (FIVED_MAX_CONNS_PER_IP, FIVED_HTTP_RATE_PER_IP)', () => {
    const text = readFileSync(path.join(REPO, 'haproxy/haproxy.cfg'), 'utf8');
    const cfg = loadConfig({});
    expect(text).toContain(`sc_conn_cur(0) gt ${cfg.maxConnsPerIp} }`);
    expect(text).toContain(`sc_http_req_rate(0) gt ${cfg.httpRatePerIp * 10} }`); // per 10 s
  });

  it('with --tls-crt binds TLS and redirects plain HTTP; haproxy -c accepts it with a real certificate', async () => {
    const key = path.join(dir, 'k.pem');
    const crt = path.join(dir, 'c.pem');
    expect((await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', key, '-out', crt])).code).toBe(0);
    const pem = path.join(dir, 'both.pem');
    writeFileSync(pem, readFileSync(crt, 'utf8') + readFileSync(key, 'utf8'));
    const out = path.join(dir, 'tls.cfg');
    const r = await run(SCRIPT, ['-o', out, '--tls-crt', pem, '3000']);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text).toContain(`bind :443 ssl crt ${pem} alpn http/1.1`);
    expect(text).toContain('bind :80\n');
    expect(text).toContain('http-request redirect scheme https code 301 unless { ssl_fc }');
    expect(text).toContain('ssl-default-bind-options ssl-min-ver TLSv1.2');
    const c = await run('haproxy', ['-c', '-f', out]);
    expect(c.stdout + c.stderr).toContain('Configuration file is valid');
  });

  it('refuses bad input with a message and exit code 2', async () => {
    for (const args of [[], ['70000'], ['--conns-per-ip', 'many', '3000'], ['--http-rate-per-ip', '-1', '3000'], ['host-without-port'], ['3000', '127.0.0.1:3000'], ['--bind', 'nope', '3000'], ['--check-inter', '5', '3000'], ['--bogus', '3000'], ['--tls-crt', 'relative.pem', '3000'], ['--tls-bind', 'x', '3000'], ['--chroot', 'rel/dir', '3000'], ['--user', 'Bad User', '3000']]) {
      const r = await run(SCRIPT, args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^haproxy-config: /);
      expect(r.stdout).toBe('');
    }
  });
});

describe('a real haproxy with the generated config', () => {
  let backend: Server;
  let wss: WebSocketServer;
  let backendPort = 0;
  let lbPort = 0;
  let opPort = 0;
  let statsPort = 0;
  let ready = 200;
  const seen: string[] = []; // "METHOD path" of every request that reached the backend
  const forwarded: string[] = []; // the X-Forwarded-For header of each
  const sock = path.join(dir, 'admin.sock');
  let lb: Haproxy;

  beforeAll(async () => {
    backend = createServer((req: IncomingMessage, res) => {
      if (req.url === '/ready') {
        res.writeHead(ready).end(ready === 200 ? 'ready' : 'draining');
        return;
      }
      seen.push(`${req.method} ${req.url}`);
      forwarded.push(String(req.headers['x-forwarded-for']));
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`backend saw ${req.method} ${req.url}`);
    });
    wss = new WebSocketServer({ server: backend, path: '/ws' });
    wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo:${String(m)}`)));
    backendPort = await freePort();
    await new Promise<void>((resolve) => backend.listen(backendPort, '127.0.0.1', resolve));
    [lbPort, opPort, statsPort] = [await freePort(), await freePort(), await freePort()];
    const cfg = path.join(dir, 'routing.cfg');
    const w = await run(SCRIPT, [
      '-o', cfg, '--bind', `127.0.0.1:${lbPort}`, '--operator', `127.0.0.1:${opPort}`, '--stats', `127.0.0.1:${statsPort}`,
      '--stats-socket', sock, '--log', 'stdout', '--check-inter', '200', '--maxconn', '1000', String(backendPort),
    ]);
    expect(w.code).toBe(0);
    lb = await startHaproxy(cfg, lbPort);
    await waitUntil('backend UP', async () => ((await serverStates(sock, 'fived_gateways'))[`gw-127.0.0.1:${backendPort}`] === 'UP' ? true : undefined));
  });

  afterAll(async () => {
    await lb?.stop();
    wss?.close();
    await new Promise<void>((resolve) => (backend ? backend.close(() => resolve()) : resolve()));
  });

  it('passes the page and the read API', async () => {
    for (const p of ['/', '/index.html', '/api/time', '/api/rooms', '/api/rooms/fiveD_60', '/api/rooms/fiveD_60/periods', '/api/rooms/fiveD_60/periods?limit=5', '/api/rooms/fiveD_60/periods/20250731000000001', '/api/rooms?since=1']) {
      const r = await http(lbPort, 'GET', p);
      expect(r.status, p).toBe(200);
    }
    expect(seen).toContain('GET /api/rooms/fiveD_60/periods/20250731000000001');
    expect(seen).toContain('GET /api/rooms?since=1');
    expect((await http(lbPort, 'HEAD', '/api/time')).status).toBe(200);
    expect((await http(lbPort, 'POST', '/api/demo/session', '{}')).status).toBe(200); // the gateway decides (FIVED_DEMO)
    expect(seen).toContain('POST /api/demo/session');
  });

  it('refuses /metrics and the operator endpoints before they reach a gateway', async () => {
    const before = seen.length;
    const refused: Array<[string, string, number]> = [
      ['GET', '/metrics', 403],
      ['GET', '/metrics/', 403],
      ['GET', '//metrics', 400],
      ['GET', '/./metrics', 400],
      ['GET', '/%6detrics', 400],
      ['POST', '/api/bets', 405],
      ['POST', '/api/wallet/credit', 405],
      ['POST', '/api/wallet/debit', 405],
      ['GET', '/api/wallet/alice/ledger', 403],
      ['POST', '/api/rooms/fiveD_60/periods/20250731000000001/void', 405],
      ['GET', '/api/rooms/fiveD_60/periods/20250731000000001/liability', 403],
      ['GET', '/api/rooms/fiveD_60/periods/20250731000000001/tracking', 403],
      ['GET', '/health', 403], // operational (instance name, state): HAProxy checks the gateways directly
      ['GET', '/ready', 403],
      ['GET', '/api/wallet/credit', 403],
      ['GET', '/api/bets', 403],
      ['GET', '/api/rooms/../../metrics', 400],
      ['POST', '/api/demo/session/../../bets', 405],
      ['POST', '/api/rooms', 405],
      ['PUT', '/', 405],
      ['DELETE', '/api/rooms', 405],
    ];
    for (const [method, p, status] of refused) {
      const r = await http(lbPort, method, p, method === 'GET' || method === 'HEAD' ? undefined : '{}');
      expect(r.status, `${method} ${p}`).toBe(status);
    }
    expect(seen.slice(before)).toEqual([]);
  });

  it('answers HTTP/1.0 (which uWebSockets.js drops) with 505 instead of a 502', async () => {
    const before = seen.length;
    const reply = await new Promise<string>((resolve, reject) => {
      const s = net.connect(lbPort, '127.0.0.1', () => s.write('GET /api/time HTTP/1.0\r\nHost: x\r\n\r\n'));
      let data = '';
      s.on('data', (d) => { data += d.toString(); });
      s.on('end', () => resolve(data));
      s.on('error', reject);
    });
    expect(reply.split('\r\n')[0]).toMatch(/^HTTP\/1\.[01] 505 /);
    expect(seen.length).toBe(before);
  });

  it('carries WebSockets on /ws', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${lbPort}/ws`);
    try {
      const reply = await new Promise<string>((resolve, reject) => {
        ws.once('open', () => ws.send('hi'));
        ws.once('message', (m) => resolve(String(m)));
        ws.once('error', reject);
      });
      expect(reply).toBe('echo:hi');
    } finally {
      ws.terminate();
    }
  });

  it('passes the operator endpoints on the internal frontend only', async () => {
    const r = await http(opPort, 'POST', '/api/bets', '{}');
    expect(r.status).toBe(200);
    expect(seen).toContain('POST /api/bets');
  });

  it('takes a gateway whose /ready fails out of the pool and back after it recovers', async () => {
    const name = `gw-127.0.0.1:${backendPort}`;
    ready = 503; // what a draining gateway answers
    await waitUntil('backend DOWN', async () => ((await serverStates(sock, 'fived_gateways'))[name] === 'DOWN' ? true : undefined));
    expect((await serverStates(sock, 'fived_operator'))[name]).toBe('DOWN'); // tracks the public backend
    expect((await http(lbPort, 'GET', '/api/rooms')).status).toBe(503); // no gateway left
    const page = await http(statsPort, 'GET', '/;csv');
    expect(page.status).toBe(200);
    expect(page.body).toMatch(new RegExp(`fived_gateways,${name.replace(/[.]/g, '\\.')},.*DOWN`));
    ready = 200;
    await waitUntil('backend UP again', async () => ((await serverStates(sock, 'fived_gateways'))[name] === 'UP' ? true : undefined));
    expect((await http(lbPort, 'GET', '/api/rooms')).status).toBe(200);
  });

  it('logs no query string (a token in ?token= stays out of the log) and sets X-Forwarded-For itself', async () => {
    const secret = `tok${Math.random().toString(36).slice(2)}`;
    const ws = new WebSocket(`ws://127.0.0.1:${lbPort}/ws?token=${secret}`);
    await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
    await new Promise<void>((resolve) => { ws.once('close', () => resolve()); ws.close(); });
    const r = await http(lbPort, 'GET', `/api/time?token=${secret}`);
    expect(r.status).toBe(200);
    await waitUntil('the log lines', async () => (lb.output().split('\n').filter((l) => l.includes('"GET /ws HTTP/1.1"') || l.includes('"GET /api/time HTTP/1.1"')).length >= 2 ? true : undefined));
    expect(lb.output()).not.toContain(secret);
    // a client's own X-Forwarded-For is replaced, not passed on
    const before = forwarded.length;
    await new Promise<void>((resolve, reject) => {
      const s = net.connect(lbPort, '127.0.0.1', () => s.write('GET /api/time HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 6.6.6.6\r\nConnection: close\r\n\r\n'));
      s.on('data', () => undefined);
      s.on('end', () => resolve());
      s.on('error', reject);
    });
    expect(forwarded.slice(before)).toEqual(['127.0.0.1']);
  });

  it('exposes its own Prometheus metrics on the stats port', async () => {
    const r = await http(statsPort, 'GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.body).toContain('haproxy_backend_active_servers');
  });
});

describe('the per-address limits of the generated config (issue 12, row 7)', () => {
  it('closes connections over --conns-per-ip and answers requests over --http-rate-per-ip with 429', async () => {
    const backendPort = await freePort();
    const backend = createServer((_req, res) => res.writeHead(200).end('ok'));
    await new Promise<void>((resolve) => backend.listen(backendPort, '127.0.0.1', resolve));
    const [lbPort, statsPort] = [await freePort(), await freePort()];
    const cfg = path.join(dir, 'limits.cfg');
    const w = await run(SCRIPT, [
      '-o', cfg, '--bind', `127.0.0.1:${lbPort}`, '--operator', 'none', '--stats', `127.0.0.1:${statsPort}`, '--stats-socket', path.join(dir, 'limits.sock'),
      '--log', 'stdout', '--maxconn', '1000', '--conns-per-ip', '3', '--http-rate-per-ip', '5', String(backendPort),
    ]);
    expect(w.code).toBe(0);
    const lb = await startHaproxy(cfg, lbPort);
    const held: net.Socket[] = [];
    try {
      // requests over 5 per 10 s from this address: 429
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push((await http(lbPort, 'GET', '/api/time')).status);
      // HAProxy counts a connection closed without a request as one too (startHaproxy's probe): 4 or 5 pass
      const passed = statuses.filter((s) => s === 200).length;
      expect(passed, statuses.join(',')).toBeGreaterThanOrEqual(4);
      expect(passed, statuses.join(',')).toBeLessThanOrEqual(5);
      expect(statuses.slice(passed)).toEqual(Array(8 - passed).fill(429));
      // 3 open connections are kept; the 4th is closed without an answer (not even a 429: refused before HTTP)
      for (let i = 0; i < 3; i++) {
        held.push(await new Promise<net.Socket>((resolve, reject) => { const s = net.connect(lbPort, '127.0.0.1', () => resolve(s)); s.once('error', reject); }));
      }
      await new Promise((r) => setTimeout(r, 100));
      const fourth = await new Promise<string>((resolve) => {
        const s = net.connect(lbPort, '127.0.0.1', () => s.write('GET /api/time HTTP/1.1\r\nHost: x\r\n\r\n'));
        let data = '';
        s.on('data', (d) => { data += d.toString(); });
        s.on('close', () => resolve(data));
        s.on('error', () => undefined);
      });
      expect(fourth).toBe('');
    } finally {
      for (const s of held) s.destroy();
      await lb.stop();
      await new Promise<void>((resolve) => backend.close(() => resolve()));
    }
  });
});
