// Starts a redis-server of the test's own on a free loopback port, and stops exactly that process
// by pid. Tests never touch a Redis they did not start (the machine's 6379 is left alone).
// Like production (redis/fived-redis.conf), it runs with an ACL user and a password and the default
// user off: the URL it returns carries the credentials, so every test that uses it exercises AUTH.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitForPort, killAndWait } from './ports.js';

/** the ACL user every test Redis has (its password is made per server) */
export const TEST_REDIS_USER = 'fived';

export interface TestRedis {
  port: number;
  /** redis://fived:PASSWORD@127.0.0.1:PORT */
  url: string;
  user: string;
  password: string;
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
  /** the ACL user's password (default: random for this server) */
  password?: string;
  /** more redis-server arguments (e.g. ['--replicaof', '127.0.0.1', '6390']) */
  extraArgs?: string[];
}

/** The ACL lines of a test Redis: the user fived may do everything, the default user is off. */
export function aclArgs(password: string): string[] {
  // the default user is off (nobody logs in as it) but keeps its permissions: Redis 7.0 replays the
  // AOF's transactions with them, and a default user without any loses data at a restart (NOPERM)
  return ['--user', TEST_REDIS_USER, 'on', `>${password}`, '~*', '&*', '+@all', '--user', 'default', 'off', '~*', '&*', '+@all'];
}

export async function startRedis(opts: TestRedisOptions = {}): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fived-redis-'));
  const password = opts.password ?? randomBytes(12).toString('hex');
  let child: ChildProcess | null = null;

  const args = () => [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir,
    '--appendonly', opts.persistent ? 'yes' : 'no',
    ...(opts.persistent ? ['--appendfsync', 'always'] : []),
    '--logfile', path.join(dir, 'redis.log'), '--daemonize', 'no',
    ...aclArgs(password), ...(opts.extraArgs ?? []),
  ];

  const launch = async () => {
    child = spawn('redis-server', args(), { stdio: 'ignore' });
    const exited = new Promise<never>((_, reject) => child!.once('exit', (code) => reject(new Error(`redis-server exited early (${code}); see ${dir}/redis.log`))));
    await Promise.race([waitForPort(port), exited]);
    exited.catch(() => undefined);
  };

  const killWith = (signal: NodeJS.Signals) => killAndWait(child, signal);

  await launch();
  const handle: TestRedis = {
    port,
    url: `redis://${TEST_REDIS_USER}:${password}@127.0.0.1:${port}`,
    user: TEST_REDIS_USER,
    password,
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
