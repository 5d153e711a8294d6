// What the archive stores, and the batched inserts: one INSERT … SELECT FROM unnest($1::text[], …)
// per batch (one parameter per column, however many rows), ON CONFLICT DO NOTHING, so a batch
// written again after a crash adds nothing (exactly once by the rows' ids).
import type pg from 'pg';
import { roomName } from '../config.js';
import { commitmentOf } from '../core/draw.js';
import type { PeriodWindow } from '../core/types.js';
import type { BetRecord, PeriodRecord, ResultTracking } from '../store/types.js';
import { storedResultVerifies } from '../store/validate.js';

/** A ledger entry as the archive keeps it (the store's LedgerEntry, issue 14 item 2). */
export interface LedgerRow {
  entryId: string;
  userId: string;
  at: number;
  kind: string;
  amount: number;
  balance: number;
  ref: string;
}

/** An archived period, as the archive reader returns it. */
export interface ArchivedPeriod {
  duration: number;
  timeline: string;
  periodId: string;
  room: string;
  startsAt: number;
  freezeAt: number;
  endsAt: number;
  status: PeriodRecord['status'];
  commitment: string | null;
  seed: string | null;
  digits: number[] | null;
  sum: number | null;
  void: boolean;
  voidReason: string | null;
  settled: boolean;
  betCount: number;
  totalStake: number;
  totalPayout: number;
  tracking: ResultTracking | null;
  /**
   * The store's result did not verify against the period's commitment (5D_RESULT_MISMATCH): the
   * row's status column says `mismatch`, its digits and sum are null (digits the committed seed
   * does not draw are never archived as a result), its seed is the committed one or null.
   */
  resultMismatch: boolean;
}

/** The status column of a period whose stored result did not verify. */
export const MISMATCH_STATUS = 'mismatch';

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

const iso = (ms: number) => new Date(ms).toISOString();
/** The game day of a period id (its first 8 digits), as YYYY-MM-DD. */
export const dayOf = (periodId: string) => `${periodId.slice(0, 4)}-${periodId.slice(4, 6)}-${periodId.slice(6, 8)}`;

/** Whether the store's result of a period verifies against the commitment it holds (true without a result, or void). */
export function recordVerifies(rec: PeriodRecord): boolean {
  return rec.status === 'void' || rec.result === null || storedResultVerifies(rec.result, rec.commitment);
}

/** `seed` when SHA-256(seed) is the commitment, else null. */
function committedSeed(seed: string | null, commitment: string | null): string | null {
  try {
    return seed !== null && commitment !== null && commitmentOf(seed) === commitment.toLowerCase() ? seed : null;
  } catch {
    return null;
  }
}

/**
 * The period row from the store's record, its window, its seed (read after the end: a void
 * period's, or the committed one behind a result that does not verify) and its bets. A stored
 * result is checked against the commitment here (docs/design.md rules 1 and 2): one that does not
 * verify gives a `mismatch` row without digits (`verifies`: that check, when the caller made it).
 */
export function periodRow(w: PeriodWindow, rec: PeriodRecord, seed: string | null, bets: readonly BetRecord[], verifies = recordVerifies(rec)): ArchivedPeriod {
  const mismatch = !verifies;
  const r = rec.status === 'void' || mismatch ? null : rec.result;
  let stake = 0;
  let paid = 0;
  for (const b of bets) { stake += b.amount; paid += b.payout; }
  return {
    duration: w.duration, timeline: w.timeline, periodId: w.periodId, room: roomName(w.duration),
    startsAt: w.startsAt, freezeAt: w.freezeAt, endsAt: w.endsAt, status: rec.status,
    commitment: rec.commitment, seed: mismatch ? committedSeed(seed, rec.commitment) : rec.result?.seed ?? seed, digits: r ? [...r.digits] : null, sum: r ? r.sum : null,
    void: rec.status === 'void', voidReason: rec.status === 'void' ? rec.voidReason : null, settled: rec.settled,
    betCount: Math.max(rec.betCount, bets.length), totalStake: stake, totalPayout: paid, tracking: rec.result?.tracking ?? null,
    resultMismatch: mismatch,
  };
}

export async function insertPeriod(db: Queryable, p: ArchivedPeriod): Promise<number> {
  const r = await db.query(
    `INSERT INTO periods (timeline, duration, period_id, room, day, starts_at, freeze_at, ends_at, status, commitment, seed, digits, sum,
       void, void_reason, settled, bet_count, total_stake, total_payout, tracking)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20) ON CONFLICT DO NOTHING`,
    [p.timeline, p.duration, p.periodId, p.room, dayOf(p.periodId), iso(p.startsAt), iso(p.freezeAt), iso(p.endsAt), p.resultMismatch ? MISMATCH_STATUS : p.status, p.commitment,
      p.seed, p.digits, p.sum, p.void, p.voidReason, p.settled, p.betCount, p.totalStake, p.totalPayout, p.tracking === null ? null : JSON.stringify(p.tracking)],
  );
  return r.rowCount ?? 0;
}

/**
 * One multi-row insert of bets of ONE period; returns the rows actually added. The period's
 * columns go once as scalars, the rest as one array per column; times as epoch ms (exact).
 * First as a plain INSERT (half the work of PostgreSQL's speculative insertion); when a row of
 * the batch is already there (a period copied again after a crash: unique_violation, nothing of
 * the statement written), again with ON CONFLICT DO NOTHING: each bet is stored exactly once.
 */
export async function insertBets(db: Queryable, bets: readonly BetRecord[]): Promise<number> {
  try {
    return await insertBetsOnce(db, bets, '');
  } catch (err) {
    if ((err as { code?: string }).code !== '23505') throw err;
    return insertBetsOnce(db, bets, 'ON CONFLICT DO NOTHING');
  }
}

async function insertBetsOnce(db: Queryable, bets: readonly BetRecord[], onConflict: string): Promise<number> {
  const first = bets[0];
  if (!first) return 0;
  const n = bets.length;
  const seq = new Array<number>(n), user = new Array<string>(n), client = new Array<string>(n), kind = new Array<string>(n), pick = new Array<string>(n);
  const amount = new Array<number>(n), placed = new Array<number>(n), state = new Array<string>(n), payout = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const b = bets[i]!;
    if (b.periodId !== first.periodId || b.duration !== first.duration || b.timeline !== first.timeline) throw new Error('insertBets: bets of one period only');
    seq[i] = b.seq; user[i] = b.userId; client[i] = b.clientBetId; kind[i] = b.kind; pick[i] = String(b.pick);
    amount[i] = b.amount; placed[i] = b.placedAt; state[i] = b.state; payout[i] = b.payout;
  }
  const r = await db.query(
    `INSERT INTO bets (timeline, duration, period_id, day, seq, user_id, client_bet_id, kind, pick, amount, placed_at, state, payout)
     SELECT $1::text, $2::int, $3::text, $4::date, s, u, c, k, p, a, timestamptz 'epoch' + t * interval '1 millisecond', st, po
     FROM unnest($5::int[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[], $11::bigint[], $12::text[], $13::bigint[]) AS x(s, u, c, k, p, a, t, st, po)
     ${onConflict}`,
    [first.timeline, first.duration, first.periodId, dayOf(first.periodId), seq, user, client, kind, pick, amount, placed, state, payout],
  );
  return r.rowCount ?? 0;
}

export async function insertLedger(db: Queryable, rows: readonly LedgerRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const cols: unknown[][] = [[], [], [], [], [], [], []];
  for (const e of rows) {
    const v = [e.entryId, e.userId, iso(e.at), e.kind, e.amount, e.balance, e.ref];
    for (let i = 0; i < v.length; i++) cols[i]!.push(v[i]);
  }
  const r = await db.query(
    `INSERT INTO ledger (entry_id, user_id, at, kind, amount, balance, ref)
     SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::bigint[], $6::bigint[], $7::text[]) ON CONFLICT DO NOTHING`,
    cols,
  );
  return r.rowCount ?? 0;
}

export async function readCursor(db: Queryable, stream: string): Promise<string | null> {
  const r = await db.query<{ position: string }>('SELECT position FROM archive_cursor WHERE stream = $1', [stream]);
  return r.rows[0]?.position ?? null;
}

export async function writeCursor(db: Queryable, stream: string, position: string): Promise<void> {
  await db.query(
    `INSERT INTO archive_cursor (stream, position) VALUES ($1, $2)
     ON CONFLICT (stream) DO UPDATE SET position = EXCLUDED.position, updated_at = now()`,
    [stream, position],
  );
}
