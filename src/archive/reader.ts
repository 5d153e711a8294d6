// Reads of the archive: what the gateway serves once Redis no longer has it (the per-period
// lookup, the history, my_bets, the ledger) and what `fived export` writes. Every read is keyed
// (room and period id, user, entry id) and paged by an index: no scan of a table.
import type { BetKind, BetPick } from '../core/types.js';
import type { BetRecord, BetOutcomeState } from '../store/types.js';
import type { Pool } from './db.js';
import { MISMATCH_STATUS, type ArchivedPeriod, type LedgerRow } from './rows.js';

type Row = Record<string, unknown>;
const ms = (v: unknown) => (v instanceof Date ? v.getTime() : Number(v));

/** A row; a `mismatch` row reads as the store's settled (or resulted) period without a result. */
export function periodOfRow(r: Row): ArchivedPeriod {
  const mismatch = r.status === MISMATCH_STATUS;
  return {
    duration: Number(r.duration), timeline: String(r.timeline), periodId: String(r.period_id), room: String(r.room),
    startsAt: ms(r.starts_at), freezeAt: ms(r.freeze_at), endsAt: ms(r.ends_at), status: mismatch ? (r.settled ? 'settled' : 'resulted') : (r.status as ArchivedPeriod['status']),
    commitment: (r.commitment as string | null) ?? null, seed: (r.seed as string | null) ?? null,
    digits: (r.digits as number[] | null) ?? null, sum: r.sum === null ? null : Number(r.sum),
    void: Boolean(r.void), voidReason: (r.void_reason as string | null) ?? null, settled: Boolean(r.settled),
    betCount: Number(r.bet_count), totalStake: Number(r.total_stake), totalPayout: Number(r.total_payout),
    tracking: (r.tracking as ArchivedPeriod['tracking']) ?? null,
    resultMismatch: mismatch,
  };
}

export function betOfRow(r: Row): BetRecord {
  const pick = String(r.pick);
  return {
    betId: `${String(r.period_id)}:${Number(r.seq)}`, clientBetId: String(r.client_bet_id), userId: String(r.user_id),
    duration: Number(r.duration), timeline: String(r.timeline), periodId: String(r.period_id), seq: Number(r.seq),
    kind: r.kind as BetKind, pick: (/^\d$/.test(pick) ? Number(pick) : pick) as BetPick, amount: Number(r.amount),
    placedAt: ms(r.placed_at), state: r.state as BetOutcomeState, payout: Number(r.payout),
  };
}

export function ledgerOfRow(r: Row): LedgerRow {
  return {
    entryId: String(r.entry_id), userId: String(r.user_id), at: ms(r.at), kind: String(r.kind),
    amount: Number(r.amount), balance: Number(r.balance), ref: String(r.ref),
  };
}

/** The gateway's reads of the archive (FIVED_ARCHIVE_URL set). */
export class ArchiveReader {
  constructor(private readonly pool: Pool) {}

  async period(timeline: string, duration: number, periodId: string): Promise<ArchivedPeriod | null> {
    const r = await this.pool.query('SELECT * FROM periods WHERE timeline = $1 AND duration = $2 AND period_id = $3', [timeline, duration, periodId]);
    return r.rows[0] ? periodOfRow(r.rows[0] as Row) : null;
  }

  /** The room's archived periods before `beforePeriodId` (all when null), newest first. */
  async history(timeline: string, duration: number, beforePeriodId: string | null, limit: number): Promise<ArchivedPeriod[]> {
    const r = await this.pool.query(
      `SELECT * FROM periods WHERE timeline = $1 AND duration = $2 AND ($3::text IS NULL OR period_id < $3)
       ORDER BY period_id DESC LIMIT $4`,
      [timeline, duration, beforePeriodId, limit],
    );
    return r.rows.map((x) => periodOfRow(x as Row));
  }

  /** A user's archived bets, newest first (of one period when given). */
  async userBets(userId: string, limit: number, period?: { timeline: string; duration: number; periodId: string }): Promise<BetRecord[]> {
    const r = period
      ? await this.pool.query('SELECT * FROM bets WHERE timeline = $1 AND duration = $2 AND period_id = $3 AND user_id = $4 ORDER BY seq DESC LIMIT $5', [period.timeline, period.duration, period.periodId, userId, limit])
      : await this.pool.query('SELECT * FROM bets WHERE user_id = $1 ORDER BY placed_at DESC, seq DESC LIMIT $2', [userId, limit]);
    return r.rows.map((x) => betOfRow(x as Row));
  }

  /** A user's archived ledger entries before `before` (entry id; all when null), newest first. */
  async ledger(userId: string, before: string | null, limit: number): Promise<LedgerRow[]> {
    const r = await this.pool.query(
      'SELECT * FROM ledger WHERE user_id = $1 AND ($2::text IS NULL OR entry_id < $2) ORDER BY entry_id DESC LIMIT $3',
      [userId, before, limit],
    );
    return r.rows.map((x) => ledgerOfRow(x as Row));
  }
}
