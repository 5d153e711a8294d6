// `fived all` (the in-memory store) with FIVED_ARCHIVE_URL runs the archiver inside itself: its
// ended periods reach PostgreSQL, settled, with digits and seed, never before their end (issue 14).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFived, startFived } from './support/fived.js';
import { startPostgres, type TestPostgres } from './support/postgres.js';
import { freePort } from './support/ports.js';
import type { Proc } from './support/procs.js';
import { requireBuild } from './support/scheduler.js';

let pgs: TestPostgres;
let all: Proc | null = null;

beforeAll(async () => {
  requireBuild();
  pgs = await startPostgres();
}, 60_000);
afterAll(async () => {
  await all?.stop(60_000);
  await pgs?.stop();
}, 30_000);

describe('fived all with the archive', () => {
  it('archives the embedded store\'s periods after their end', async () => {
    const env = { FIVED_ARCHIVE_URL: pgs.url, FIVED_DURATIONS: '2', FIVED_FREEZE_MS: '500', FIVED_ARCHIVE_POLL_MS: '200', FIVED_PORT: String(await freePort()), FIVED_HOST: '127.0.0.1' };
    const m = await runFived(['archive', 'migrate'], env);
    expect(m.code, m.stderr).toBe(0);
    all = startFived('all', ['all'], { env: { PATH: process.env.PATH ?? '', FIVED_LOG_LEVEL: 'warn', ...env }, quiet: true });
    const db = new pg.Client(pgs.url);
    await db.connect();
    try {
      const deadline = Date.now() + 30_000;
      let rows: Array<Record<string, unknown>> = [];
      const settled = () => rows.filter((r) => r.status === 'settled');
      while (settled().length < 3 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 300));
        rows = (await db.query('SELECT period_id, status, settled, void, void_reason, digits, seed, archived_at >= ends_at AS after_end FROM periods ORDER BY period_id')).rows;
      }
      expect(settled().length).toBeGreaterThanOrEqual(3);
      for (const r of rows) {
        expect(r.after_end).toBe(true);
        if (r.status === 'void') {
          // the period already running at the start had no commitment: void, without digits
          expect(r).toMatchObject({ void: true, settled: false, digits: null });
          expect(r.void_reason).toMatch(/commitment/);
          continue;
        }
        expect(r).toMatchObject({ status: 'settled', settled: true, void: false });
        expect((r.digits as number[]).length).toBe(5);
        expect(r.seed).toMatch(/^[0-9a-f]{64}$/);
      }
    } finally {
      await db.end();
    }
  }, 60_000);
});
