// haproxy/haproxy.cfg and scripts/haproxy-config.sh: the committed file is the script's output,
// `haproxy -c` accepts what the script writes, and a real haproxy with that config routes only
// the public paths (a recording HTTP + WebSocket server stands in for the gateways here; the
// end-to-end test with real gateways is deploy-haproxy-e2e.test.ts).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { REPO, http, run, serverStates, startHaproxy, waitUntil, type Haproxy } from './helpers/deploy.js';
import { freePort } from './helpers/ports.js';

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
    for (const port of [3000, 3001, 3002, 3003]) expect(text).toContain(`server gw-127.0.0.1:${port} 127.0.0.1:${port}`);
  });

  it('refuses bad input with a message and exit code 2', async () => {
    for (const args of [[], ['70000'], ['host-without-port'], ['3000', '127.0.0.1:3000'], ['--bind', 'nope', '3000'], ['--check-inter', '5', '3000'], ['--bogus', '3000']]) {
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
  const sock = path.join(dir, 'admin.sock');
  let lb: Haproxy;

  beforeAll(async () => {
    backend = createServer((req: IncomingMessage, res) => {
      if (req.url === '/ready') {
        res.writeHead(ready).end(ready === 200 ? 'ready' : 'draining');
        return;
      }
      seen.push(`${req.method} ${req.url}`);
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

  it('exposes its own Prometheus metrics on the stats port', async () => {
    const r = await http(statsPort, 'GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.body).toContain('haproxy_backend_active_servers');
  });
});
