// The archive's writes on a PostgreSQL of the test's own: a batch of bets written again, whole or
// in part (a period copied again after a crash mid-way), adds exactly the missing rows; ledger and
// period rows likewise; migrate twice applies once; reading back gives the records written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, openPool, readMigrations, schemaVersion, type Pool } from '../src/archive/db.js';
import { betOfRow, ArchiveReader } from '../src/archive/reader.js';
import { insertBets, insertLedger, insertPeriod, periodRow } from '../src/archive/rows.js';
import type { BetRecord, PeriodRecord } from '../src/store/types.js';
import { startPostgres, type TestPostgres } from './support/postgres.js';

let pgs: TestPostgres;
let pool: Pool;

beforeAll(async () => {
  pgs = await startPostgres();
  pool = openPool(pgs.url, 3);
});
afterAll(async () => {
  await pool?.end();
  await pgs?.stop();
});

const PID = '20261206000000042';
const bets: BetRecord[] = Array.from({ length: 1000 }, (_, i) => ({
  betId: `${PID}:${i}`, clientBetId: `c-${i}`, userId: `u${i % 7}`, duration: 60, timeline: 'default', periodId: PID, seq: i,
  kind: i % 2 ? 'SUM' : 'A', pick: i % 2 ? 'big' : i % 10, amount: 100 + i, placedAt: 1_765_000_000_123 + i, state: i % 3 ? 'lost' : 'won', payout: i % 3 ? 0 : 196,
}));

describe('archive rows', () => {
  it('migrate applies 001 once; the schema version is then current', async () => {
    expect(await schemaVersion(pool)).toBe(0);
    expect(await migrate(pool)).toEqual([1]);
    expect(await migrate(pool)).toEqual([]);
    expect(await schemaVersion(pool)).toBe(readMigrations().at(-1)!.version);
  });

  it('bets written again in part or whole add only the missing rows, each exactly once, read back equal', async () => {
    expect(await insertBets(pool, bets.slice(0, 300))).toBe(300);
    // the crash case: a batch overlapping rows already there (the plain insert refuses, the retry skips them)
    expect(await insertBets(pool, bets.slice(200, 600))).toBe(300);
    expect(await insertBets(pool, bets)).toBe(400);
    expect(await insertBets(pool, bets)).toBe(0);
    const rows = (await pool.query('SELECT * FROM bets ORDER BY seq')).rows;
    expect(rows.map((r) => betOfRow(r))).toEqual(bets);
    const reader = new ArchiveReader(pool);
    const mine = await reader.userBets('u3', 1000);
    expect(mine).toEqual(bets.filter((b) => b.userId === 'u3').sort((a, b) => b.placedAt - a.placedAt));
  });

  it('a period row and ledger entries are stored once', async () => {
    const w = { duration: 60, timeline: 'default', periodId: PID, startsAt: 1_765_000_000_000, freezeAt: 1_765_000_055_000, endsAt: 1_765_000_060_000 };
    const rec: PeriodRecord = {
      duration: 60, timeline: 'default', periodId: PID, status: 'settled', commitment: 'c'.repeat(64), voidReason: null, betCount: bets.length, settled: true,
      result: { duration: 60, timeline: 'default', periodId: PID, digits: [1, 2, 3, 4, 5], sum: 15, seed: 'a'.repeat(64), commitment: 'c'.repeat(64), tracking: { instance: 'i', host: 'h', pid: 1, computedAt: 1, computeMs: 1, patternCount: 1, totalStake: 1, totalExposure: 1, maxLiability: 1, source: 'scheduler' } },
    };
    const row = periodRow(w, rec, null, bets);
    expect(row.totalStake).toBe(bets.reduce((s, b) => s + b.amount, 0));
    expect(await insertPeriod(pool, row)).toBe(1);
    expect(await insertPeriod(pool, row)).toBe(0);
    expect(await new ArchiveReader(pool).period('default', 60, PID)).toEqual(row);
    const entries = [1, 2, 3].map((n) => ({ entryId: String(n).padStart(16, '0'), userId: 'u1', at: 1_765_000_000_000 + n, kind: 'stake', amount: -n, balance: 100 - n, ref: `r${n}` }));
    expect(await insertLedger(pool, entries)).toBe(3);
    expect(await insertLedger(pool, entries)).toBe(0);
    expect(await new ArchiveReader(pool).ledger('u1', null, 10)).toEqual([...entries].reverse());
    expect(await new ArchiveReader(pool).ledger('u1', entries[2]!.entryId, 1)).toEqual([entries[1]]);
  });
});
