// HAProxy of the tests, benchmarks and chaos tools: the real haproxy in the foreground (`-db`),
// started through the process tracker and stopped by pid, on a config of the caller's (the
// deployment tests and the chaos cluster: scripts/haproxy-config.sh) or the benchmarks' own
// (haproxyConfig: roundrobin over the instances, WebSocket tunnel timeouts, a health check). One
// process holds ~2 fds per proxied connection and this container's hard fd limit is 20,000, so
// past ~9,000 clients a benchmark runs several HAProxy processes on the same port and config
// (SO_REUSEPORT, HAProxy's default on Linux): the kernel spreads the connections between them.
// Its admin socket is read for server states and sessions.

import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { waitForPort } from './ports.js';
import { startProcess, type Proc, type StartOptions } from './procs.js';

/** Starts `haproxy -db -f cfg` through the process tracker. */
export function spawnHaproxy(name: string, cfg: string, o: StartOptions = {}): Proc {
  return startProcess(name, 'haproxy', ['-db', '-f', cfg], o);
}

export interface Haproxy {
  pid: number;
  /** what haproxy wrote (config warnings, logs with `--log stdout`) */
  output(): string;
  stop(): Promise<void>;
}

/** Starts `haproxy -db -f cfg` (foreground, no daemon) and resolves once `port` accepts connections. */
export async function startHaproxy(cfg: string, port: number): Promise<Haproxy> {
  const p = spawnHaproxy(`haproxy-${port}`, cfg);
  const exited = p.exited.then((e) => { throw new Error(`haproxy exited early (${e.code}):\n${p.output()}`); });
  exited.catch(() => undefined);
  const h: Haproxy = {
    pid: p.pid,
    output: () => p.output(),
    stop: async () => { await p.stop(60_000); },
  };
  try {
    await Promise.race([waitForPort(port), exited]);
  } catch (e) {
    await h.stop();
    throw e;
  }
  return h;
}

export interface HaproxyOptions {
  port: number;
  servers: number[];
  healthPath: string | null;
  dir: string;
  maxconn: number;
  processes: number;
}

export function haproxyConfig(o: Omit<HaproxyOptions, 'dir' | 'processes'>): string {
  return [
    'global',
    `  maxconn ${o.maxconn}`,
    '  log stdout format raw local0 warning',
    'defaults',
    '  mode http',
    '  timeout connect 5s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  timeout tunnel 1h',
    '  timeout http-request 10s',
    `  maxconn ${o.maxconn}`,
    'frontend fe',
    `  bind 127.0.0.1:${o.port}`,
    '  default_backend be',
    'backend be',
    '  balance roundrobin',
    // HTTP/1.1 with a Host header: uWS does not answer HAProxy's default HTTP/1.0 check
    ...(o.healthPath ? ['  option httpchk', `  http-check send meth GET uri ${o.healthPath} ver HTTP/1.1 hdr Host localhost`, '  http-check expect status 200'] : []),
    ...o.servers.map((p, i) => `  server s${i} 127.0.0.1:${p} check inter 2s maxconn ${o.maxconn}`),
    '',
  ].join('\n');
}

/** `o.processes` HAProxy processes on haproxyConfig(o), sharing the port; resolves once it accepts connections. */
export async function startHaproxyPool(o: HaproxyOptions): Promise<Proc[]> {
  const cfg = path.join(o.dir, 'haproxy.cfg');
  writeFileSync(cfg, haproxyConfig(o));
  const procs: Proc[] = [];
  for (let i = 0; i < o.processes; i++) {
    procs.push(spawnHaproxy(`haproxy-${i}`, cfg, { logFile: path.join(o.dir, `haproxy-${i}.log`), group: true, graceMs: 5000 }));
  }
  await waitForPort(o.port);
  return procs;
}

/** Connections one HAProxy process can proxy under an fd limit (2 per connection + slack). */
export function maxconnFor(fdLimit: number): number {
  return Math.floor((fdLimit - 200) / 2);
}

/** Sends one command to the HAProxy admin socket and returns the whole answer. */
export function haproxyCommand(socketPath: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(socketPath);
    let data = '';
    s.on('connect', () => s.write(`${command}\n`));
    s.on('data', (d) => { data += d.toString(); });
    s.on('end', () => resolve(data));
    s.on('error', reject);
  });
}

/** Server states of one backend from `show stat`: server name → status (UP, DOWN, "UP 1/2", MAINT, …). */
export async function serverStates(socketPath: string, backend: string): Promise<Record<string, string>> {
  const csv = await haproxyCommand(socketPath, 'show stat');
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').replace(/^# /, '').split(',');
  const iPx = header.indexOf('pxname');
  const iSv = header.indexOf('svname');
  const iStatus = header.indexOf('status');
  const states: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const f = line.split(',');
    const sv = f[iSv] ?? '';
    if (f[iPx] === backend && sv !== 'FRONTEND' && sv !== 'BACKEND') states[sv] = f[iStatus] ?? '';
  }
  return states;
}

/** Current sessions (scur) per server of a backend, from HAProxy's stats. */
export async function serverSessions(socketPath: string, backend: string): Promise<Record<string, number>> {
  const csv = await haproxyCommand(socketPath, 'show stat');
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').replace(/^# /, '').split(',');
  const iPx = header.indexOf('pxname');
  const iSv = header.indexOf('svname');
  const iCur = header.indexOf('scur');
  const out: Record<string, number> = {};
  for (const line of lines.slice(1)) {
    const f = line.split(',');
    const sv = f[iSv] ?? '';
    if (f[iPx] === backend && sv !== 'FRONTEND' && sv !== 'BACKEND') out[sv] = Number(f[iCur] ?? 0);
  }
  return out;
}

