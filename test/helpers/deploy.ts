// Helpers of the deployment tests (test/deploy-*.test.ts): run the repo's shell scripts, run the
// real haproxy in the foreground (stopped by pid), read its stats socket, poll an HTTP status.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { request, type IncomingHttpHeaders } from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { unpack } from 'msgpackr';
import WebSocket from 'ws';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; never throws on a non-zero exit (the caller asserts on it). */
export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { cwd: opts.cwd ?? REPO, env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err && typeof (err as NodeJS.ErrnoException).code === 'string') return reject(err); // could not start
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/**
 * `node bin/fived.js ...args` with only PATH, HOME, a silent log and the env given: waited for (a
 * tool exits by itself), killed and rejected after `timeoutMs` (a command that started a server
 * instead of refusing). Unlike `run`, a timeout is an error, not an exit code.
 */
export function runFived(args: string[], env: Record<string, string> = {}, timeoutMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO, 'bin', 'fived.js'), ...args], {
      cwd: REPO,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', FIVED_LOG_LEVEL: 'silent', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fived ${args.join(' ')} did not exit within ${timeoutMs} ms (it started instead of refusing?)`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface Haproxy {
  pid: number;
  /** what haproxy wrote (config warnings, logs with `--log stdout`) */
  output(): string;
  stop(): Promise<void>;
}

/** Starts `haproxy -db -f cfg` (foreground, no daemon) and resolves once `port` accepts connections. */
export async function startHaproxy(cfg: string, port: number): Promise<Haproxy> {
  const child: ChildProcess = spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code) => reject(new Error(`haproxy exited early (${code}):\n${out}`)));
  });
  exited.catch(() => undefined);
  const h: Haproxy = {
    pid: child.pid ?? -1,
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await gone;
    },
  };
  try {
    await Promise.race([waitForTcp(port), exited]);
  } catch (e) {
    await h.stop();
    throw e;
  }
  return h;
}

async function waitForTcp(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`127.0.0.1:${port} did not open within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
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

/** Polls `check` until it returns a value other than undefined (for states that have no event). */
export async function waitUntil<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** One HTTP request on loopback with the path sent as written (no URL normalisation), no keep-alive. */
export function http(port: number, method: string, rawPath: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path: rawPath, agent: false, headers: { connection: 'close', ...headers } }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export interface SeenResult {
  room: string;
  periodId: string;
  digits: number[];
  sum: number;
  seed: string;
  commitment: string;
}

/**
 * A player through the load balancer: subscribes to rooms, records every result (live or from
 * recovery), and reconnects after any close it did not ask for, subscribing with `since` = the
 * last period id it saw, as the client SDK does.
 */
export class PlayerClient {
  /** hellos received: one per connection (the hello carries no instance name: which gateway a
   *  player is on is the load balancer's to tell — serverSessions) */
  hellos = 0;
  readonly closes: number[] = []; // close codes received
  readonly results = new Map<string, SeenResult>(); // periodId → result
  private ws: WebSocket | null = null;
  private closing = false;
  private waiters: Array<() => void> = [];

  constructor(private readonly url: string, private readonly rooms: string[]) {}

  connect(): void {
    const ws = new WebSocket(this.url, ['fived']);
    this.ws = ws;
    ws.on('open', () => {
      const since: Record<string, string> = {};
      for (const room of this.rooms) {
        const last = [...this.results.values()].filter((r) => r.room === room).map((r) => r.periodId).sort().at(-1);
        if (last) since[room] = last;
      }
      ws.send(JSON.stringify({ type: 'subscribe', rooms: this.rooms, ...(Object.keys(since).length > 0 ? { since } : {}) }));
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const msg = (isBinary ? unpack(data) : JSON.parse(String(data))) as { type: string; [k: string]: unknown };
      if (msg.type === 'hello') this.hellos += 1;
      else if (msg.type === 'result') this.record(msg as unknown as SeenResult);
      else if (msg.type === 'recovery') for (const r of msg.results as SeenResult[]) this.record(r);
      this.notify();
    });
    ws.on('error', () => undefined); // a refused reconnect shows up as a close
    ws.on('close', (code: number) => {
      this.closes.push(code);
      this.notify();
      if (!this.closing) setTimeout(() => this.connect(), 100); // the SDK backs off; a short fixed delay here
    });
  }

  private record(r: SeenResult): void {
    this.results.set(r.periodId, { room: r.room, periodId: r.periodId, digits: [...r.digits], sum: r.sum, seed: r.seed, commitment: r.commitment });
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves when `check` holds, re-evaluated on every message and close. */
  async until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  get open(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  close(): void {
    this.closing = true;
    this.ws?.terminate();
  }
}

export interface FivedProcess {
  name: string;
  pid: number;
  output(): string;
  /** resolves with the exit code (or the signal name) once the process has exited */
  exited: Promise<number | string>;
  /** SIGTERM (drain), wait for the exit; SIGKILL after `graceMs` */
  stop(graceMs?: number): Promise<number | string>;
}

/** Starts `node bin/fived.js <args>` from dist/ with exactly `env` added to PATH and HOME. */
export function spawnFived(name: string, args: string[], env: Record<string, string>): FivedProcess {
  const child = spawn(process.execPath, [path.join(REPO, 'bin/fived.js'), ...args], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', FIVED_INSTANCE: name, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return {
    name,
    pid: child.pid ?? -1,
    output: () => out,
    exited,
    stop: async (graceMs = 15_000) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(t);
      }
      return exited;
    },
  };
}

/** `n` consecutive free loopback ports (the cluster script numbers gateways from a base port). */
export async function freeConsecutivePorts(n: number, avoid: ReadonlySet<number> = new Set()): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 12_000); // below the ephemeral range
    const range = Array.from({ length: n }, (_, i) => base + i);
    if (range.some((p) => avoid.has(p))) continue;
    const ok = await Promise.all(range.map((p) => canBind(p)));
    if (ok.every(Boolean)) return base;
  }
  throw new Error(`no ${n} consecutive free ports found`);
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** Waits until every gateway answers /ready with 200; fails at once with its output if one exits. */
export async function waitGatewaysReady(gateways: readonly FivedProcess[], ports: readonly number[], timeoutMs = 30_000): Promise<void> {
  for (const [i, port] of ports.entries()) {
    await waitUntil(`gateway on ${port} ready`, async () => {
      const code = await Promise.race([gateways[i]!.exited.then((c) => `exited ${c}`), Promise.resolve(null)]);
      if (code) throw new Error(`${gateways[i]!.name} ${code}:\n${gateways[i]!.output()}`);
      return (await http(port, 'GET', '/ready')).status === 200 ? true : undefined;
    }, timeoutMs);
  }
}
