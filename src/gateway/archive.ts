// The gateway's reads of the archive in PostgreSQL (issue 14; FIVED_ARCHIVE_URL): what Redis no
// longer has — a period record expired (PERIOD_TTL_S), a history entry trimmed (HISTORY_MAXLEN),
// bets of periods gone — is read from the archive, transparently. Only ended, finished periods
// are ever archived (docs/design.md rule 4), and every view still goes through periodView's gate.
// A failing archive read is logged and treated as "not there": Redis answers stay served.
import type { Digits, PeriodRef } from '../core/types.js';
import type { Room } from '../runtime/rooms.js';
import type { ArchivedPeriod, LedgerRow } from '../archive/rows.js';
import type { LedgerEntry } from '../core/ledger.js';
import { ArchiveReader } from '../archive/reader.js';
import { openPool, type Pool } from '../archive/db.js';
import type { BetRecord, PeriodRecord } from '../store/types.js';
import type { GatewayContext } from './context.js';
import type { Logger } from '../runtime/log.js';

/** The reader on FIVED_ARCHIVE_URL, or null without one (nothing changes then). */
export function openArchive(url: string, logger: Logger): { reader: ArchiveReader; pool: Pool } | null {
  if (url === '') return null;
  const pool = openPool(url, 4, (err) => logger.warn({ err: err.message }, 'archive connection error'));
  return { reader: new ArchiveReader(pool), pool };
}

async function guarded<T>(ctx: GatewayContext, what: string, fn: (a: ArchiveReader) => Promise<T>, none: T): Promise<T> {
  if (!ctx.archive) return none;
  try {
    return await fn(ctx.archive);
  } catch (err) {
    ctx.metrics.errors.inc({ where: 'archive' });
    ctx.logger.warn({ err: (err as Error).message, what }, 'archive read failed: answered from Redis alone');
    return none;
  }
}

/** An archived period as the store's record (the result with its tracking, unless void). */
export function recordOfArchived(a: ArchivedPeriod): PeriodRecord {
  const resulted = !a.void && a.digits !== null && a.seed !== null && a.commitment !== null;
  return {
    duration: a.duration, timeline: a.timeline, periodId: a.periodId, status: a.status, commitment: a.commitment,
    result: resulted
      ? { duration: a.duration, timeline: a.timeline, periodId: a.periodId, digits: a.digits as Digits, sum: a.sum ?? 0, seed: a.seed!, commitment: a.commitment!, tracking: a.tracking! }
      : null,
    voidReason: a.voidReason, betCount: a.betCount, settled: a.settled,
  };
}

export function archivedPeriod(ctx: GatewayContext, room: Room, periodId: string): Promise<PeriodRecord | null> {
  return guarded(ctx, 'period', async (a) => {
    const p = await a.period(room.timeline, room.duration, periodId);
    return p ? recordOfArchived(p) : null;
  }, null);
}

/** Archived periods of the room older than `before` (all when null), newest first. */
export function archivedHistory(ctx: GatewayContext, room: Room, before: string | null, limit: number): Promise<PeriodRecord[]> {
  return guarded(ctx, 'history', async (a) => (await a.history(room.timeline, room.duration, before, limit)).map(recordOfArchived), []);
}

/** A user's bets from Redis completed with archived ones (deduplicated), newest first, at most `limit`. */
export async function userBetsWithArchive(ctx: GatewayContext, userId: string, ref: PeriodRef | undefined, limit: number): Promise<BetRecord[]> {
  const hot = await ctx.store.userBets(userId, ref, limit);
  if (!ctx.archive || hot.length >= limit) return hot;
  const cold = await guarded(ctx, 'my_bets', (a) => a.userBets(userId, limit, ref), [] as BetRecord[]);
  const key = (b: BetRecord) => `${b.duration}:${b.timeline}:${b.betId}`;
  const seen = new Set(hot.map(key));
  const merged = [...hot, ...cold.filter((b) => !seen.has(key(b)))];
  return merged.sort((x, y) => y.placedAt - x.placedAt || y.seq - x.seq).slice(0, limit);
}

/** A user's ledger page from Redis, completed with archived entries once Redis has no older ones. */
export async function ledgerWithArchive(ctx: GatewayContext, userId: string, before: string | null, limit: number): Promise<{ entries: LedgerEntry[]; next: string | null }> {
  const hot = await ctx.store.ledgerPage(userId, before, limit);
  if (!ctx.archive || hot.next !== null) return hot;
  const room = limit - hot.entries.length;
  const from = hot.entries.length > 0 ? hot.entries[hot.entries.length - 1]!.entryId : before;
  // one more than needed: whether a following page exists
  const cold = await guarded(ctx, 'ledger', (a) => a.ledger(userId, from, room + 1), [] as LedgerRow[]);
  const entries = [...hot.entries, ...(cold.slice(0, room) as LedgerEntry[])];
  return { entries, next: cold.length > room && entries.length > 0 ? entries[entries.length - 1]!.entryId : null };
}
