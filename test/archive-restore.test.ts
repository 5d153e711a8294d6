// A Redis restored from an older backup while the archive holds newer ledger entries: the store's
// entry numbering restarts below the archive's cursor. The archiver (in this process, on a
// PostgreSQL and a Redis of the test's own) raises the numbering above its cursor on its next pass
// and reports the entries written in between (they reuse numbers the archive holds); every entry
// after that is archived. Without it, new entries were skipped silently.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Archiver } from '../src/archive/archiver.js';
import { migrate, openPool, type Pool } from '../src/archive/db.js';
import { readCursor } from '../src/archive/rows.js';
import { createLogger } from '../src/runtime/log.js';
import { createRegistry } from '../src/runtime/metrics.js';
import { RedisStore } from '../src/store/redis.js';
import { startPostgres, type TestPostgres } from './support/postgres.js';
import { startRedis, testPrefix, TEST_SEED_KEY, type TestRedis } from './support/redis.js';

let pgs: TestPostgres;
let pool: Pool;
let redis: TestRedis;
let store: RedisStore;

beforeAll(async () => {
  [pgs, redis] = await Promise.all([startPostgres(), startRedis()]);
  pool = openPool(pgs.url, 3);
  await migrate(pool);
  store = new RedisStore({ redisUrl: redis.url, keyPrefix: testPrefix('arest'), instance: 'test', seedKey: TEST_SEED_KEY });
  await store.init();
}, 60_000);
afterAll(async () => {
  await store?.close();
  await pool?.end();
  await Promise.all([pgs?.stop(), redis?.stop()]);
});

describe('the archive after a restore of Redis', () => {
  it('raises the ledger numbering above its cursor, reports the reused numbers, and archives what follows', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const destination = new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk)) as Record<string, unknown>); done(); } });
    const log = createLogger({ logLevel: 'info', instance: 'test' }, 'archiver', { destination });
    // the ledger only (no rooms)
    const archiver = new Archiver(pool, store, [], log, createRegistry({ defaultMetrics: false }), { batchRows: 100, pollMs: 100, alertLagS: 3600, staleMs: 60_000, startBackMs: 60_000 });
    for (const [u, id] of [['alice', 'd1'], ['bob', 'd2'], ['carol', 'd3']] as const) await store.credit(u, 1000, id);
    expect((await archiver.pass()).ledger).toBe(3);
    expect(await readCursor(pool, 'ledger')).toBe('0000000000000003');

    // the restore: Redis as a backup taken after the first deposit has it (numbering and feed at 1)
    const K = store.keys;
    await store.client.set(K.ledgerSeq, '1');
    await store.client.xdel(K.ledgerFeed, '2-0', '3-0');
    await store.client.xsetid(K.ledgerFeed, '1-0');
    await store.credit('dave', 500, 'd4'); // written before the archiver's next pass: number 2 again
    expect((await store.ledgerFeed('0000000000000001', 10)).map((e) => [e.entryId, e.userId])).toEqual([['0000000000000002', 'dave']]);

    expect((await archiver.pass()).ledger).toBe(0);
    const alert = lines.find((l) => l.tag === '5D_ARCHIVE' && l.alert === true);
    expect(alert, JSON.stringify(lines)).toMatchObject({ storeSeq: '0000000000000002', cursor: '0000000000000003', reused: 1, reusedIds: ['0000000000000002'] });
    expect(String(alert!.msg)).toMatch(/restored from an older backup/);

    // numbering continues above the cursor: the next entry is archived
    await store.credit('erin', 700, 'd5');
    expect((await archiver.pass()).ledger).toBe(1);
    const rows = (await pool.query<{ entry_id: string; user_id: string }>('SELECT entry_id, user_id FROM ledger ORDER BY entry_id')).rows;
    expect(rows.map((r) => [r.entry_id, r.user_id])).toEqual([
      ['0000000000000001', 'alice'], ['0000000000000002', 'bob'], ['0000000000000003', 'carol'], ['0000000000000004', 'erin'],
    ]);
    // a pass with the numbering already above the cursor changes nothing and says nothing
    const before = lines.length;
    await archiver.pass();
    expect(lines.slice(before).filter((l) => l.alert === true)).toEqual([]);
    expect(await store.client.get(K.ledgerSeq)).toBe('4');
  }, 60_000);
});
