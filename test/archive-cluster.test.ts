// Issue 14 item 3/4: a cluster (scheduler + gateway on their own Redis) with `fived archiver` and a
// PostgreSQL of the test's own runs periods with bets; mid-way the archiver is killed (SIGKILL) and
// PostgreSQL is stopped abruptly and restarted. At the end every period, bet and ledger entry is in
// PostgreSQL exactly once and equal to what players were told; a period expired from Redis (its
// keys deleted) is served from PostgreSQL by the lookup, the history and my_bets, and a user's
// ledger by the ledger endpoint and message; migrate is idempotent; export writes both formats.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore, type RedisStore } from '../src/store/index.js';
import type { PeriodRef } from '../src/core/types.js';
import { Client, getJson, gatewayEnv, operator, startGatewayProc, token, credit, type GatewayProc, type Msg } from './support/gateway.js';
import { runFived } from './support/deploy.js';
import { betOfRow } from '../src/archive/reader.js';
import { startPostgres, type TestPostgres } from './support/postgres.js';
import { startRedis, testPrefix, TEST_SEED_KEY, type TestRedis } from './support/redis.js';
import { isAcquired, requireBuild, spawnScheduler, type SchedulerProc } from './support/scheduler.js';

const ROOM = 'fiveD_3';
const USERS = ['arc-u1', 'arc-u2', 'arc-u3'];
const KINDS: Array<[string, string | number]> = [['A', 3], ['SUM', 'big'], ['B', 'odd'], ['C', 7], ['SUM', 'even'], ['E', 'small']];

let redis: TestRedis;
let pgs: TestPostgres;
let db: pg.Pool;
let gw: GatewayProc;
let sched: SchedulerProc;
let archiver: SchedulerProc;
let store: RedisStore;
const clients = new Map<string, Client>();
const acks: Msg[] = [];
let env: Record<string, string>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; archiver log: ${JSON.stringify(archiver?.lines.slice(-15).map((l) => [l.level, l.msg, l.err]))}`);
    await sleep(200);
  }
}

/** Bets of every user in the room's current period (while it is open), then waits for its end. */
async function betOnePeriod(round: number): Promise<void> {
  const rooms = (await getJson(`${gw.url}/api/rooms`)).body as Array<{ room: string; periodId: string; freezeAt: number; endsAt: number }>;
  let p = rooms.find((r) => r.room === ROOM)!;
  if (Date.now() > p.freezeAt - 600) {
    await sleep(p.endsAt - Date.now() + 50);
    p = ((await getJson(`${gw.url}/api/rooms`)).body as typeof rooms).find((r) => r.room === ROOM)!;
  }
  await Promise.all(USERS.map(async (u, i) => {
    for (let k = 0; k < 2; k++) {
      const [kind, pick] = KINDS[(round + i + k) % KINDS.length]!;
      const r = await clients.get(u)!.request({ type: 'bet', room: ROOM, periodId: p.periodId, kind, pick, amount: 100 + 10 * i + k, clientBetId: `r${round}-${u}-${k}` });
      expect(r.type, JSON.stringify(r)).toBe('bet_ack');
      acks.push({ ...r, userId: u });
    }
  }));
  await sleep(Math.max(0, p.endsAt - Date.now() + 50));
}

beforeAll(async () => {
  requireBuild();
  [redis, pgs] = await Promise.all([startRedis(), startPostgres()]);
  db = new pg.Pool({ connectionString: pgs.url, max: 2 });
  db.on('error', () => undefined);
  const prefix = testPrefix('archive');
  env = { ...gatewayEnv(redis.url, prefix), FIVED_ARCHIVE_URL: pgs.url };
  store = createStore({ redisUrl: redis.url, keyPrefix: prefix, seedKey: TEST_SEED_KEY }) as RedisStore;
  await store.init();
}, 90_000);

afterAll(async () => {
  for (const c of clients.values()) c.terminate();
  await Promise.all([gw?.stop(), sched?.stop(), archiver?.stop()]);
  await db?.end();
  await store?.close();
  await Promise.all([redis?.stop(), pgs?.stop()]);
}, 60_000);

describe('archive in PostgreSQL', () => {
  it('fived archive migrate applies the schema once (a second run applies nothing)', async () => {
    const first = await runFived(['archive', 'migrate'], { FIVED_ARCHIVE_URL: pgs.url });
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ applied: [1], current: 1 });
    const again = await runFived(['archive', 'migrate'], { FIVED_ARCHIVE_URL: pgs.url });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ applied: [], current: 1 });
    const rows = await db.query('SELECT version FROM schema_migrations');
    expect(rows.rows).toEqual([{ version: 1 }]);
  });

  it('archives every period, bet and ledger entry exactly once across an archiver kill and a PostgreSQL restart', async () => {
    sched = spawnScheduler('arc-sched', env);
    await sched.waitFor(isAcquired, 20_000, 'the lease');
    gw = await startGatewayProc(env);
    archiver = spawnScheduler('arc-archiver', { ...env, FIVED_ARCHIVER_PORT: '0', FIVED_ARCHIVE_POLL_MS: '200', FIVED_ARCHIVE_ALERT_LAG_S: '2' }, 'archiver');
    await archiver.waitFor((l) => l.tag === '5D_ARCHIVE' && /lock taken/.test(l.msg), 20_000, 'the archiver lock');
    for (const u of USERS) {
      await credit(gw, u, 1_000_000);
      clients.set(u, await Client.connect(gw.port, { token: await token(u) }));
    }
    await betOnePeriod(0);
    await betOnePeriod(1);
    // the archiver dies; PostgreSQL goes down hard and comes back; bets go on meanwhile
    await archiver.kill();
    await betOnePeriod(2);
    await pgs.restart();
    await betOnePeriod(3);
    archiver = spawnScheduler('arc-archiver-2', { ...env, FIVED_ARCHIVER_PORT: '0', FIVED_ARCHIVE_POLL_MS: '200', FIVED_ARCHIVE_ALERT_LAG_S: '2' }, 'archiver');
    await betOnePeriod(4);
    // it was behind when it came back: the alert line
    await archiver.waitFor((l) => l.tag === '5D_ARCHIVE' && l.alert === true && l.level === 'error', 20_000, 'the lag alert');
    // PostgreSQL goes down under the running archiver: it retries, takes the lock again, goes on
    await pgs.restart();
    await betOnePeriod(5);
    // its lock's session died with the server: it took the lock again on a new one
    await until('the lock taken again', async () => archiver.lines.filter((l) => l.tag === '5D_ARCHIVE' && /lock taken/.test(l.msg)).length >= 2, 20_000);

    const periodIds = [...new Set(acks.map((a) => String(a.periodId)))].sort();
    expect(periodIds.length).toBeGreaterThanOrEqual(5);
    // everything settled and archived: the room's cursor past the last period with bets
    await until('the archive to catch up', async () => {
      const r = await db.query("SELECT position FROM archive_cursor WHERE stream = 'period:default:3'").catch(() => ({ rows: [] as Array<{ position: string }> }));
      return r.rows[0] && r.rows[0].position >= periodIds[periodIds.length - 1]!;
    });

    // bets: each acknowledged bet exactly once, equal to what my_bets tells its player
    const bets = (await db.query('SELECT *, period_id || \':\' || seq AS bet_id FROM bets ORDER BY period_id, seq')).rows;
    expect(bets.length).toBe(acks.length);
    expect(new Set(bets.map((b) => b.bet_id)).size).toBe(acks.length);
    for (const a of acks) expect(bets.some((b) => b.bet_id === a.betId && b.user_id === a.userId && b.client_bet_id === a.clientBetId)).toBe(true);
    for (const u of USERS) {
      const told = (await clients.get(u)!.request({ type: 'my_bets', limit: 100 })).bets as Array<Record<string, unknown>>;
      const mine = bets.filter((b) => b.user_id === u);
      expect(told.length).toBe(mine.length);
      for (const t of told) {
        const b = mine.find((x) => x.bet_id === t.betId)!;
        expect({ clientBetId: b.client_bet_id, kind: b.kind, pick: /^\d$/.test(b.pick) ? Number(b.pick) : b.pick, amount: Number(b.amount), payout: Number(b.payout), state: b.state, periodId: b.period_id })
          .toEqual({ clientBetId: t.clientBetId, kind: t.kind, pick: t.pick, amount: t.amount, payout: t.payout, state: t.state, periodId: t.periodId });
        expect(['won', 'lost']).toContain(b.state);
      }
    }

    // every field of every bet as the store holds it (placedAt, clientBetId, outcome), exactly
    for (const id of periodIds) {
      const held = await store.periodBets({ duration: 3, timeline: 'default', periodId: id });
      expect(bets.filter((b) => b.period_id === id).map((b) => betOfRow(b))).toEqual(held);
    }

    // periods: equal to the public lookup; never archived before their end (rule 4)
    const periods = (await db.query('SELECT * FROM periods WHERE duration = 3 ORDER BY period_id')).rows;
    expect(new Set(periods.map((p) => p.period_id)).size).toBe(periods.length);
    for (const p of periods) expect(new Date(p.archived_at).getTime()).toBeGreaterThanOrEqual(new Date(p.ends_at).getTime());
    // the oldest period with bets is kept for the expiry check below (not looked up here: no gateway cache)
    for (const id of periodIds.slice(1)) {
      const view = (await getJson(`${gw.url}/api/rooms/${ROOM}/periods/${id}`)).body;
      const row = periods.find((p) => p.period_id === id)!;
      expect(row, id).toBeTruthy();
      expect({ digits: row.digits, seed: row.seed, commitment: row.commitment, settled: row.settled, void: row.void, betCount: row.bet_count })
        .toEqual({ digits: view.result.digits, seed: view.result.seed, commitment: view.commitment, settled: view.settled, void: view.void, betCount: view.betCount });
      const stake = bets.filter((b) => b.period_id === id).reduce((s, b) => s + Number(b.amount), 0);
      expect(Number(row.total_stake)).toBe(stake);
    }

    // ledger: every entry of the store exactly once, equal
    const feed = await store.ledgerFeed(null, 100_000);
    const ledger = (await db.query('SELECT * FROM ledger ORDER BY entry_id')).rows;
    expect(ledger.map((e) => ({ entryId: e.entry_id, userId: e.user_id, at: new Date(e.at).getTime(), kind: e.kind, amount: Number(e.amount), balance: Number(e.balance), ref: e.ref }))).toEqual(feed);
  }, 180_000);

  it('serves a period expired from Redis from PostgreSQL (lookup, history, my_bets)', async () => {
    const oldest = [...new Set(acks.map((a) => String(a.periodId)))].sort()[0]!;
    const ref: PeriodRef = { duration: 3, timeline: 'default', periodId: oldest };
    const row = (await db.query('SELECT * FROM periods WHERE duration = 3 AND period_id = $1', [oldest])).rows[0];
    // expire it: every key of the period, and the history stream up to it
    const k = store.keys.period(ref);
    await store.client.del(...Object.values(k), ...USERS.map((u) => store.keys.userPeriodBets(ref, u)));
    await store.client.xtrim(store.keys.history(3, 'default'), 'MINID', `${BigInt(oldest) + 1n}-0`);
    expect((await store.getPeriod(ref)).status).toBe('unknown');

    const view = (await getJson(`${gw.url}/api/rooms/${ROOM}/periods/${oldest}`));
    expect(view.status).toBe(200);
    expect(view.body.result).toEqual({ digits: row.digits, sum: row.sum, seed: row.seed });
    expect(view.body).toMatchObject({ periodId: oldest, commitment: row.commitment, settled: true, void: false, betCount: row.bet_count, status: 'settled' });

    const history = (await getJson(`${gw.url}/api/rooms/${ROOM}/periods?limit=100`)).body as Array<Record<string, unknown>>;
    const fromArchive = history.find((h) => h.periodId === oldest);
    expect(fromArchive).toEqual(view.body);
    const ids = history.map((h) => String(h.periodId));
    expect(ids).toEqual([...ids].sort().reverse()); // newest first, no duplicate
    expect(new Set(ids).size).toBe(ids.length);

    const u = USERS[0]!;
    const told = (await clients.get(u)!.request({ type: 'my_bets', limit: 100 })).bets as Array<Record<string, unknown>>;
    const expected = acks.filter((a) => a.userId === u).map((a) => a.betId).sort();
    expect(told.map((t) => t.betId).sort()).toEqual(expected);
    const one = (await clients.get(u)!.request({ type: 'my_bets', room: ROOM, periodId: oldest })).bets as Array<Record<string, unknown>>;
    expect(one.map((t) => t.betId).sort()).toEqual(acks.filter((a) => a.userId === u && a.periodId === oldest).map((a) => a.betId).sort());
  }, 60_000);

  it('serves a ledger expired from Redis from PostgreSQL, newest first, paged', async () => {
    const u = USERS[1]!;
    const rows = (await db.query('SELECT * FROM ledger WHERE user_id = $1 ORDER BY entry_id DESC', [u])).rows;
    expect(rows.length).toBeGreaterThan(5); // a deposit, stakes, payouts
    const want = rows.map((e) => ({ entryId: e.entry_id, userId: e.user_id, at: new Date(e.at).getTime(), kind: e.kind, amount: Number(e.amount), balance: Number(e.balance), ref: e.ref }));
    const before = await getJson(`${gw.url}/api/wallet/${u}/ledger?limit=500`, operator(undefined, 'GET'));
    expect(before.body.entries).toEqual(want);
    // the user's entries expire from Redis: the same answer, from the archive, a page at a time
    await store.client.del(store.keys.ledgerUser(u));
    await store.client.hdel(store.keys.ledgerPending, u);
    const all: unknown[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 20; i++) {
      const page = await getJson(`${gw.url}/api/wallet/${u}/ledger?limit=4${cursor ? `&before=${cursor}` : ''}`, operator(undefined, 'GET'));
      expect(page.status).toBe(200);
      all.push(...(page.body.entries as unknown[]));
      cursor = page.body.next as string | null;
      if (cursor === null) break;
    }
    expect(all).toEqual(want);
    const ws = (await clients.get(u)!.request({ type: 'ledger', limit: 3 })) as Msg;
    expect(ws.entries).toEqual(want.slice(0, 3));
  }, 60_000);

  it('fived export writes the archived rows as CSV and JSON lines', async () => {
    const days = (await db.query("SELECT to_char(min(day), 'YYYY-MM-DD') AS a, to_char(max(day), 'YYYY-MM-DD') AS b FROM bets")).rows[0];
    const count = Number((await db.query('SELECT count(*) AS n FROM bets')).rows[0].n);
    const e = { FIVED_ARCHIVE_URL: pgs.url };
    const csv = await runFived(['export', '--what', 'bets', '--from', days.a, '--to', days.b, '--room', ROOM, '--format', 'csv'], e);
    expect(csv.code, csv.stderr).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe('room,period_id,bet_id,seq,day,user_id,client_bet_id,kind,pick,amount,placed_at,state,payout');
    expect(lines.length - 1).toBe(count);
    const jsonl = await runFived(['export', '--what', 'bets', '--from', days.a, '--to', days.b, '--format', 'jsonl'], e);
    expect(jsonl.code, jsonl.stderr).toBe(0);
    const rows = jsonl.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((r) => r.bet_id).sort()).toEqual(acks.map((a) => a.betId).sort());
    const a = acks[0]!;
    expect(rows.find((r) => r.bet_id === a.betId)).toMatchObject({ room: ROOM, user_id: a.userId, client_bet_id: a.clientBetId, amount: a.amount });
    const periods = await runFived(['export', '--what', 'periods', '--from', days.a, '--to', days.b, '--format', 'jsonl'], e);
    const ps = periods.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const id of new Set(acks.map((x) => x.periodId))) expect(ps.some((p) => p.period_id === id && Array.isArray(p.digits))).toBe(true);
    const ledgerDays = (await db.query("SELECT to_char(min(at) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS a, to_char(max(at) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS b, count(*)::int AS n FROM ledger")).rows[0];
    const ledger = await runFived(['export', '--what', 'ledger', '--from', ledgerDays.a, '--to', ledgerDays.b, '--format', 'csv', '--out', `${pgs.dir}/ledger.csv`], e);
    expect(ledger.code, ledger.stderr).toBe(0);
    const { readFileSync } = await import('node:fs');
    const ledgerLines = readFileSync(`${pgs.dir}/ledger.csv`, 'utf8').trim().split('\n');
    expect(ledgerLines[0]).toBe('entry_id,user_id,at,kind,amount,balance,ref');
    expect(ledgerLines.length - 1).toBe(ledgerDays.n);
    const bad = await runFived(['export', '--what', 'users', '--from', days.a, '--to', days.b, '--format', 'csv'], e);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--what "users": one of periods, bets, ledger/);
  }, 60_000);
});
