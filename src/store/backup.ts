// `fived backup DIR` (docs/operations.md, "Backup and restore"): a consistent snapshot of the Redis
// data and a manifest of what it holds. The counters, balances and generation are read in the same
// MULTI as the BGSAVE, so they describe exactly the forked snapshot. The RDB file lives on the
// Redis host: copied from CONFIG GET dir/dbfilename when that path is readable here (Redis on this
// host), otherwise fetched over the connection with `redis-cli --rdb` (a replication snapshot,
// taken a moment after the counters were read: the manifest says so).

import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { copyFile, mkdir, open, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { ErrorCode, FivedError } from '../errors.js';
import { infoField } from './connection.js';
import { Keys } from './keys.js';

export interface BackupManifest {
  format: 'fived-backup/1';
  createdAt: string;
  keyPrefix: string;
  snapshot: {
    method: 'bgsave-copy' | 'redis-cli-rdb';
    /** true when the counters below describe exactly the file (bgsave-copy) */
    exact: boolean;
    lastsave: number;
    redisVersion: string;
  };
  file: { name: string; bytes: number; sha256: string };
  /** the store's generation id (store:generation): a restore brings this one back */
  generation: string | null;
  counters: { deposits: number; withdrawals: number; payouts: number; refunds: number; stakes: number; ledgerSeq: number; schedulerEpoch: number };
  balances: { users: number; total: number };
  held: { users: number; total: number };
  /** periods with acknowledged bets not yet settled or refunded at the snapshot (voided with refunds if restored while still open) */
  unfinishedPeriods: Array<{ period: string; endsAt: number }>;
  keys: { total: number; byKind: Record<string, number>; note: string };
}

const num = (v: unknown): number => (v === null || v === undefined || v === '' ? 0 : Number(v));

function sumHash(h: Record<string, string>): { users: number; total: number } {
  let total = 0n;
  for (const v of Object.values(h)) total += BigInt(Math.trunc(Number(v)));
  return { users: Object.keys(h).length, total: Number(total) };
}

/** The kind of a key of this prefix: `period:meta`, `result`, `wallet:balances`, `user:periods`, … */
export function keyKind(key: string, prefix: string): string {
  const k = key.slice(prefix.length);
  const tagged = /^\{[^}]*\}:([a-z]+)/.exec(k);
  if (tagged) return `period:${tagged[1]}`;
  if (k.startsWith('precalc_5d_result:')) return 'result';
  if (/^user:.*:periods$/.test(k)) return 'user:periods';
  const m = /^([a-z_]+):([a-z]+)/.exec(k);
  return m ? `${m[1]}:${m[2]}` : 'other';
}

async function countKinds(r: Redis, prefix: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
    cursor = next;
    for (const k of keys) out[keyKind(k, prefix)] = (out[keyKind(k, prefix)] ?? 0) + 1;
  } while (cursor !== '0');
  return out;
}

/** MULTI … BGSAVE EXEC: the reads and the fork happen at one instant. Retries while another save runs. */
async function snapshotReads(r: Redis, keys: Keys, bgsave: boolean): Promise<unknown[]> {
  for (let attempt = 0; ; attempt++) {
    const m = r.multi().get(keys.generation).hgetall(keys.totals).get(keys.epoch).get(keys.ledgerSeq).hgetall(keys.balances).hgetall(keys.held)
      .zrange(keys.unfinished, 0, -1, 'WITHSCORES').dbsize();
    if (bgsave) m.bgsave();
    const res = (await m.exec()) ?? [];
    const err = res.find(([e]) => e)?.[0];
    if (!err) return res.map(([, v]) => v);
    if (!/in progress|already/i.test(String(err)) || attempt >= 50) throw new FivedError(ErrorCode.STORE_UNAVAILABLE, `BGSAVE failed: ${String(err)}`);
    await waitSaved(r, -1); // another save runs: wait for it, then take ours
  }
}

/** Waits until no background save runs and at least `after` RDB saves happened; the count of saves. */
async function waitSaved(r: Redis, after: number, timeoutMs = 600_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await r.info('persistence');
    // rdb_saves (Redis >= 7) counts snapshots; older servers: LASTSAVE (seconds) stands in
    const field = infoField(info, 'rdb_saves');
    const saves = field !== null ? num(field) : Number(await r.lastsave());
    if (infoField(info, 'rdb_bgsave_in_progress') === '0' && saves > after) {
      if (after >= 0 && infoField(info, 'rdb_last_bgsave_status') !== 'ok') throw new FivedError(ErrorCode.STORE_UNAVAILABLE, 'BGSAVE failed on the Redis host: see its log (disk full? permissions?)');
      return saves;
    }
    if (Date.now() > deadline) throw new FivedError(ErrorCode.TIMEOUT, 'BGSAVE did not finish in time');
    await new Promise((res) => setTimeout(res, 100));
  }
}

async function sha256Of(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Copies the RDB Redis just wrote, if it is readable on this host and no other save replaced it. */
async function copyLocal(r: Redis, saves: number, target: string): Promise<boolean> {
  let dir: string;
  let name: string;
  try {
    dir = ((await r.config('GET', 'dir')) as string[])[1] ?? '';
    name = ((await r.config('GET', 'dbfilename')) as string[])[1] ?? '';
  } catch {
    return false; // CONFIG disabled for this user (an ACL without +config): fetch over the connection
  }
  const source = path.join(dir, name);
  if (dir === '' || !existsSync(source)) return false;
  // open first (Redis replaces the file by rename: the open file stays this snapshot), then check
  // that no other save happened since ours
  const fd = await open(source, 'r');
  try {
    const info = await r.info('persistence');
    const field = infoField(info, 'rdb_saves');
    if ((field !== null ? num(field) : Number(await r.lastsave())) !== saves) return false;
    await copyFile(`/proc/self/fd/${fd.fd}`, target);
  } finally {
    await fd.close();
  }
  return true;
}

/** `redis-cli --rdb FILE` against the same server (credentials through the environment, not argv). */
function fetchRdb(redisUrl: string, target: string): Promise<void> {
  if (redisUrl === '') return Promise.reject(new FivedError(ErrorCode.CONFIG_INVALID, 'the RDB file is not readable here and FIVED_REDIS_URL is unset (Sentinel mode): run `fived backup` on the primary\'s host, or with FIVED_REDIS_URL naming the primary'));
  const u = new URL(redisUrl);
  const args = ['-h', u.hostname.replace(/^\[|\]$/g, ''), '-p', u.port || '6379', ...(u.protocol === 'rediss:' ? ['--tls'] : []), ...(u.username ? ['--user', decodeURIComponent(u.username)] : []), '--rdb', target];
  const env = { ...process.env, ...(u.password ? { REDISCLI_AUTH: decodeURIComponent(u.password) } : {}) };
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => reject(new FivedError(ErrorCode.STORE_UNAVAILABLE, `redis-cli is needed to fetch the RDB from a remote Redis: ${e.message}`)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new FivedError(ErrorCode.STORE_UNAVAILABLE, `redis-cli --rdb failed (${code}): ${err.trim()}`))));
  });
}

export interface BackupOptions {
  redisUrl: string;
  keyPrefix: string;
  /** fetch over the connection even when the file is readable here */
  remote?: boolean;
  now?: () => Date;
}

const errCode = (e: unknown): string => String((e as { code?: unknown }).code ?? '');

/**
 * Makes `dir` and its missing parents and checks a file can be created in it, before any snapshot
 * is taken: a bad DIR is one clear error that changed nothing, not a failure after the BGSAVE.
 * Parent by parent, not fs.mkdir's recursive mode, which never returns for some paths under /proc.
 */
export async function prepareBackupDir(dir: string): Promise<void> {
  const bad = (why: string) => new FivedError(ErrorCode.BAD_REQUEST, `cannot write backups to ${dir}: ${why}`);
  const missing: string[] = [];
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    try {
      if (!(await stat(d)).isDirectory()) throw bad(`${d} is not a directory`);
      break;
    } catch (e) {
      if (e instanceof FivedError) throw e;
      if (!['ENOENT', 'ENOTDIR'].includes(errCode(e)) || path.dirname(d) === d) throw bad((e as Error).message);
      missing.unshift(d);
    }
  }
  for (const d of missing) {
    await mkdir(d).catch((e: unknown) => {
      if (errCode(e) !== 'EEXIST') throw bad((e as Error).message);
    });
  }
  const probe = path.join(dir, `.fived-backup-probe-${process.pid}`);
  try {
    await (await open(probe, 'wx')).close();
    await unlink(probe);
  } catch (e) {
    throw bad((e as Error).message);
  }
}

/** Takes the snapshot into `dir`: `fived-<time>.rdb` and `fived-<time>.json` (the manifest). */
export async function takeBackup(r: Redis, dir: string, o: BackupOptions): Promise<{ rdb: string; manifestFile: string; manifest: BackupManifest }> {
  await prepareBackupDir(dir);
  const created = (o.now ?? (() => new Date()))();
  const stamp = created.toISOString().replace(/[:.]/g, '-');
  const rdb = path.join(dir, `fived-${stamp}.rdb`);
  const part = `${rdb}.part`;
  const keys = new Keys(o.keyPrefix);
  const savesBefore = await waitSaved(r, -1);
  const [generation, totals, epoch, ledgerSeq, balances, held, unfinished, dbsize] = (await snapshotReads(r, keys, !o.remote)) as [string | null, Record<string, string>, string | null, string | null, Record<string, string>, Record<string, string>, string[], number];
  let method: BackupManifest['snapshot']['method'] = 'bgsave-copy';
  let copied = false;
  if (!o.remote) {
    const saves = await waitSaved(r, savesBefore);
    copied = await copyLocal(r, saves, part);
  }
  if (!copied) {
    method = 'redis-cli-rdb';
    await fetchRdb(o.redisUrl, part);
  }
  const info = await r.info('server');
  const [bytes, sha256] = [(await stat(part)).size, await sha256Of(part)];
  await rename(part, rdb);
  const pairs: Array<{ period: string; endsAt: number }> = [];
  for (let i = 0; i + 1 < unfinished.length; i += 2) pairs.push({ period: unfinished[i]!, endsAt: Number(unfinished[i + 1]) });
  const manifest: BackupManifest = {
    format: 'fived-backup/1',
    createdAt: created.toISOString(),
    keyPrefix: o.keyPrefix,
    snapshot: { method, exact: method === 'bgsave-copy', lastsave: Number(await r.lastsave()), redisVersion: infoField(info, 'redis_version') ?? '' },
    file: { name: path.basename(rdb), bytes, sha256 },
    generation,
    counters: {
      deposits: num(totals.deposits), withdrawals: num(totals.withdrawals), payouts: num(totals.payouts), refunds: num(totals.refunds), stakes: num(totals.stakes),
      ledgerSeq: num(ledgerSeq), schedulerEpoch: num(epoch),
    },
    balances: sumHash(balances),
    held: sumHash(held),
    unfinishedPeriods: pairs,
    keys: { total: dbsize, byKind: await countKinds(r, o.keyPrefix), note: 'total: DBSIZE at the snapshot (every prefix); byKind: keys of this prefix counted just after it' },
  };
  const manifestFile = rdb.replace(/\.rdb$/, '.json');
  await writeFile(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  return { rdb, manifestFile, manifest };
}
