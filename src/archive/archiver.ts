// The archiver (`fived archiver`, issue 14): copies every ended period, every bet with its outcome
// and every ledger entry from the store into PostgreSQL, exactly once and resumable.
//
// - Only periods that have ended by the store's clock (Redis TIME) and are settled or void are
//   read: nothing of a result is archived before its period's end (docs/design.md rule 4).
// - Rows are keyed by their ids and inserted with ON CONFLICT DO NOTHING; the cursor of each stream
//   (per room: the last period archived; the ledger: the last entry id) is written in the same
//   transaction as the period row or ledger batch it covers. A crash of either side (archiver,
//   PostgreSQL, Redis) resumes at the cursor; rows written again are no-ops.
// - One archiver works at a time: it holds a PostgreSQL session advisory lock (lock.ts); others stand by
//   (the lock is freed with the session when an archiver dies).
import { toFivedError } from '../errors.js';
import type { PeriodWindow } from '../core/types.js';
import { logTag, TAGS, type Logger } from '../runtime/log.js';
import { counter, gauge, type Registry } from '../runtime/metrics.js';
import { nextWindow, windowAt, windowOf, type Room } from '../runtime/rooms.js';
import type { BetRecord, PeriodRecord, Store } from '../store/types.js';
import { entryIdOf } from '../core/ledger.js';
import type { Pool } from './db.js';
import { ledgerOfRow } from './reader.js';
import { drawDigits, drawMessage } from '../core/draw.js';
import { insertBets, insertLedger, insertPeriod, periodRow, readCursor, recordVerifies, writeCursor, type ArchivedPeriod, type LedgerRow } from './rows.js';
import { ArchiverLock } from './lock.js';

/** how many entry numbers below the store's sequence are compared with the archive after a restore */
const REUSE_SCAN = 10_000;
/** periods archived per room per pass at most (the next pass continues) */
const PERIODS_PER_PASS = 500;

/** The store reads the archiver uses; ledgerFeed when the store keeps a ledger. */
export type ArchiveSource = Pick<Store, 'serverTime' | 'getPeriod' | 'periodBets' | 'periodPayouts' | 'getSeed' | 'history'> & {
  ledgerFeed?(after: string | null, limit: number): Promise<LedgerRow[]>;
  ledgerFloor?(floor: string): Promise<{ before: string; raised: boolean }>;
};

export interface ArchiverOptions {
  /** rows per insert (bets, ledger entries) */
  batchRows: number;
  /** pause between passes when caught up (ms) */
  pollMs: number;
  /** lag (s) beyond which the alert line is logged */
  alertLagS: number;
  /** a period without bets still unfinished this long after its end is archived as it is (ms) */
  staleMs: number;
  /** where a room with no cursor starts: this long before now (ms; Redis keeps periods 2 days) */
  startBackMs: number;
}

export interface PassResult {
  periods: number;
  bets: number;
  ledger: number;
  /** how long (s) before this pass the oldest item it archived (or waits for) ended or was written: 0 when nothing was due */
  lagS: number;
  /** more is ready right now (a pass stopped at its limit) */
  more: boolean;
}

export class Archiver {
  private readonly m;
  private readonly lock: ArchiverLock;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private nudged = false;
  private alerting = false;
  /** bets of frozen periods read before their end (no bet can join after the freeze), by period */
  private readonly early = new Map<string, Promise<BetRecord[] | null>>();
  private lastAlertAt = 0;
  lagS = 0;

  constructor(
    private readonly pool: Pool,
    private readonly store: ArchiveSource,
    private readonly rooms: readonly Room[],
    private readonly log: Logger,
    registry: Registry,
    private readonly o: ArchiverOptions,
  ) {
    this.m = {
      lag: gauge(registry, 'fived_archive_lag_seconds', 'at the last archive pass: age of the oldest ended period or ledger entry it had to copy (0: nothing was due)'),
      rows: counter(registry, 'fived_archive_rows_total', 'rows written to the archive', ['table']),
      errors: counter(registry, 'fived_archive_errors_total', 'archive passes that failed (retried)'),
      active: gauge(registry, 'fived_archive_active', '1 while this archiver holds the lock and works, 0 on standby'),
      busy: counter(registry, 'fived_archive_busy_seconds_total', 'time spent in archive passes that copied something (rows_total / this = rows per second of work)'),
      mismatch: counter(registry, 'fived_archive_result_mismatch_total', 'periods whose stored result did not verify against the commitment (5D_RESULT_MISMATCH): archived with status mismatch, no digits'),
    };
    this.lock = new ArchiverLock(pool, log, (active) => this.m.active.set(active ? 1 : 0));
  }

  isActive(): boolean {
    return this.lock.held();
  }

  /** One pass over every room, then the ledger. */
  async pass(): Promise<PassResult> {
    const now = await this.store.serverTime();
    const out: PassResult = { periods: 0, bets: 0, ledger: 0, lagS: 0, more: false };
    for (const room of this.rooms) {
      this.readEarly(room, now);
      const r = await this.archiveRoom(room, now);
      out.periods += r.periods;
      out.bets += r.bets;
      out.more ||= r.more;
      out.lagS = Math.max(out.lagS, r.lagMs / 1000);
    }
    if (this.store.ledgerFeed) {
      const l = await this.archiveLedger(now);
      out.ledger = l.rows;
      out.more ||= l.more;
      out.lagS = Math.max(out.lagS, l.lagMs / 1000);
    }
    this.setLag(out.lagS);
    return out;
  }

  /**
   * The ended periods of one room after its cursor, in order, until one is not finished yet.
   * lagMs: how long ago the oldest period this pass archived or waits for ended (0: nothing due).
   */
  private async archiveRoom(room: Room, now: number): Promise<{ periods: number; bets: number; lagMs: number; more: boolean }> {
    const stream = `period:${room.timeline}:${room.duration}`;
    const pos = await readCursor(this.pool, stream);
    let w = pos ? nextWindow(room, windowOf(room, pos)) : await this.firstWindow(room, now);
    let periods = 0;
    let bets = 0;
    let lagMs = 0;
    let skipped: string | null = null;
    for (let n = 0; w.endsAt <= now; n++) {
      if (n >= PERIODS_PER_PASS) {
        if (skipped !== null) await writeCursor(this.pool, stream, skipped);
        return { periods, bets, lagMs, more: true };
      }
      const rec = await this.store.getPeriod(w);
      if (rec.status === 'unknown' && rec.commitment === null && rec.result === null) {
        skipped = w.periodId; // never committed (nothing ran then) or long expired: nothing to keep
        w = nextWindow(room, w);
        continue;
      }
      if (lagMs === 0) lagMs = now - w.endsAt;
      const finished = rec.status === 'void' || rec.settled;
      if (!finished && !(rec.betCount === 0 && now - w.endsAt >= this.o.staleMs)) break; // the reconciler finishes it first
      bets += await this.archivePeriod(stream, w, rec);
      skipped = null;
      periods += 1;
      w = nextWindow(room, w);
    }
    if (skipped !== null) await writeCursor(this.pool, stream, skipped);
    return { periods, bets, lagMs, more: false };
  }

  /** Where a room without a cursor starts: its oldest revealed result still in the store's history
   *  (the store keeps about 2 days), at most startBackMs back; 10 minutes back when none was revealed yet. */
  private async firstWindow(room: Room, now: number): Promise<PeriodWindow> {
    const floor = windowAt(room, now - this.o.startBackMs);
    const [oldest] = await this.store.history(room.duration, room.timeline, { afterPeriodId: '20000101000000001', limit: 1 });
    if (!oldest) return windowAt(room, now - Math.min(this.o.startBackMs, 10 * 60_000));
    const w = windowOf(room, oldest.periodId);
    return w.startsAt > floor.startsAt ? w : floor;
  }

  /**
   * Once a room's current period is frozen (by the store's clock: no bet can join any more), its
   * bets are read ahead, outcomes still pending: after the end only the payouts remain to read.
   */
  private readEarly(room: Room, now: number): void {
    const w = windowAt(room, now);
    const key = `${room.timeline}:${room.duration}:${w.periodId}`;
    if (now < w.freezeAt || this.early.has(key)) return;
    this.early.set(key, this.store.periodBets(w).catch(() => null));
    // a few per room at most (oldest first): a period never archived here (another archiver did) is dropped
    while (this.early.size > this.rooms.length * 3) this.early.delete(this.early.keys().next().value!);
  }

  /** The period's bets with their outcomes: the early read completed with the payouts, or read now. */
  private async betsOf(w: PeriodWindow, rec: PeriodRecord): Promise<BetRecord[]> {
    const key = `${w.timeline}:${w.duration}:${w.periodId}`;
    const early = await this.early.get(key);
    this.early.delete(key);
    if (!early || early.length !== rec.betCount || rec.status === 'void' || !rec.settled) return this.store.periodBets(w);
    const pay = await this.store.periodPayouts(w);
    if (!pay || pay.length !== early.length) return this.store.periodBets(w);
    for (const b of early) {
      b.payout = pay[b.seq] ?? 0;
      b.state = b.payout > 0 ? 'won' : 'lost';
    }
    return early;
  }

  /** The bets in batches, then the period row and the cursor in one transaction. Returns the bets added. */
  private async archivePeriod(stream: string, w: PeriodWindow, rec: PeriodRecord): Promise<number> {
    const bets: BetRecord[] = rec.betCount > 0 || rec.status === 'void' ? await this.betsOf(w, rec) : [];
    // the result carries the seed; a void period's seed, or the committed one behind a stored result
    // that does not verify, is read here, after its end (rule 4)
    const verifies = recordVerifies(rec);
    const seed = rec.result && verifies ? null : await this.store.getSeed(w).catch(() => null);
    // batches on three connections at once: PostgreSQL works on two while the next is encoded and sent
    let added = 0;
    const batches: BetRecord[][] = [];
    for (let i = 0; i < bets.length; i += this.o.batchRows) batches.push(bets.slice(i, i + this.o.batchRows));
    const lanes = Array.from({ length: Math.min(3, batches.length) }, async () => {
      for (let b = batches.shift(); b; b = batches.shift()) {
        const n = await insertBets(this.pool, b);
        added += n;
      }
    });
    await Promise.all(lanes);
    const c = await this.pool.connect();
    try {
      const row = periodRow(w, rec, seed, bets, verifies);
      await c.query('BEGIN');
      const p = await insertPeriod(c, row);
      await writeCursor(c, stream, w.periodId);
      await c.query('COMMIT');
      this.m.rows.inc({ table: 'periods' }, p);
      if (row.resultMismatch && p > 0) this.reportMismatch(row, rec);
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
    this.m.rows.inc({ table: 'bets' }, added);
    return added;
  }

  /**
   * A period whose stored result does not verify against its commitment was archived as
   * `mismatch` (no digits): logged as the gateways log it, with what an operator needs, and counted.
   */
  private reportMismatch(row: ArchivedPeriod, rec: PeriodRecord): void {
    this.m.mismatch.inc();
    const drawn = row.seed === null ? null : drawDigits(row.seed, drawMessage(row)).digits;
    logTag(this.log, 'error', TAGS.RESULT_MISMATCH, {
      alert: true, room: row.room, periodId: row.periodId, status: rec.status, settled: rec.settled,
      storedDigits: rec.result?.digits ?? null, committedSeedDraws: drawn,
    }, `stored result of ${row.room} period ${row.periodId} does not verify against its commitment: archived with status mismatch and no digits; operator action needed (docs/operations.md §16)`);
  }

  /** Ledger entries after the cursor, a batch per transaction (with the cursor). lagMs: age of the oldest entry read. */
  private async archiveLedger(now: number): Promise<{ rows: number; lagMs: number; more: boolean }> {
    const feed = this.store.ledgerFeed!.bind(this.store);
    let pos = await readCursor(this.pool, 'ledger');
    if (pos !== null) await this.keepNumberingAbove(pos);
    let rows = 0;
    let lagMs = 0;
    for (let n = 0; n < 50; n++) {
      const batch = await feed(pos, this.o.batchRows);
      if (batch.length === 0) return { rows, lagMs, more: false };
      if (n === 0) lagMs = Math.max(0, now - batch[0]!.at);
      const c = await this.pool.connect();
      try {
        await c.query('BEGIN');
        await insertLedger(c, batch);
        pos = batch[batch.length - 1]!.entryId;
        await writeCursor(c, 'ledger', pos);
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        c.release();
      }
      rows += batch.length;
      this.m.rows.inc({ table: 'ledger' }, batch.length);
      if (batch.length < this.o.batchRows) return { rows, lagMs, more: false };
    }
    return { rows, lagMs, more: true };
  }

  /**
   * The store's ledger numbering must stay above the archive's cursor: after Redis is restored from
   * an older backup it restarts below it, and new entries would reuse numbers the archive holds
   * (and be skipped, as the archiver resumes after its cursor). Raised here, on every pass; the
   * entries written in between are reported (they reuse numbers and are not archived).
   */
  private async keepNumberingAbove(cursor: string): Promise<void> {
    if (!this.store.ledgerFloor) return;
    const { before, raised } = await this.store.ledgerFloor(cursor);
    if (!raised) return;
    const reused = await this.reusedEntries(before);
    logTag(this.log, 'error', TAGS.ARCHIVE, { alert: true, storeSeq: before, cursor, reused: reused.length, reusedIds: reused.slice(0, 20).map((e) => e.entryId) },
      `The store's ledger numbering (${before}) was below the archive's cursor (${cursor}): Redis was restored from an older backup or lost data. ` +
      `Raised it, so new entries are archived; ${reused.length} entries written since then reuse numbers the archive holds and are not in it (docs/operations.md §14).`);
  }

  /**
   * The entries the store numbered `last` and below that differ from the archive's entries of the
   * same numbers: those written after the restore (the restored ones are the archive's own). Read
   * in the last REUSE_SCAN numbers, newest included.
   */
  private async reusedEntries(last: string): Promise<LedgerRow[]> {
    const from = Math.max(0, Number(last) - REUSE_SCAN);
    const feed = (await this.store.ledgerFeed!(entryIdOf(from), REUSE_SCAN)).filter((e) => e.entryId <= last);
    if (feed.length === 0) return [];
    const r = await this.pool.query('SELECT * FROM ledger WHERE entry_id > $1 AND entry_id <= $2', [entryIdOf(from), last]);
    const archived = new Map(r.rows.map((x) => { const row = ledgerOfRow(x as Parameters<typeof ledgerOfRow>[0]); return [row.entryId, row]; }));
    const same = (a: LedgerRow, b: LedgerRow | undefined) =>
      b !== undefined && a.userId === b.userId && a.kind === b.kind && a.amount === b.amount && a.balance === b.balance && a.ref === b.ref && a.at === b.at;
    return feed.filter((e) => !same(e, archived.get(e.entryId)));
  }

  private setLag(lagS: number): void {
    this.lagS = lagS;
    this.m.lag.set(lagS);
    const now = Date.now();
    if (lagS > this.o.alertLagS) {
      if (!this.alerting || now - this.lastAlertAt >= 60_000) {
        logTag(this.log, 'error', TAGS.ARCHIVE, { lagS: Math.round(lagS), limitS: this.o.alertLagS, alert: true }, `Archive falling behind: the oldest ended record not yet in PostgreSQL is ${Math.round(lagS)} s old (alert above ${this.o.alertLagS} s)`);
        this.lastAlertAt = now;
      }
      this.alerting = true;
    } else if (this.alerting) {
      this.alerting = false;
      logTag(this.log, 'info', TAGS.ARCHIVE, { lagS }, 'Archive caught up');
    }
  }

  /** Runs until stop(): takes the lock (or waits for it), then passes back to back while there is work. */
  start(): void {
    this.loop ??= this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let more = false;
      try {
        if (!(await this.lock.hold())) { await this.sleep(this.o.pollMs * 2); continue; }
        const t0 = performance.now();
        const r = await this.pass();
        if (r.periods + r.ledger > 0) this.m.busy.inc((performance.now() - t0) / 1000);
        more = r.more;
      } catch (err) {
        this.m.errors.inc();
        logTag(this.log, 'warn', TAGS.ARCHIVE, { err: toFivedError(err) }, 'Archive pass failed; retrying');
        this.lock.drop();
      }
      if (!more) await this.sleep(this.o.pollMs);
    }
  }

  /** A period was settled or voided (the bus): pass now instead of at the next poll. */
  nudge(): void {
    this.nudged = true;
    this.wake?.();
  }

  private sleep(ms: number): Promise<void> {
    if (this.nudged) { this.nudged = false; return Promise.resolve(); }
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.wake = null; resolve(); }, ms);
      this.wake = () => { clearTimeout(t); this.wake = null; this.nudged = false; resolve(); };
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    this.lock.drop();
  }
}
