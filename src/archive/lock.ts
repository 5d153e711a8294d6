// The archiver's lock (docs/operations.md, "Watching it"): one archiver works at a time, the one
// whose PostgreSQL session holds a session advisory lock; the others stand by. The lock lives as
// long as its session, so the session is asked at every pass: one PostgreSQL ended (a restart)
// without an 'error' reaching the client would leave an archiver working without the lock, beside
// another. Every change of state is logged once.

import type pg from 'pg';
import { logTag, TAGS, type Logger } from '../runtime/log.js';
import type { Pool } from './db.js';

/** The session advisory lock key of the one working archiver. */
const ARCHIVER_LOCK = 5017002;

export class ArchiverLock {
  private client: pg.PoolClient | null = null;
  /** the lock was found held by another archiver (logged once per standby) */
  private standingBy = false;

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
    private readonly onActive: (active: boolean) => void,
  ) {}

  held(): boolean {
    return this.client !== null;
  }

  /** true while this process holds the lock (taken now when free); a failed query throws. */
  async hold(): Promise<boolean> {
    const held = this.client;
    if (held) {
      if (await held.query('SELECT 1').then(() => true, () => false)) return true;
      this.lost(held, 'its PostgreSQL session ended');
    }
    const c = await this.pool.connect();
    let ok = false;
    try {
      ok = (await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [ARCHIVER_LOCK])).rows[0]?.ok === true;
    } catch (err) {
      c.release(true); // a broken session goes, never back to the pool
      throw err;
    }
    if (!ok) {
      c.release();
      if (!this.standingBy) logTag(this.log, 'info', TAGS.ARCHIVE, {}, 'Archiver lock held by another instance: standing by');
      this.standingBy = true;
      return false;
    }
    c.on('error', () => this.lost(c, 'its PostgreSQL session failed'));
    this.client = c;
    this.standingBy = false;
    this.onActive(true);
    logTag(this.log, 'info', TAGS.ARCHIVE, {}, 'Archiver lock taken: this instance archives');
    return true;
  }

  /** Gives the lock up: its session is destroyed, not returned to the pool (the lock ends with it). */
  drop(): void {
    const c = this.client;
    if (!c) return;
    this.client = null;
    this.onActive(false);
    c.release(true);
  }

  /** The lock's session is gone: stop working until the lock is taken again (logged once per loss). */
  private lost(c: pg.PoolClient, why: string): void {
    if (this.client !== c) return;
    logTag(this.log, 'warn', TAGS.ARCHIVE, {}, `Archiver lock lost: ${why}; taking it again`);
    this.drop();
  }
}
