// Processes the harness starts: every one is recorded here and stopped by its own pid — on
// success, on error and on SIGINT/SIGTERM — never by name. Detached children get their own
// process group so a shell script's children (cluster.sh, tsx) go with them.

import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';

export interface Tracked {
  name: string;
  child: ChildProcess;
  pid: number;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

const live = new Set<Tracked>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  const onSignal = (sig: NodeJS.Signals) => {
    process.stderr.write(`\n[bench] ${sig}: stopping ${live.size} process(es)\n`);
    void stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // last resort: synchronous kill of whatever is left when the harness exits for any reason
  process.once('exit', () => {
    for (const t of live) killGroup(t.pid, 'SIGKILL');
  });
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal); // the process group we created (detached: true)
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/** Spawns a process in its own group, logging stdout/stderr to logFile (or inheriting). */
export function start(name: string, cmd: string, args: string[], opts: SpawnOptions & { logFile?: string } = {}): Tracked {
  hookExit();
  const { logFile, ...rest } = opts;
  const child = spawn(cmd, args, { ...rest, detached: true, stdio: logFile ? ['ignore', 'pipe', 'pipe'] : rest.stdio ?? 'inherit' });
  if (logFile) {
    mkdirSync(path.dirname(logFile), { recursive: true });
    const out = createWriteStream(logFile, { flags: 'a' });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
  }
  if (child.pid === undefined) throw new Error(`could not start ${name} (${cmd})`);
  const pid = child.pid;
  const t = track(name, child, (sig) => killGroup(pid, sig), 5000);
  void t.exited.then(() => {
    if (child.signalCode === null && child.exitCode !== 0) process.stderr.write(`[bench] ${name} (pid ${pid}) exited with ${child.exitCode}\n`);
  });
  return t;
}

/** Registers a process someone else spawned (e.g. fork) so it is stopped with the rest. */
export function adopt(name: string, child: ChildProcess): Tracked {
  hookExit();
  if (child.pid === undefined) throw new Error(`${name} has no pid`);
  const pid = child.pid;
  // not detached: the process itself, not a group
  return track(name, child, (sig) => { try { process.kill(pid, sig); } catch { /* gone */ } }, 3000);
}

/** Records a child: stop() signals it, SIGKILLs after the grace, and waits for its exit. */
function track(name: string, child: ChildProcess, kill: (signal: NodeJS.Signals) => void, defaultGraceMs: number): Tracked {
  const pid = child.pid!;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const t: Tracked = {
    name,
    child,
    pid,
    exited,
    async stop(signal = 'SIGTERM', graceMs = defaultGraceMs) {
      if (child.exitCode === null && child.signalCode === null) {
        kill(signal);
        const timer = setTimeout(() => kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      kill('SIGKILL'); // leftovers of a group (a shell's children); a no-op for a single exited process
      live.delete(t);
    },
  };
  live.add(t);
  return t;
}

export async function stopAll(): Promise<void> {
  // reverse start order: clients first, then the stack, then HAProxy and Redis
  for (const t of [...live].reverse()) await t.stop();
}

/** Runs a command to completion, returning its stdout; rejects with stderr on a non-zero exit. */
export function run(cmd: string, args: string[], opts: SpawnOptions = {}): Promise<string> {
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

/** Resident set size of a pid in KiB (from /proc), or null when the process is gone. */
export async function rssKb(pid: number): Promise<number | null> {
  try {
    const { readFile } = await import('node:fs/promises');
    const s = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(s);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** CPU time (user + system) of a pid in ms, from /proc/<pid>/stat. */
export async function cpuMsOf(pid: number): Promise<number | null> {
  try {
    const { readFile } = await import('node:fs/promises');
    const s = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = s.slice(s.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15)
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}
