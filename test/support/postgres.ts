// Starts a PostgreSQL of the test's own (Debian's `postgresql` package: initdb into a temp dir,
// `postgres` on a free loopback port with its socket in that dir) and stops exactly that process by
// pid. Tests run as root, which PostgreSQL refuses: the server then runs as the unprivileged
// `postgres` system user (or `nobody`) through setpriv, which execs, so the pid is the postmaster's.
// The machine's own PostgreSQL (5432) is never touched.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort, waitForPort } from './ports.js';
import { startProcess, type Proc } from './procs.js';

export interface TestPostgres {
  port: number;
  /** postgres://fived@127.0.0.1:PORT/postgres (trust authentication on loopback) */
  url: string;
  dir: string;
  pid: number;
  /** stop abruptly (SIGQUIT: no checkpoint, crash recovery at the next start) and start again on the same port */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** The bin folder of the newest PostgreSQL under /usr/lib/postgresql (the version is found, not assumed). */
export function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+(\.\d+)?$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const bin = path.join(root, v, 'bin');
    if (existsSync(path.join(bin, 'postgres')) && existsSync(path.join(bin, 'initdb'))) return bin;
  }
  throw new Error('no PostgreSQL server found under /usr/lib/postgresql (Debian package postgresql; scripts/prereqs.mjs installs it)');
}

/** uid/gid to run as: the postgres system user, else nobody; null when not root (run as we are). */
function serverUser(): { uid: number; gid: number } | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  for (const name of ['postgres', 'nobody']) {
    const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (r.status === 0 && g.status === 0) return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
  }
  throw new Error('running as root and neither the postgres nor the nobody user exists to run PostgreSQL');
}

function asUser(user: { uid: number; gid: number } | null, cmd: string, args: string[]): [string, string[]] {
  if (!user) return [cmd, args];
  return ['setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--', cmd, ...args]];
}

/** Resolves once a client can run a query (the port opens before recovery has finished). */
async function waitReady(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = new pg.Client({ connectionString: url });
    try {
      await c.connect();
      await c.query('SELECT 1');
      await c.end();
      return;
    } catch (err) {
      await c.end().catch(() => undefined);
      if (Date.now() > deadline) throw new Error(`PostgreSQL at ${url} not ready within ${timeoutMs} ms: ${String(err)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBin();
  const user = serverUser();
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fived-pg-'));
  const data = path.join(dir, 'data');
  if (user) chownSync(dir, user.uid, user.gid);
  chmodSync(dir, 0o700);
  const [icmd, iargs] = asUser(user, path.join(bin, 'initdb'), ['-D', data, '-U', 'fived', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  const init = spawnSync(icmd, iargs, { encoding: 'utf8', cwd: dir });
  if (init.status !== 0) throw new Error(`initdb failed (${init.status}): ${init.stderr || init.stdout}`);
  let child: Proc | null = null;
  const url = `postgres://fived@127.0.0.1:${port}/postgres`;

  const launch = async () => {
    const [cmd, args] = asUser(user, path.join(bin, 'postgres'), [
      '-D', data, '-k', dir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1',
      '-c', 'max_connections=60', '-c', 'shared_buffers=32MB', '-c', 'fsync=off', '-c', 'full_page_writes=off',
    ]);
    const p = startProcess(`postgres-${port}`, cmd, args, { cwd: dir });
    child = p;
    const exited = p.exited.then((e) => { throw new Error(`postgres exited early (${e.code}):\n${p.output().slice(-20_000)}`); });
    exited.catch(() => undefined);
    await Promise.race([waitForPort(port, '127.0.0.1', 30_000).then(() => waitReady(url)), exited]);
  };

  const killWith = async (signal: NodeJS.Signals) => { if (child?.alive()) await child.stop(60_000, signal); };

  await launch();
  return {
    port,
    url,
    dir,
    get pid() { return child?.pid ?? -1; },
    restart: async () => { await killWith('SIGQUIT'); await launch(); },
    stop: async () => { await killWith('SIGINT'); rmSync(dir, { recursive: true, force: true }); },
  };
}
