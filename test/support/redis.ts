// Starts a redis-server of the test's own on a free loopback port, and stops exactly that process
// by pid. Tests never touch a Redis they did not start (the machine's 6379 is left alone).
// Like production (redis/fived-redis.conf), it runs with an ACL user and a password and the default
// user off: the URL it returns carries the credentials, so every test that uses it exercises AUTH.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitForPort } from './ports.js';
import { raiseFdLimit, startProcess, type Proc, type StartOptions } from './procs.js';

/** the program every Redis of the harness runs (data nodes, and Sentinels with --sentinel); the
 *  Debian package of the same name provides it (scripts/prereqs.mjs) */
export const REDIS_SERVER = 'redis-server';

/** the ACL user every test Redis has (its password is made per server) */
export const TEST_REDIS_USER = 'fived';

/** Starts `redis-server ARGS` through the process tracker (the one place a Redis process is spawned). */
export function spawnRedisServer(name: string, args: string[], o: StartOptions & { raiseFdLimit?: boolean } = {}): Proc {
  const [cmd, a] = o.raiseFdLimit ? raiseFdLimit(REDIS_SERVER, args) : [REDIS_SERVER, args];
  return startProcess(name, cmd, a, { quiet: o.logFile === undefined, graceMs: 10_000, ...o });
}

export interface TestRedis {
  port: number;
  /** redis://fived:PASSWORD@127.0.0.1:PORT (redis://127.0.0.1:PORT with `password: null`) */
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
  /** the ACL user's password (default: random for this server); null: no ACL user, no AUTH */
  password?: string | null;
  /** more redis-server arguments (e.g. ['--replicaof', '127.0.0.1', '6390']) */
  extraArgs?: string[];
  /** the data dir (default: a temp dir of its own, removed by stop()) */
  dir?: string;
  /** the soft fd limit raised to the hard one (thousands of clients: the benchmarks) */
  raiseFdLimit?: boolean;
}

/** The ACL lines of a test Redis: the user fived may do everything, the default user is off. */
export function aclArgs(password: string): string[] {
  // the default user is off (nobody logs in as it) but keeps its permissions: Redis 7.0 replays the
  // AOF's transactions with them, and a default user without any loses data at a restart (NOPERM)
  return ['--user', TEST_REDIS_USER, 'on', `>${password}`, '~*', '&*', '+@all', '--user', 'default', 'off', '~*', '&*', '+@all'];
}

export async function startRedis(opts: TestRedisOptions = {}): Promise<TestRedis> {
  const port = await freePort();
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), 'fived-redis-'));
  const password = opts.password === null ? '' : opts.password ?? randomBytes(12).toString('hex');
  let proc: Proc | null = null;

  const args = () => [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir,
    '--appendonly', opts.persistent ? 'yes' : 'no',
    ...(opts.persistent ? ['--appendfsync', 'always'] : []),
    '--logfile', path.join(dir, 'redis.log'), '--daemonize', 'no',
    ...(opts.password === null ? [] : aclArgs(password)), ...(opts.extraArgs ?? []),
  ];

  const launch = async () => {
    const p = spawnRedisServer(`redis-${port}`, args(), { raiseFdLimit: opts.raiseFdLimit === true });
    proc = p;
    const exited = p.exited.then((e) => { throw new Error(`redis-server exited early (${e.code}); see ${dir}/redis.log`); });
    exited.catch(() => undefined);
    await Promise.race([waitForPort(port), exited]);
  };

  const killWith = async (signal: NodeJS.Signals) => { if (proc?.alive()) await proc.stop(60_000, signal); };

  await launch();
  const handle: TestRedis = {
    port,
    url: opts.password === null ? `redis://127.0.0.1:${port}` : `redis://${TEST_REDIS_USER}:${password}@127.0.0.1:${port}`,
    user: TEST_REDIS_USER,
    password,
    dir,
    get pid() { return proc?.pid ?? -1; },
    kill: () => killWith('SIGKILL'),
    restart: async () => { await killWith('SIGKILL'); await launch(); },
    stop: async () => { await killWith('SIGTERM'); if (ownDir) rmSync(dir, { recursive: true, force: true }); },
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
