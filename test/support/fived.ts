// `fived <command>` as the tests, benchmarks and chaos tools run it: the built CLI (bin/fived.js
// on dist/) started through the process tracker with the env given, waited for until it serves,
// and stopped by pid — or, for a tool that exits by itself, run to completion.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpRequest, raiseFdLimit, startProcess, type Proc, type StartOptions } from './procs.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** the CLI inside the package (what `npm pack` ships and systemd units start) */
export const CLI_BIN_REL = 'bin/fived.js';
/** the CLI of this checkout */
export const CLI_BIN = path.join(REPO, CLI_BIN_REL);

export interface FivedOptions extends StartOptions {
  /** node flags before the script (V8 flags, --cpu-prof, …) */
  nodeArgs?: string[];
  /** the soft fd limit raised to the hard one (thousands of clients) */
  raiseFdLimit?: boolean;
  /** another copy of the CLI (an installed package) instead of this checkout's */
  bin?: string;
}

/** Starts `node [nodeArgs] bin/fived.js ...args` (cwd: the repo) through the process tracker. */
export function startFived(name: string, args: string[], o: FivedOptions = {}): Proc {
  const { nodeArgs = [], bin = CLI_BIN, ...rest } = o;
  const argv = [...nodeArgs, bin, ...args];
  const [cmd, a] = o.raiseFdLimit ? raiseFdLimit(process.execPath, argv) : [process.execPath, argv];
  return startProcess(name, cmd, a, { cwd: REPO, ...rest });
}

/**
 * Resolves once GET `urlPath` on `port` answers 200 (/ready for a gateway, /health for a scheduler
 * or a process that is up); fails at once, with its output, if the process exits first.
 */
export async function waitHttpOk(proc: Proc, port: number, urlPath = '/ready', timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!proc.alive()) {
      const e = await proc.exited;
      throw new Error(`${proc.name} exited (${e.code ?? e.signal}) while starting:\n${proc.output().slice(-4000)}`);
    }
    if ((await httpRequest(port, urlPath, { timeoutMs: 2000 })).status === 200) return;
    if (Date.now() > deadline) throw new Error(`${proc.name}: ${urlPath} on ${port} not 200 within ${timeoutMs} ms:\n${proc.output().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * `node bin/fived.js ...args` with only PATH, HOME, a silent log and the env given: waited for (a
 * tool exits by itself), killed and rejected after `timeoutMs` (a command that started a server
 * instead of refusing). A timeout is an error, not an exit code.
 */
export function runFived(args: string[], env: Record<string, string> = {}, timeoutMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], {
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
  const p = startFived(name, args, { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', FIVED_INSTANCE: name, ...env } });
  const exited = p.exited.then((e) => e.code ?? e.signal ?? -1);
  return {
    name,
    pid: p.pid,
    output: () => p.output(),
    exited,
    stop: async (graceMs = 15_000) => {
      await p.stop(graceMs);
      return exited;
    },
  };
}
