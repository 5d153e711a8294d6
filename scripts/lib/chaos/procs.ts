// Processes the chaos driver, the soak and the fuzz test start themselves: each is spawned with its
// output appended to a log file, remembered by pid, signalled by pid (never by name), and stopped
// by pid on every exit path (stopAll). Loopback only.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

export interface Proc {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** resolves with the exit code / signal once the process has gone */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after graceMs; resolves when it is gone */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<Proc>();

export function startProc(name: string, cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; logFile: string; cwd?: string }): Proc {
  mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const fd = openSync(opts.logFile, 'a');
  const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${name} (${cmd})`);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      live.delete(proc);
      resolve({ code, signal });
    });
  });
  const proc: Proc = {
    name,
    pid: child.pid,
    child,
    exited,
    alive: () => !done,
    signal: (sig) => {
      if (!done) process.kill(child.pid!, sig);
    },
    stop: async (graceMs = 8000) => {
      if (done) return;
      try { process.kill(child.pid!, 'SIGCONT'); } catch { /* gone */ }
      try { process.kill(child.pid!, 'SIGTERM'); } catch { /* gone */ }
      const t = setTimeout(() => { try { if (!done) process.kill(child.pid!, 'SIGKILL'); } catch { /* gone */ } }, graceMs);
      await exited;
      clearTimeout(t);
    },
  };
  live.add(proc);
  return proc;
}

/** Stops every process started through startProc that is still running (by pid). */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop(3000)));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') return reject(new Error('no port'));
      srv.close(() => resolve(addr.port));
    });
  });
}

export async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

export interface HttpReply { status: number; body: string }

/** One HTTP request on loopback; status 0 when nothing answered. */
export function httpRequest(port: number, reqPath: string, opts: { method?: string; body?: string; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<HttpReply> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: reqPath, method: opts.method ?? 'GET', headers: opts.headers, timeout: opts.timeoutMs ?? 3000, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ status: 0, body }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.on('timeout', () => req.destroy());
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** Polls until pred() is true or the time is up; returns whether it became true. Bounded. */
export async function waitFor(pred: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await pred()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Resident set size of a process in bytes (from /proc), or null when it is gone. */
export async function rssOf(pid: number): Promise<number | null> {
  const { readFile } = await import('node:fs/promises');
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}
