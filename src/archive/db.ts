// The archive's PostgreSQL connections (pg) and its versioned migrations (migrations/NNN_name.sql,
// applied in order by `fived archive migrate`, each in its own transaction and recorded in
// schema_migrations, so running it again applies nothing). docs/operations.md, "The archive".
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ErrorCode, FivedError } from '../errors.js';

// bigint (int8) columns hold minor units and counts, all below 2^53: read them as numbers
pg.types.setTypeParser(20, (v: string) => Number(v));

export type Pool = pg.Pool;

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The migration files: dist/migrations beside the compiled code (the build copies them there, so
 *  dist/ alone is complete), else the repository's migrations/ (running from src/). */
export const MIGRATIONS_DIR = existsSync(path.join(HERE, '..', 'migrations')) ? path.join(HERE, '..', 'migrations') : path.resolve(HERE, '..', '..', 'migrations');

export function validArchiveUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

/**
 * A pool on FIVED_ARCHIVE_URL; connection errors of idle clients are reported, never thrown.
 * `asyncCommit` (the archiver): synchronous_commit off for its sessions. Safe for exactly-once: a
 * PostgreSQL crash may lose the last commits, but rows and cursor alike (one WAL, in order), so
 * the archiver copies them again from the cursor it then finds.
 */
export function openPool(url: string, max = 4, onError?: (err: Error) => void, asyncCommit = false): Pool {
  if (!validArchiveUrl(url)) throw new FivedError(ErrorCode.CONFIG_INVALID, 'FIVED_ARCHIVE_URL must be postgres://user[:password]@host[:port]/database');
  const pool = new pg.Pool({
    connectionString: url, max, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30_000, application_name: 'fived',
    ...(asyncCommit ? { options: '-c synchronous_commit=off' } : {}),
  });
  pool.on('error', (err) => onError?.(err));
  return pool;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

/**
 * THE mapping of a PostgreSQL (pg) error to a coded error naming FIVED_ARCHIVE_URL's host (never
 * its password): unreachable or dropped → E_STORE_UNAVAILABLE; a role or password refused →
 * E_STORE_AUTH; no such database, or no archive tables (before `fived archive migrate`) →
 * E_CONFIG_INVALID; any other → E_INTERNAL with PostgreSQL's message and SQLSTATE.
 */
export function archiveError(err: unknown, url: string): FivedError {
  if (err instanceof FivedError) return err;
  const e = (err ?? {}) as { code?: unknown; message?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(err);
  const code = typeof e.code === 'string' ? e.code : '';
  let host = 'its host';
  try { host = new URL(url).host || host; } catch { /* keep the placeholder */ }
  const at = `the archive at ${host} (FIVED_ARCHIVE_URL)`;
  if (UNREACHABLE.has(code) || /Connection terminated|timeout exceeded when trying to connect|connect ECONNREFUSED/i.test(message)) {
    return new FivedError(ErrorCode.STORE_UNAVAILABLE, `${at} cannot be reached or dropped the connection: ${message || code}`, { cause: code || message });
  }
  if (code === '28P01' || code === '28000') return new FivedError(ErrorCode.STORE_AUTH, `${at} refused the login: ${message}`, { sqlstate: code });
  if (code === '3D000') return new FivedError(ErrorCode.CONFIG_INVALID, `${at}: ${message}: FIVED_ARCHIVE_URL must name an existing database`, { sqlstate: code });
  if (code === '42P01') return new FivedError(ErrorCode.CONFIG_INVALID, `${at} has no archive tables (${message}): run \`fived archive migrate\` first`, { sqlstate: code });
  return new FivedError(ErrorCode.INTERNAL, `${at}: ${message}${/^[0-9A-Z]{5}$/.test(code) ? ` (SQLSTATE ${code})` : ''}`);
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The migration files, by version; E_CONFIG_INVALID on a malformed name or a version used twice. */
export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const out: Migration[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()) {
    const m = /^(\d{3,})_([a-z0-9_]+)\.sql$/.exec(file);
    if (!m) throw new FivedError(ErrorCode.CONFIG_INVALID, `migration file ${file}: expected NNN_name.sql`);
    const version = Number(m[1]);
    if (out.some((x) => x.version === version)) throw new FivedError(ErrorCode.CONFIG_INVALID, `migration version ${version} is used twice`);
    out.push({ version, name: m[2]!, sql: readFileSync(path.join(dir, file), 'utf8') });
  }
  return out;
}

/**
 * Applies the migrations not applied yet, in order, each with its schema_migrations row in one
 * transaction; an advisory lock keeps two concurrent runs from applying the same file twice.
 * Returns the versions applied now (empty when the schema is current).
 */
export async function migrate(pool: Pool, migrations = readMigrations()): Promise<number[]> {
  const c = await pool.connect();
  try {
    await c.query('SELECT pg_advisory_lock(5017001)');
    await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
    const done = new Set((await c.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await c.query('BEGIN');
      try {
        await c.query(m.sql);
        await c.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK');
        throw new FivedError(ErrorCode.INTERNAL, `migration ${m.version}_${m.name} failed: ${(err as Error).message}`);
      }
      applied.push(m.version);
    }
    return applied;
  } finally {
    await c.query('SELECT pg_advisory_unlock(5017001)').catch(() => undefined);
    c.release();
  }
}

/** The highest applied version (0 when none): the archiver refuses to run on an older schema. */
export async function schemaVersion(pool: Pool): Promise<number> {
  const t = await pool.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t");
  if (t.rows[0]?.t == null) return 0;
  const r = await pool.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
  return r.rows[0]?.v ?? 0;
}
