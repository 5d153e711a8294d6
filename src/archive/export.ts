// `fived export`: periods, bets or ledger entries of a span of days from the archive, as CSV or
// JSON lines, streamed page by page (keyset paging on the primary key: constant memory).
import type { Writable } from 'node:stream';
import { archiveError, type Pool } from './db.js';

export type Dataset = 'periods' | 'bets' | 'ledger';
export type Format = 'csv' | 'jsonl';

export interface ExportQuery {
  what: Dataset;
  from: string; // YYYY-MM-DD (game day of the period id; UTC day of a ledger entry)
  to: string; // inclusive
  duration?: number; // one room
  format: Format;
}

/** Columns of each dataset, in output order (snake_case, as in the tables). */
export const COLUMNS: Record<Dataset, readonly string[]> = {
  periods: ['room', 'period_id', 'day', 'starts_at', 'freeze_at', 'ends_at', 'status', 'commitment', 'seed', 'digits', 'sum', 'void', 'void_reason', 'settled', 'bet_count', 'total_stake', 'total_payout', 'tracking'],
  bets: ['room', 'period_id', 'bet_id', 'seq', 'day', 'user_id', 'client_bet_id', 'kind', 'pick', 'amount', 'placed_at', 'state', 'payout'],
  ledger: ['entry_id', 'user_id', 'at', 'kind', 'amount', 'balance', 'ref'],
};

const PAGE = 5000;

/**
 * The bounds of a span of days as $1 and $2. Periods and bets: by period id, whose first 8 digits
 * are the game day — from the first id of `from` to the last possible id of `to`, as text of the
 * same 17 digits (a day after 9999-12-31 computed in SQL has 9 digits and compared as text before
 * every id: no row). Ledger entries: the days themselves.
 */
function bounds(q: ExportQuery): [string, string] {
  if (q.what === 'ledger') return [q.from, q.to];
  const digits = (d: string) => d.replace(/-/g, '');
  return [digits(q.from), `${digits(q.to)}999999999`];
}

/** SQL of one page: the dataset's rows in key order after the last key seen. */
function pageSql(q: ExportQuery): { sql: string; key: string[] } {
  const room = q.duration === undefined ? '' : ' AND duration = $4';
  switch (q.what) {
    case 'periods':
      return {
        sql: `SELECT 'fiveD_' || duration AS room, *, to_char(day, 'YYYY-MM-DD') AS day FROM periods WHERE period_id >= $1 AND period_id <= $2${room}
              AND ($3::text[] IS NULL OR (period_id, duration, timeline) > (($3::text[])[1], ($3::text[])[2]::int, ($3::text[])[3])) ORDER BY period_id, duration, timeline LIMIT ${PAGE}`,
        key: ['period_id', 'duration', 'timeline'],
      };
    case 'bets':
      return {
        sql: `SELECT 'fiveD_' || duration AS room, period_id || ':' || seq AS bet_id, *, to_char(day, 'YYYY-MM-DD') AS day FROM bets WHERE period_id >= $1 AND period_id <= $2${room}
              AND ($3::text[] IS NULL OR (period_id, duration, timeline, seq) > (($3::text[])[1], ($3::text[])[2]::int, ($3::text[])[3], ($3::text[])[4]::int)) ORDER BY period_id, duration, timeline, seq LIMIT ${PAGE}`,
        key: ['period_id', 'duration', 'timeline', 'seq'],
      };
    case 'ledger':
      return {
        sql: `SELECT * FROM ledger WHERE at >= ($1::date::timestamp AT TIME ZONE 'UTC') AND at < (($2::date + 1)::timestamp AT TIME ZONE 'UTC') AND ($3::text[] IS NULL OR entry_id > ($3::text[])[1]) ORDER BY entry_id LIMIT ${PAGE}`,
        key: ['entry_id'],
      };
  }
}

function value(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  return v;
}

function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = Array.isArray(v) ? v.join(',') : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Writes the rows to `out`; returns how many. Nothing is written before the first page is read:
 * a query that fails (PostgreSQL unreachable, no archive tables, …) leaves `out` untouched and
 * throws a coded error (archiveError; `url` is FIVED_ARCHIVE_URL, named in its message).
 */
export async function exportRows(pool: Pool, q: ExportQuery, out: Writable, url = ''): Promise<number> {
  const cols = COLUMNS[q.what];
  const { sql, key } = pageSql(q);
  const [from, to] = bounds(q);
  const write = (s: string) => (out.write(s) ? Promise.resolve() : new Promise<void>((r) => out.once('drain', () => r())));
  let after: string[] | null = null;
  let n = 0;
  for (;;) {
    const params: unknown[] = [from, to, after];
    if (q.duration !== undefined && q.what !== 'ledger') params.push(q.duration);
    const r = await pool.query(sql, params).catch((err: unknown) => { throw archiveError(err, url); });
    if (n === 0 && after === null && q.format === 'csv') await write(cols.join(',') + '\n');
    for (const row of r.rows as Array<Record<string, unknown>>) {
      if (q.format === 'csv') await write(cols.map((c) => csvField(value(row[c]))).join(',') + '\n');
      else await write(JSON.stringify(Object.fromEntries(cols.map((c) => [c, value(row[c]) ?? null]))) + '\n');
    }
    n += r.rows.length;
    if (r.rows.length < PAGE) return n;
    const last = r.rows[r.rows.length - 1] as Record<string, unknown>;
    after = key.map((k) => String(last[k]));
  }
}
