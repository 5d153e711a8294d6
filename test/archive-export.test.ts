// `fived export` at its edges (the built CLI on a PostgreSQL of the test's own):
// - the widest span, --from 0001-01-01 --to 9999-12-31, returns every row (the day after 9999-12-31,
//   computed in SQL, has 9 digits and compared as text before every period id: 0 rows, exit 0);
// - an --out that cannot be written (a missing directory, a directory, /proc) is E_BAD_REQUEST
//   naming it before anything is queried (it was an unhandled 'error' event and a stack);
// - PostgreSQL problems are coded errors naming FIVED_ARCHIVE_URL's host (unreachable, a connection
//   dropped, a role that does not exist, no tables before `fived archive migrate`), with nothing on
//   stdout (the CSV header went out first) and no partial --out file;
// - runTool prints an error that is no FivedError as E_INTERNAL with its message.
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { migrate, openPool, type Pool } from '../src/archive/db.js';
import { insertLedger, insertPeriod, periodRow } from '../src/archive/rows.js';
import { runTool } from '../src/commands/common.js';
import { commitmentOf, drawDigits, drawMessage } from '../src/core/draw.js';
import type { PeriodRecord } from '../src/store/types.js';
import { runFived } from './support/deploy.js';
import { freePort } from './support/ports.js';
import { startPostgres, type TestPostgres } from './support/postgres.js';
import { requireBuild } from './support/scheduler.js';

let pgs: TestPostgres;
let pool: Pool;
let dropper: Server;
let dropperPort: number;

// one period on each of the first (year 1000) and the last day a period id can name, and one in between
const IDS = ['10000101000000001', '20261206000000005', '99991231000000007'];

beforeAll(async () => {
  requireBuild();
  pgs = await startPostgres();
  pool = openPool(pgs.url, 2);
  await migrate(pool);
  await pool.query('CREATE DATABASE unmigrated');
  for (const [i, periodId] of IDS.entries()) {
    const w = { duration: 60, timeline: 'default', periodId, startsAt: 1_000_000 + i * 60_000, freezeAt: 1_055_000 + i * 60_000, endsAt: 1_060_000 + i * 60_000 };
    const seed = String(i + 1).repeat(64);
    const d = drawDigits(seed, drawMessage(w));
    const rec: PeriodRecord = {
      ...w, status: 'settled', commitment: commitmentOf(seed), voidReason: null, betCount: 0, settled: true,
      result: { ...w, digits: d.digits, sum: d.sum, seed, commitment: commitmentOf(seed), tracking: { instance: 'i', host: 'h', pid: 1, computedAt: 1, computeMs: 1, patternCount: 0, totalStake: 0, totalExposure: 0, maxLiability: 0, source: 'scheduler' } },
    };
    expect(await insertPeriod(pool, periodRow(w, rec, null, []))).toBe(1);
  }
  await insertLedger(pool, [Date.parse('0001-01-01T00:00:00Z'), Date.UTC(2026, 11, 6), Date.UTC(9999, 11, 31, 23)].map((at, i) => ({ entryId: String(i + 1).padStart(16, '0'), userId: 'u', at, kind: 'deposit', amount: 1, balance: i + 1, ref: `r${i}` })));
  // a "server" that accepts and closes at once: pg's "Connection terminated unexpectedly"
  dropper = createServer((s) => s.destroy());
  await new Promise<void>((resolve) => dropper.listen(0, '127.0.0.1', resolve));
  dropperPort = (dropper.address() as { port: number }).port;
}, 60_000);

afterAll(async () => {
  await new Promise<void>((resolve) => (dropper ? dropper.close(() => resolve()) : resolve()));
  await pool?.end();
  await pgs?.stop();
});

const exportArgs = (what: string, from: string, to: string, extra: string[] = []) => ['export', '--what', what, '--from', from, '--to', to, '--format', 'csv', ...extra];

describe('fived export', () => {
  it('--from 0001-01-01 --to 9999-12-31 exports every row (was 0 rows, exit 0)', async () => {
    const e = { FIVED_ARCHIVE_URL: pgs.url };
    const all = await runFived(exportArgs('periods', '0001-01-01', '9999-12-31'), e);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout.trim().split('\n').slice(1).map((l) => l.split(',')[1])).toEqual(IDS);
    const last = await runFived(exportArgs('periods', '9999-12-31', '9999-12-31'), e);
    expect(last.stdout.trim().split('\n').slice(1).map((l) => l.split(',')[1])).toEqual([IDS[2]]);
    const first = await runFived(exportArgs('periods', '0001-01-01', '1000-01-01'), e);
    expect(first.stdout.trim().split('\n').slice(1).map((l) => l.split(',')[1])).toEqual([IDS[0]]);
    const day = await runFived(exportArgs('periods', '2026-12-06', '2026-12-06'), e);
    expect(day.stdout.trim().split('\n').slice(1).map((l) => l.split(',')[1])).toEqual([IDS[1]]);
    const ledger = await runFived(exportArgs('ledger', '0001-01-01', '9999-12-31'), e);
    expect(ledger.code, ledger.stderr).toBe(0);
    expect(ledger.stdout.trim().split('\n')).toHaveLength(4);
    // an impossible day is a usage error, not a span moved to March
    const bad = await runFived(exportArgs('periods', '2027-02-31', '2027-03-01'), e);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--from "2027-02-31": expected a day YYYY-MM-DD');
  }, 60_000);

  it('an --out that cannot be written: E_BAD_REQUEST naming it, exit 1, no stack', async () => {
    const dir = `${pgs.dir}/out`;
    mkdirSync(dir, { recursive: true });
    for (const out of [`${dir}/missing/x.csv`, dir, '/proc/self/fived-export.csv']) {
      const r = await runFived(exportArgs('periods', '2026-12-06', '2026-12-06', ['--out', out]), { FIVED_ARCHIVE_URL: pgs.url });
      expect(r.code, out).toBe(1);
      expect(r.stderr, out).toMatch(new RegExp(`^E_BAD_REQUEST: --out ${JSON.stringify(out).replace(/[/.]/g, '\\$&')}: cannot be written: `));
      expect(r.stderr).not.toMatch(/\n\s+at |Unhandled 'error' event/);
      expect(r.stdout).toBe('');
    }
    // and it is checked before PostgreSQL is asked: the same error with an archive that cannot be reached
    const first = await runFived(exportArgs('periods', '2026-12-06', '2026-12-06', ['--out', `${dir}/missing/x.csv`]), { FIVED_ARCHIVE_URL: `postgres://fived@127.0.0.1:${dropperPort}/postgres` });
    expect(first.stderr).toMatch(/^E_BAD_REQUEST: --out/);
  }, 60_000);

  it('PostgreSQL problems are coded errors naming FIVED_ARCHIVE_URL, with nothing written before them', async () => {
    const closed = await freePort();
    const host = `127.0.0.1:${pgs.port}`;
    const cases: Array<[string, RegExp]> = [
      [`postgres://fived@127.0.0.1:${closed}/postgres`, new RegExp(`^E_STORE_UNAVAILABLE: the archive at 127\\.0\\.0\\.1:${closed} \\(FIVED_ARCHIVE_URL\\) cannot be reached or dropped the connection: .*ECONNREFUSED`)],
      [`postgres://fived@127.0.0.1:${dropperPort}/postgres`, /^E_STORE_UNAVAILABLE: the archive at 127\.0\.0\.1:\d+ \(FIVED_ARCHIVE_URL\) cannot be reached or dropped the connection: Connection terminated unexpectedly/],
      [`postgres://nosuchrole:pw@${host}/postgres`, /^E_STORE_AUTH: the archive at 127\.0\.0\.1:\d+ \(FIVED_ARCHIVE_URL\) refused the login: role "nosuchrole" does not exist/],
      [`postgres://fived@${host}/nosuchdb`, /^E_CONFIG_INVALID: the archive at .*database "nosuchdb" does not exist: FIVED_ARCHIVE_URL must name an existing database/],
      [`postgres://fived@${host}/unmigrated`, /^E_CONFIG_INVALID: the archive at .* has no archive tables \(relation "periods" does not exist\): run `fived archive migrate` first/],
    ];
    for (const [url, re] of cases) {
      const out = `${pgs.dir}/failed.csv`;
      const r = await runFived(exportArgs('periods', '2026-12-06', '2026-12-06'), { FIVED_ARCHIVE_URL: url }, 30_000);
      expect(r.code, url).toBe(1);
      expect(r.stderr, url).toMatch(re);
      expect(r.stderr).not.toContain(':pw@');
      expect(r.stdout, url).toBe(''); // no CSV header before the failure
      const f = await runFived(exportArgs('periods', '2026-12-06', '2026-12-06', ['--out', out]), { FIVED_ARCHIVE_URL: url }, 30_000);
      expect(f.code, url).toBe(1);
      expect(existsSync(out), url).toBe(false); // no partial file left
    }
  }, 90_000);
});

describe('runTool', () => {
  it('prints an error that is no FivedError as E_INTERNAL with its message (exit 1)', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(await runTool('x', async () => { throw new TypeError('Invalid URL'); })).toBe(1);
      expect(spy).toHaveBeenCalledWith('E_INTERNAL: Invalid URL');
    } finally {
      spy.mockRestore();
    }
  });
});
