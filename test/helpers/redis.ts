// Starts a redis-server of the test's own on a free loopback port, and stops exactly that process
// by pid. Tests never touch a Redis they did not start (the machine's 6379 is left alone).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitForPort } from './ports.js';

export interface TestRedis {
  port: number;
  url: string;
  dir: string;
  pid: number;
  /** kill -9 (simulated crash) */
  kill(): Promise<void>;
  /** start again on the same port and dir (with the same persistence settings) */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface TestRedisOptions {
  /** appendonly yes + appendfsync always (the production durability settings) */
  persistent?: boolean;
}

export async function startRedis(opts: TestRedisOptions = {}): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fived-redis-'));
  let child: ChildProcess | null = null;

  const args = () => [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir,
    '--appendonly', opts.persistent ? 'yes' : 'no',
    ...(opts.persistent ? ['--appendfsync', 'always'] : []),
    '--logfile', path.join(dir, 'redis.log'), '--daemonize', 'no',
  ];

  const launch = async () => {
    child = spawn('redis-server', args(), { stdio: 'ignore' });
    const exited = new Promise<never>((_, reject) => child!.once('exit', (code) => reject(new Error(`redis-server exited early (${code}); see ${dir}/redis.log`))));
    await Promise.race([waitForPort(port), exited]);
    exited.catch(() => undefined);
  };

  const killWith = async (signal: NodeJS.Signals) => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill(signal);
    await gone;
  };

  await launch();
  const handle: TestRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    get pid() { return child?.pid ?? -1; },
    kill: () => killWith('SIGKILL'),
    restart: async () => { await killWith('SIGKILL'); await launch(); },
    stop: async () => { await killWith('SIGTERM'); rmSync(dir, { recursive: true, force: true }); },
  };
  return handle;
}

/**
 * The seed key (FIVED_SEED_KEY) every test process and in-process store shares: seeds are stored in
 * Redis only sealed under it, so a gateway, a scheduler and the test itself must all hold it.
 */
export const TEST_SEED_KEY = '5eed'.repeat(16);

let prefixCounter = 0;
/** A key prefix unique to one test, so tests sharing a server never see each other's keys. */
export function testPrefix(name = 't'): string {
  prefixCounter += 1;
  return `fivedtest:${name}:${process.pid}:${prefixCounter}:`;
}
