// Helpers of the deployment tests (test/deploy-*.test.ts): run the repo's shell scripts, poll an
// HTTP status, players through the load balancer; HAProxy (haproxy.ts) and fived (fived.ts) are
// re-exported for them.
import { execFile } from 'node:child_process';
import { request, type IncomingHttpHeaders } from 'node:http';
import { unpack } from 'msgpackr';
import WebSocket from 'ws';
import { REPO, type FivedProcess } from './fived.js';

export { REPO, runFived, spawnFived, type FivedProcess } from './fived.js';
export { haproxyCommand, serverSessions, serverStates, startHaproxy, type Haproxy } from './haproxy.js';
export { freeConsecutivePorts } from './ports.js';

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
