// The archive's writes on a PostgreSQL of the test's own: a batch of bets written again, whole or
// in part (a period copied again after a crash mid-way), adds exactly the missing rows; ledger and
// period rows likewise; migrate twice applies once; reading back gives the records written.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Archiver, type ArchiveSource } from '../src/archive/archiver.js';
import { migrate, openPool, readMigrations, schemaVersion, type Pool } from '../src/archive/db.js';
import { exportRows } from '../src/archive/export.js';
import { betOfRow, ArchiveReader } from '../src/archive/reader.js';
import { insertBets, insertLedger, insertPeriod, periodRow } from '../src/archive/rows.js';
import { loadConfig } from '../src/config.js';
import { commitmentOf, drawDigits, drawMessage } from '../src/core/draw.js';
import type { PeriodWindow } from '../src/core/types.js';
import { recordOfArchived } from '../src/gateway/archive.js';
import { createLogger } from '../src/runtime/log.js';
import { createRegistry } from '../src/runtime/metrics.js';
import { nextWindow, roomsOf, windowAt } from '../src/runtime/rooms.js';
import type { BetRecord, PeriodRecord, StoredResult } from '../src/store/types.js';
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
const TRACKING = { instance: 'i', host: 'h', pid: 1, computedAt: 1, computeMs: 1, patternCount: 1, totalStake: 1, totalExposure: 1, maxLiability: 1, source: 'scheduler' } as const;

/** A settled period whose stored result is exactly what its seed draws (as the scheduler stores it). */
function settledRecord(w: PeriodWindow, seed: string, betCount = 0): PeriodRecord {
  const d = drawDigits(seed, drawMessage(w));
  const result: StoredResult = { duration: w.duration, timeline: w.timeline, periodId: w.periodId, digits: d.digits, sum: d.sum, seed, commitment: commitmentOf(seed), tracking: { ...TRACKING } };
  return { duration: w.duration, timeline: w.timeline, periodId: w.periodId, status: 'settled', commitment: result.commitment, voidReason: null, betCount, settled: true, result };
}

/** The same record with its stored result rewritten to other digits (as /tmp/probe-ops/forge.mjs does in Redis). */
function forged(rec: PeriodRecord, seed?: string): PeriodRecord {
  const digits = rec.result!.digits.map((x) => (x + 1) % 10) as StoredResult['digits'];
  return { ...rec, result: { ...rec.result!, digits, sum: digits.reduce((a, b) => a + b, 0), ...(seed ? { seed } : {}) } };
}
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
    const rec = settledRecord(w, 'a'.repeat(64), bets.length);
    const row = periodRow(w, rec, null, bets);
    expect(row).toMatchObject({ status: 'settled', resultMismatch: false, digits: rec.result!.digits, seed: 'a'.repeat(64) });
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

  it('the archiver never archives a stored result that does not verify as a result: a mismatch row without digits, logged 5D_RESULT_MISMATCH, counted', async () => {
    const room = roomsOf(loadConfig({ FIVED_DURATIONS: '60' }))[0]!;
    const w1 = windowAt(room, Date.parse('2026-12-06T10:00:30Z'));
    const w2 = nextWindow(room, w1);
    const w3 = nextWindow(room, w2);
    const seeds = ['b1'.repeat(32), 'b2'.repeat(32), 'b3'.repeat(32)];
    const good = settledRecord(w1, seeds[0]!);
    const digitsForged = forged(settledRecord(w2, seeds[1]!)); // other digits, the seed kept
    const seedForged = forged(settledRecord(w3, seeds[2]!), 'aa'.repeat(32)); // other digits and seed
    const recs = new Map([[w1.periodId, good], [w2.periodId, digitsForged], [w3.periodId, seedForged]]);
    const committed = new Map([[w1.periodId, seeds[0]!], [w2.periodId, seeds[1]!], [w3.periodId, seeds[2]!]]);
    const now = w3.endsAt + 1000;
    const source: ArchiveSource = {
      serverTime: async () => now,
      getPeriod: async (w: PeriodWindow) => recs.get(w.periodId) ?? { ...w, status: 'unknown', commitment: null, result: null, voidReason: null, betCount: 0, settled: false },
      periodBets: async () => [],
      periodPayouts: async () => [],
      getSeed: async (w: PeriodWindow) => committed.get(w.periodId) ?? null,
      history: async () => [],
    } as unknown as ArchiveSource;
    const lines: Array<Record<string, unknown>> = [];
    const destination = new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk)) as Record<string, unknown>); done(); } });
    const registry = createRegistry({ defaultMetrics: false });
    const archiver = new Archiver(pool, source, [room], createLogger({ logLevel: 'info', instance: 'test' }, 'archiver', { destination }), registry,
      { batchRows: 100, pollMs: 100, alertLagS: 3600, staleMs: 60_000, startBackMs: now - w1.startsAt });

    expect((await archiver.pass()).periods).toBe(3);
    // the forged ones: status mismatch in the table, no digits; the seed only when it is the committed one
    const rows = (await pool.query('SELECT period_id, status, digits, sum, seed, settled FROM periods WHERE period_id = ANY($1) ORDER BY period_id', [[w2.periodId, w3.periodId]])).rows;
    expect(rows).toEqual([
      { period_id: w2.periodId, status: 'mismatch', digits: null, sum: null, seed: seeds[1], settled: true },
      { period_id: w3.periodId, status: 'mismatch', digits: null, sum: null, seed: seeds[2], settled: true },
    ]);
    const reader = new ArchiveReader(pool);
    // the verifying one as it is
    expect(await reader.period('default', 60, w1.periodId)).toMatchObject({ status: 'settled', digits: good.result!.digits, seed: seeds[0], resultMismatch: false });
    // read back for the gateways: a settled period without a result (never served)
    const back = (await reader.period('default', 60, w2.periodId))!;
    expect(back).toMatchObject({ status: 'settled', resultMismatch: true, digits: null });
    expect(recordOfArchived(back).result).toBeNull();
    // the room's cursor went past them (nothing after them is held back), and each was reported once
    expect((await pool.query("SELECT position FROM archive_cursor WHERE stream = 'period:default:60'")).rows[0].position).toBe(w3.periodId);
    const alerts = lines.filter((l) => l.tag === '5D_RESULT_MISMATCH');
    expect(alerts.map((l) => l.periodId)).toEqual([w2.periodId, w3.periodId]);
    expect(alerts[0]).toMatchObject({ level: 'error', alert: true, room: 'fiveD_60', storedDigits: digitsForged.result!.digits, committedSeedDraws: settledRecord(w2, seeds[1]!).result!.digits });
    expect(String(alerts[0]!.msg)).toMatch(/does not verify against its commitment: archived with status mismatch/);
    expect(await registry.getSingleMetricAsString('fived_archive_result_mismatch_total')).toMatch(/fived_archive_result_mismatch_total 2\n?$/);

    // export says so: status mismatch, empty digits
    let csv = '';
    const out = new Writable({ write(chunk, _enc, done) { csv += String(chunk); done(); } });
    await exportRows(pool, { what: 'periods', from: '2026-12-06', to: '2026-12-06', duration: 60, format: 'csv' }, out);
    const line = csv.split('\n').find((l) => l.includes(w2.periodId))!;
    expect(line).toContain(',mismatch,');
    expect(line).not.toContain(digitsForged.result!.digits.join(','));
  });

  it('one archiver holds the lock, another stands by (said once); a lock whose session PostgreSQL ends is said lost and taken again', async () => {
    const room = roomsOf({ durations: [60], freezeMs: 5000, dayStart: { minutes: 0, offsetMinutes: 0 }, timeline: 'default' })[0]!;
    const source = {
      serverTime: async () => Date.now(),
      getPeriod: async (w: PeriodWindow) => ({ ...w, status: 'unknown', commitment: null, result: null, voidReason: null, betCount: 0, settled: false }),
      periodBets: async () => [],
      periodPayouts: async () => [],
      getSeed: async () => null,
      history: async () => [],
    } as unknown as ArchiveSource;
    const make = (name: string) => {
      const lines: Array<Record<string, unknown>> = [];
      const destination = new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk)) as Record<string, unknown>); done(); } });
      const own = openPool(pgs.url, 2); // its own sessions, as another process has
      const a = new Archiver(own, source, [room], createLogger({ logLevel: 'info', instance: name }, 'archiver', { destination }), createRegistry({ defaultMetrics: false }),
        { batchRows: 100, pollMs: 50, alertLagS: 3600, staleMs: 60_000, startBackMs: 0 });
      return { a, own, lines, said: (re: RegExp) => lines.filter((l) => re.test(String(l.msg))).length };
    };
    const holders = async () => Number((await pool.query("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND granted")).rows[0].n);
    const until = async (what: string, ok: () => boolean | Promise<boolean>) => {
      for (const deadline = Date.now() + 10_000; !(await ok());) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    const one = make('one');
    const two = make('two');
    try {
      one.a.start();
      await until('the lock taken', () => one.said(/lock taken/) === 1);
      two.a.start();
      await until('the second to stand by', () => two.said(/standing by/) === 1);
      await new Promise((r) => setTimeout(r, 300)); // several polls of the standby: said once, not at each
      expect([two.said(/standing by/), two.said(/lock taken/), await holders()]).toEqual([1, 0, 1]);
      // PostgreSQL ends the lock's session (a restart, an administrator): the holder says so, and
      // the lock is taken again by one of them
      await pool.query("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted");
      await until('the loss said', () => one.said(/lock lost/) === 1);
      await until('the lock taken again', () => one.said(/lock taken/) + two.said(/lock taken/) === 2);
      expect(await holders()).toBe(1);
    } finally {
      for (const x of [one, two]) {
        await x.a.stop();
        await x.own.end();
      }
    }
  });
});
