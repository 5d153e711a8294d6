// The one process tracker of the tests, the benchmarks and the chaos tools: every process they
// start goes through startProcess (or adoptProcess for a fork), is remembered by pid, signalled by
// pid — never by name — and stopped by pid on every exit path (stopAll; stopAllOnExit for the
// benchmarks and scripts). Output goes to a log file (appended) or is kept in memory. A process
// started with `group` gets a process group of its own, so a shell's children go with it.

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Proc {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** resolves with the exit code / signal once the process has gone */
  readonly exited: Promise<Exit>;
  alive(): boolean;
  /** sends `sig` to the process (its group with `group`) while it runs */
  signal(sig: NodeJS.Signals): void;
  /** what it wrote (stdout and stderr, in memory), or the end of its log file */
  output(): string;
  /** SIGCONT (a stopped process must see the signal), `signal` (SIGTERM), SIGKILL after graceMs; resolves when it is gone */
  stop(graceMs?: number, signal?: NodeJS.Signals): Promise<Exit>;
  /** SIGKILL, resolves when it is gone */
  kill(): Promise<Exit>;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** append stdout and stderr to this file (else they are kept in memory: output()) */
  logFile?: string;
  /** discard stdout and stderr */
  quiet?: boolean;
  /** a process group of its own, signalled as a whole (a shell script and its children) */
  group?: boolean;
  /** stop()'s default grace before SIGKILL (ms) */
  graceMs?: number;
}

const live = new Set<Proc>();

export function startProcess(name: string, cmd: string, args: string[], o: StartOptions = {}): Proc {
  let fd: number | null = null;
  if (o.logFile) {
    mkdirSync(path.dirname(o.logFile), { recursive: true });
    fd = openSync(o.logFile, 'a');
  }
  const out = fd ?? (o.quiet ? 'ignore' : 'pipe');
  const child = spawn(cmd, args, { env: o.env ?? process.env, cwd: o.cwd, detached: o.group === true, stdio: ['ignore', out, out] });
  if (fd !== null) closeSync(fd);
  return track(name, child, { ...o, error: spawnError(child) });
}

/** Registers a process someone else spawned (e.g. a fork) so it is stopped with the rest. */
export function adoptProcess(name: string, child: ChildProcess, graceMs = 3000): Proc {
  return track(name, child, { graceMs, error: spawnError(child) });
}

/** A spawn that fails (ENOENT) reports through 'error': it becomes the process's exit. */
function spawnError(child: ChildProcess): Promise<Error> {
  return new Promise((resolve) => child.once('error', resolve));
}

function track(name: string, child: ChildProcess, o: StartOptions & { error: Promise<Error> }): Proc {
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  const pid = child.pid;
  let text = '';
  child.stdout?.on('data', (d: Buffer) => { text += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { text += d.toString(); });
  let done = false;
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => { done = true; live.delete(proc); resolve({ code, signal }); });
    void o.error.then(() => { done = true; live.delete(proc); resolve({ code: -1, signal: null }); });
  });
  const send = (sig: NodeJS.Signals) => {
    try {
      process.kill(o.group ? -pid : pid, sig);
    } catch {
      /* already gone */
    }
  };
  const proc: Proc = {
    name,
    pid,
    child,
    exited,
    alive: () => !done,
    signal: (sig) => { if (!done) send(sig); },
    output: () => (o.logFile ? tail(o.logFile) : text),
    async stop(graceMs = o.graceMs ?? 8000, signal = 'SIGTERM') {
      if (!done) {
        send('SIGCONT');
        send(signal);
        const t = setTimeout(() => send('SIGKILL'), graceMs);
        await exited;
        clearTimeout(t);
      }
      if (o.group) send('SIGKILL'); // leftovers of the group (a shell's children)
      return exited;
    },
    async kill() {
      if (!done) send('SIGKILL');
      return exited;
    },
  };
  live.add(proc);
  return proc;
}

function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Stops every tracked process still running, by pid: the newest first (clients, then servers, then Redis). */
export async function stopAll(graceMs = 3000): Promise<void> {
  for (const p of [...live].reverse()) await p.stop(graceMs);
}

/**
 * The end of a benchmark's or script's `main`: every tracked process stopped, then exit with the
 * code main returned (0 when none), or 1 with the error's stack.
 */
export function runMain(main: () => Promise<unknown>): void {
  main().then(
    async (code) => { await stopAll(); process.exit(typeof code === 'number' ? code : 0); },
    async (err: unknown) => {
      console.error(err instanceof Error ? err.stack : String(err));
      await stopAll();
      process.exit(1);
    },
  );
}

let hooked = false;
/** For a benchmark or script: SIGINT/SIGTERM stop every tracked process, and whatever is left at exit is killed. */
export function stopAllOnExit(tag: string): void {
  if (hooked) return;
  hooked = true;
  const onSignal = (sig: NodeJS.Signals) => {
    process.stderr.write(`\n[${tag}] ${sig}: stopping ${live.size} process(es)\n`);
    void stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', () => { for (const p of live) p.signal('SIGKILL'); });
}

/** Sends `signal` to a child still running and resolves once it has exited. */
export async function killAndWait(c: ChildProcess | Proc | null | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!c) return;
  if ('alive' in c) {
    if (c.alive()) await c.stop(60_000, signal);
    return;
  }
  if (c.exitCode !== null || c.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => c.once('exit', () => resolve()));
  c.kill(signal);
  await gone;
}

/** Runs a command to completion, returning its stdout; rejects with stderr on a non-zero exit. */
export function runOk(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.trim() || out.trim()}`))));
  });
}

/** Awaits `p` unless `proc` exits first; either way a failure shows the end of its output. */
export async function whileAlive<T>(proc: Proc, p: Promise<T>): Promise<T> {
  const died = proc.exited.then((e) => { throw new Error(`${proc.name} exited (${e.code ?? e.signal}) while starting`); });
  try {
    return await Promise.race([p, died]);
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- ${proc.name} ---\n${proc.output().slice(-4000)}`);
  } finally {
    died.catch(() => undefined);
  }
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

/** Resident set size of a pid in KiB (from /proc), or null when the process is gone. */
export async function rssKb(pid: number): Promise<number | null> {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Resident set size of a process in bytes, or null when it is gone. */
export async function rssOf(pid: number): Promise<number | null> {
  const kb = await rssKb(pid);
  return kb === null ? null : kb * 1024;
}

/** CPU time (user + system) of a pid in ms, from /proc/<pid>/stat. */
export async function cpuMsOf(pid: number): Promise<number | null> {
  try {
    const s = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = s.slice(s.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15)
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

/** `cmd args` with the soft fd limit raised to the hard one inside the child (exec keeps the pid). */
export function raiseFdLimit(cmd: string, args: string[]): [string, string[]] {
  return ['sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', cmd, ...args]];
}
