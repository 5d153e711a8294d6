// Issue 12 rows 2 and 12: every read path obeys the one gate of the WebSocket result, and public
// responses carry nothing internal. A scheduler (true clock), a gateway whose clock runs 200 ms
// ahead (still ready) and one whose clock runs 200 ms behind (still ready), on a Redis of the
// test's own. The test process's clock is the store's (same host): "before the end" is judged by it.
// And bets by the store's clock: a bet's ack (it carries the balance) waits for the same gate, the
// gateway ahead takes bets until the store's freeze, and a retry after the freeze gets its first ack.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, testPrefix, type TestRedis } from './support/redis.js';
import { isAcquired, spawnScheduler, type SchedulerProc } from './support/scheduler.js';
import { Client, credit, gatewayEnv, getJson, operator, startGatewayProc, token, type GatewayProc, type JsonBody, type Msg } from './support/gateway.js';

const ROOM = 'fiveD_3';
/** a second room, betting while the 3 s room ends (bets whose acks carry the balance) */
const LONG = 'fiveD_30';
let redis: TestRedis;
let sched: SchedulerProc;
let ahead: GatewayProc;
let behind: GatewayProc;
const clients: Client[] = [];

beforeAll(async () => {
  redis = await startRedis();
  const env = gatewayEnv(redis.url, testPrefix('gate'), { FIVED_DURATIONS: '3,30' });
  sched = spawnScheduler('sched-gate', env);
  await sched.waitFor(isAcquired, 15_000, 'the lease');
  [ahead, behind] = await Promise.all([
    startGatewayProc({ ...env, FIVED_CLOCK_OFFSET_MS: '200' }),
    startGatewayProc({ ...env, FIVED_CLOCK_OFFSET_MS: '-200' }),
  ]);
  // both are ready: the offsets are within FIVED_MAX_CLOCK_SKEW_MS (250 by default)
  for (const g of [ahead, behind]) expect((await getJson(`${g.url}/ready`)).status).toBe(200);
}, 40_000);

afterAll(async () => {
  for (const c of clients) c.terminate();
  await Promise.all([ahead?.stop(), behind?.stop()]);
  await sched?.stop();
  await redis?.stop();
});

interface Seen { at: number; body: JsonBody }

describe('one gate for every read path (row 2)', () => {
  it('nothing of a period reaches anyone before its end: HTTP lookup and history, my_bets, balance, settled after result', async () => {
    const watcher = await Client.connect(ahead.port, { format: 'text' });
    clients.push(watcher);
    await watcher.next((m) => m.type === 'hello');
    watcher.send({ type: 'subscribe', rooms: [ROOM] });

    const user = 'gate-bettor';
    await credit(behind, user, 1000);
    const player = await Client.connect(behind.port, { token: await token(user), format: 'text' });
    clients.push(player);
    await player.next((m) => m.type === 'hello');
    player.send({ type: 'subscribe', rooms: [ROOM] });
    // issue 14: the player's ledger, on a socket of its own (the per-socket message rate)
    const ledgerSock = await Client.connect(behind.port, { token: await token(user), format: 'text' });
    clients.push(ledgerSock);
    await ledgerSock.next((m) => m.type === 'hello');
    ledgerSock.send({ type: 'subscribe', rooms: [ROOM] });
    // a period as the gateway that takes the bets sees it start
    const period = await player.next((m) => m.type === 'period', 8000);
    const periodId = period.periodId as string;
    const endsAt = period.endsAt as number;
    // every digit of A: one of the ten bets wins for sure, so the balance changes at the settlement
    for (let d = 0; d <= 9; d++) {
      const ack = await player.request({ type: 'bet', room: ROOM, periodId, kind: 'A', pick: d, amount: 10, clientBetId: `g${d}` });
      expect(ack.type, JSON.stringify(ack)).toBe('bet_ack');
    }
    const debited = 1000 - 100;

    // poll every read path from well before the end to well after it
    const lookups: Seen[] = [];
    const histories: Seen[] = [];
    let i = 0;
    const stopAt = endsAt + 900;
    const httpPoll = (async () => {
      while (Date.now() < stopAt) {
        const [a, h] = await Promise.all([getJson(`${ahead.url}/api/rooms/${ROOM}/periods/${periodId}`), getJson(`${ahead.url}/api/rooms/${ROOM}/periods?limit=5`)]);
        const at = Date.now();
        lookups.push({ at, body: a.body });
        histories.push({ at, body: h.body });
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const wsPoll = (async () => {
      while (Date.now() < stopAt) {
        player.send({ type: 'my_bets', id: `mb${i}`, room: ROOM, periodId });
        player.send({ type: 'balance', id: `bal${i}` });

        i++;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const ledgerSent: number[] = [];
    const ledgerPoll = (async () => {
      for (let j = 0; Date.now() < stopAt; j++) {
        ledgerSent.push(Date.now());
        ledgerSock.send({ type: 'ledger', id: `lg${j}`, limit: 5 });
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    await Promise.all([httpPoll, wsPoll, ledgerPoll]);
    const settled = await player.next((m) => m.type === 'settled' && m.periodId === periodId, 8000);

    // HTTP on the gateway 200 ms ahead: no result, seed, settled state before the end
    const early = lookups.filter((l) => l.at < endsAt);
    expect(early.length).toBeGreaterThan(10);
    for (const l of early) {
      expect(l.body.result, `result served ${endsAt - l.at} ms before the end`).toBeNull();
      expect(l.body.settled).toBe(false);
      expect(['open', 'frozen']).toContain(l.body.status);
    }
    expect(lookups.some((l) => l.body.result !== null)).toBe(true); // it is served after the end
    for (const h of histories) {
      if (h.at < endsAt) expect((h.body as Array<{ periodId: string }>).map((e) => e.periodId)).not.toContain(periodId);
    }
    // row 12: the public lookup carries no tracking
    for (const l of lookups) expect(l.body).not.toHaveProperty('tracking');

    // the WebSocket results: never before the end on either gateway
    const rAhead = await watcher.next((m) => m.type === 'result' && m.periodId === periodId);
    const rBehind = await player.next((m) => m.type === 'result' && m.periodId === periodId);
    const atOf = (c: Client, m: Msg) => c.received.find((r) => r.msg === m)!.at;
    expect(atOf(watcher, rAhead)).toBeGreaterThanOrEqual(endsAt);
    const resultAt = atOf(player, rBehind);
    expect(resultAt).toBeGreaterThanOrEqual(endsAt);

    // the gateway 200 ms behind: its result goes out ~200 ms after the store's end, while the
    // scheduler settles at the end. Until that gateway has sent the result, my_bets shows no
    // outcome, the balance no payout, and no settled notice is sent.
    const settledAt = atOf(player, settled);
    expect(settledAt).toBeGreaterThanOrEqual(resultAt);
    expect(player.received.findIndex((r) => r.msg === settled)).toBeGreaterThan(player.received.findIndex((r) => r.msg === rBehind));
    const beforeResult = player.received.slice(0, player.received.findIndex((r) => r.msg === rBehind));
    const myBets = beforeResult.filter((r) => r.msg.type === 'my_bets');
    const balances = beforeResult.filter((r) => r.msg.type === 'balance');
    expect(myBets.length).toBeGreaterThan(5);
    expect(balances.length).toBeGreaterThan(5);
    for (const r of myBets) for (const b of r.msg.bets as Array<{ state: string; payout: number }>) expect(b).toMatchObject({ state: 'pending', payout: 0 });
    for (const r of balances) expect(r.msg.balance).toBe(debited);
    // the ledger: no payout entry before the result, the stakes there; after the settlement, the payout
    const lResult = await ledgerSock.next((m) => m.type === 'result' && m.periodId === periodId);
    const lAll = ledgerSock.received.slice(0, ledgerSock.received.findIndex((r) => r.msg === lResult));
    const ledgers = lAll.filter((r) => r.msg.type === 'ledger');
    expect(ledgers.length).toBeGreaterThan(5);
    expect(ledgerSent.filter((t) => t >= endsAt && t < endsAt + 150).length).toBeGreaterThan(2); // asked while the store had the payout
    expect(lAll.filter((r) => r.msg.type === 'error')).toEqual([]);
    for (const r of ledgers) {
      const entries = r.msg.entries as Array<{ kind: string; balance: number }>;
      expect(entries.map((e) => e.kind)).not.toContain('payout');
      expect(entries[0]!.balance).toBe(debited);
    }
    // and after it, the outcome and the payout are there
    const outcomes = settled.bets as Array<{ state: string; payout: number }>;
    expect(outcomes.filter((b) => b.state === 'won')).toHaveLength(1);
    expect(settled.balance).toBe(debited + outcomes.reduce((a, b) => a + b.payout, 0));
    const after = await player.request({ type: 'ledger', limit: 1 });
    expect(after.entries).toEqual([expect.objectContaining({ kind: 'payout', amount: outcomes.reduce((a, b) => a + b.payout, 0), balance: settled.balance, ref: `3:default:${periodId}` })]);
  }, 40_000);
});

const sleepUntil = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));

async function playerOn(gw: GatewayProc, user: string, rooms: string[]): Promise<Client> {
  await credit(gw, user, 1000);
  const c = await Client.connect(gw.port, { token: await token(user), format: 'text' });
  clients.push(c);
  await c.next((m) => m.type === 'hello');
  c.send({ type: 'subscribe', rooms });
  return c;
}

describe('bets by the store\'s clock, acks behind the gate', () => {
  it('a bet_ack shows no payout before this gateway sent the result, though the store has it (gateway 200 ms behind)', async () => {
    const p = await playerOn(behind, 'gate-acker', [ROOM, LONG]);
    // a 3 s period that does not end on a 30 s boundary (the long room's last second is frozen)
    const period = await p.next((m) => m.type === 'period' && m.room === ROOM && (m.endsAt as number) % 30_000 !== 0 && (m.freezeAt as number) - Date.now() > 600, 12_000, 0);
    const periodId = period.periodId as string;
    const endsAt = period.endsAt as number;
    for (let d = 0; d <= 9; d++) {
      const ack = await p.request({ type: 'bet', room: ROOM, periodId, kind: 'A', pick: d, amount: 10, clientBetId: `g${d}` });
      expect(ack.type, JSON.stringify(ack)).toBe('bet_ack'); // one of the ten wins
    }
    const debited = 900;
    const tick = await p.next((m) => m.type === 'tick' && m.room === LONG, 3000, p.received.length);
    const longPeriod = tick.periodId as string;
    // bets on the long room from just before the end until the behind gateway's result is due
    await sleepUntil(endsAt - 40);
    const sent: number[] = [];
    for (let k = 0; k < 8; k++) {
      sent.push(Date.now());
      p.send({ type: 'bet', id: `L${k}`, room: LONG, periodId: longPeriod, kind: 'B', pick: 'odd', amount: 2, clientBetId: `L${k}` });
      await new Promise((r) => setTimeout(r, 40));
    }
    const acks = await Promise.all(sent.map((_, k) => p.next((m) => m.id === `L${k}`, 5000, 0)));
    for (const a of acks) expect(a.type, JSON.stringify(a)).toBe('bet_ack');
    const result = await p.next((m) => m.type === 'result' && m.periodId === periodId, 5000, 0);
    const settled = await p.next((m) => m.type === 'settled' && m.periodId === periodId, 8000, 0);
    const idx = (m: Msg) => p.received.findIndex((r) => r.msg === m);
    // bets were sent while the store had the payout and this gateway had not sent the result
    expect(sent.filter((t) => t >= endsAt + 20 && t < endsAt + 180).length).toBeGreaterThanOrEqual(3);
    for (const a of acks) {
      if (idx(a) < idx(result)) expect(a.balance as number, `ack ${String(a.id)} before the result frame`).toBeLessThanOrEqual(debited);
    }
    // and after the result the payout shows in an ack
    const later = await p.request({ type: 'bet', room: LONG, periodId: longPeriod, kind: 'B', pick: 'even', amount: 2, clientBetId: 'L-after' });
    const payout = (settled.bets as Array<{ payout: number }>).reduce((a, b) => a + b.payout, 0);
    expect(payout).toBeGreaterThan(0);
    expect(later).toMatchObject({ type: 'bet_ack', balance: debited - 2 * (acks.length + 1) + payout });
  }, 40_000);

  it('the gateway 200 ms ahead takes bets until the store\'s freeze; a retry after it gets the first ack, a new bet is refused', async () => {
    const p = await playerOn(ahead, 'gate-late', [ROOM]);
    const period = await p.next((m) => m.type === 'period' && m.room === ROOM && (m.freezeAt as number) - Date.now() > 600, 12_000, 0);
    const periodId = period.periodId as string;
    const bet = (id: string, pid = periodId) => p.request({ type: 'bet', room: ROOM, periodId: pid, kind: 'C', pick: 'big', amount: 10, clientBetId: id });
    // 150 ms before the freeze by the store's clock: 50 ms after it by the ahead gateway's own
    await sleepUntil((period.freezeAt as number) - 150);
    const ack = await bet('late1');
    expect(ack, JSON.stringify(ack)).toMatchObject({ type: 'bet_ack', duplicate: false });
    await sleepUntil((period.freezeAt as number) + 100);
    expect(await bet('late1')).toMatchObject({ type: 'bet_ack', duplicate: true, betId: ack.betId, balance: ack.balance });
    expect(await bet('late2')).toMatchObject({ type: 'error', code: 'E_PERIOD_FROZEN' });
    expect((await p.request({ type: 'balance' })).balance).toBe(ack.balance); // the refusal changed nothing
    // after the end (the gateway is in the next period): the retry still gets its ack
    await sleepUntil((period.endsAt as number) + 100);
    expect(await bet('late1')).toMatchObject({ type: 'bet_ack', duplicate: true, betId: ack.betId });
    expect(await bet('late3')).toMatchObject({ type: 'error', code: 'E_PERIOD_CLOSED' });
    // a period takes bets from its `period` frame on, though this clock is 200 ms ahead of the store's
    const next = await p.next((m) => m.type === 'period' && (m.startsAt as number) > (period.startsAt as number), 5000, 0);
    expect(await bet('early1', next.periodId as string)).toMatchObject({ type: 'bet_ack', duplicate: false });
  }, 30_000);
});

describe('public responses carry what players need, nothing more (row 12)', () => {
  it('no tracking or instance on the public API; tracking on the operator lookup only', async () => {
    const c = await Client.connect(ahead.port);
    clients.push(c);
    expect(await c.next((m) => m.type === 'hello')).not.toHaveProperty('instance');
    const history = await getJson(`${ahead.url}/api/rooms/${ROOM}/periods?limit=5`);
    expect(history.status).toBe(200);
    const last = (history.body as Array<Record<string, unknown>>)[0]!;
    expect(last).toBeDefined();
    const periodId = last.periodId as string;
    const pub = await getJson(`${ahead.url}/api/rooms/${ROOM}/periods/${periodId}`);
    expect(pub.status).toBe(200);
    expect(pub.body.result).not.toBeNull();
    for (const body of [pub.body, last, ...(await getJson(`${ahead.url}/api/rooms`)).body]) {
      expect(body).not.toHaveProperty('tracking');
      expect(JSON.stringify(body)).not.toMatch(/instance|maxLiability|totalStake|"pid"|"host"|epoch/);
    }
    // the operator variant carries tracking (who computed it, stakes, liability); it needs the token
    const op = await getJson(`${ahead.url}/api/rooms/${ROOM}/periods/${periodId}/tracking`, operator(undefined, 'GET'));
    expect(op.status).toBe(200);
    expect(op.body.tracking).toMatchObject({ source: 'scheduler', instance: 'sched-gate' });
    expect(op.body.result).toEqual(pub.body.result);
    expect((await getJson(`${ahead.url}/api/rooms/${ROOM}/periods/${periodId}/tracking`)).status).toBe(401);
  }, 20_000);
});
