// Issue 16 item 3, the protocol, against real processes: two gateway processes on one Redis, no
// scheduler, 3 s rooms with a 1 s freeze (as gateway-live.test.ts).
//  - the history of GET /api/rooms/:room/periods is exactly the per-period lookup's objects;
//  - a player whose gateway went away over several periods, reconnecting with `since`, gets a
//    `settled` (recovered) for exactly its periods settled in between, matching the store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../src/store/types.js';
import type { TestRedis } from './support/redis.js';
import { Client, credit, getJson, operator, startTwoGateways, stopTwoGateways, token, type GatewayProc, type Msg } from './support/gateway.js';

const ROOM = 'fiveD_3';
const D = 3;
let redis: TestRedis;
let gwA: GatewayProc;
let gwB: GatewayProc;
let store: Store;
const clients: Client[] = [];

beforeAll(async () => {
  ({ redis, gwA, gwB, store } = await startTwoGateways('proto'));
});

afterAll(() => stopTwoGateways({ redis, gwA, gwB, store }, clients));

const ref = (periodId: string) => ({ duration: D, timeline: 'default', periodId });

/** The current period of the room on a gateway after `after`, with a commitment and at least `ms` of betting left. */
async function bettablePeriod(gw: GatewayProc, ms = 800, after = ''): Promise<string> {
  for (;;) {
    const rooms = (await getJson(`${gw.url}/api/rooms`)).body as Array<{ periodId: string; freezeAt: number; endsAt: number; commitment: string | null }>;
    const cur = rooms[0]!;
    if (cur.periodId > after && cur.commitment !== null && cur.freezeAt - Date.now() >= ms) return cur.periodId; // not a void one
    await new Promise((r) => setTimeout(r, Math.max(20, cur.endsAt - Date.now() + 50)));
  }
}

async function operatorBet(gw: GatewayProc, userId: string, periodId: string, clientBetId: string, amount = 100): Promise<void> {
  const r = await getJson(`${gw.url}/api/bets`, operator({ userId, room: ROOM, periodId, kind: 'SUM', pick: 'big', amount, clientBetId }));
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

describe('one period object everywhere', () => {
  it('history returns, for every period it lists, exactly the object of the per-period lookup', async () => {
    // a period with bets (betCount > 0), then enough periods for a history page
    const user = `hist-${Date.now()}`;
    await credit(gwA, user, 10_000);
    const betPeriod = await bettablePeriod(gwA);
    await operatorBet(gwA, user, betPeriod, 'h1');
    await operatorBet(gwA, user, betPeriod, 'h2');
    await expect.poll(() => store.isSettled(ref(betPeriod)), { timeout: 15_000, interval: 200 }).toBe(true);
    // a few more periods in the history
    await expect.poll(async () => ((await getJson(`${gwB.url}/api/rooms/${ROOM}/periods?limit=100`)).body as unknown[]).length, { timeout: 20_000, interval: 500 }).toBeGreaterThanOrEqual(5);

    // a period's object changes while it settles (status resulted → settled): compare only the
    // periods whose history item did not change between two history reads around the lookups
    let compared = 0;
    for (let attempt = 0; attempt < 5 && compared < 3; attempt++) {
      const h1 = (await getJson(`${gwB.url}/api/rooms/${ROOM}/periods?limit=100`)).body as Array<Record<string, unknown>>;
      const lookups = await Promise.all(h1.map(async (h) => (await getJson(`${gwB.url}/api/rooms/${ROOM}/periods/${h.periodId as string}`)).body as Record<string, unknown>));
      const h2 = (await getJson(`${gwB.url}/api/rooms/${ROOM}/periods?limit=100`)).body as Array<Record<string, unknown>>;
      const later = new Map(h2.map((h) => [h.periodId as string, h]));
      compared = 0;
      h1.forEach((h, i) => {
        if (JSON.stringify(later.get(h.periodId as string)) !== JSON.stringify(h)) return;
        expect(lookups[i]).toEqual(h);
        compared++;
      });
    }
    expect(compared).toBeGreaterThanOrEqual(3);

    const history = (await getJson(`${gwB.url}/api/rooms/${ROOM}/periods?limit=100`)).body as Array<Record<string, unknown>>;
    // newest first, every one with the lookup's fields, none of the operator's
    for (let i = 1; i < history.length; i++) expect((history[i - 1]!.periodId as string) > (history[i]!.periodId as string)).toBe(true);
    for (const h of history) {
      expect(Object.keys(h).sort()).toEqual(['betCount', 'commitment', 'endsAt', 'freezeAt', 'periodId', 'result', 'room', 'settled', 'startsAt', 'status', 'void', 'voidReason']);
      expect(['resulted', 'settled']).toContain(h.status);
    }
    const withBets = history.find((h) => h.periodId === betPeriod)!;
    expect(withBets).toMatchObject({ status: 'settled', settled: true, betCount: 2, void: false, voidReason: null });
    const rec = await store.getPeriod(ref(betPeriod));
    expect(withBets.result).toEqual({ digits: rec.result!.digits, sum: rec.result!.sum, seed: rec.result!.seed });
    // the lookup's status for a settled period is `settled` in both
    expect((await getJson(`${gwA.url}/api/rooms/${ROOM}/periods/${betPeriod}`)).body).toEqual(withBets);
  }, 60_000);
});

describe('settled after a reconnect', () => {
  it('a player whose gateway was killed over several periods gets, on reconnecting with since, a settled for exactly its periods settled in between', async () => {
    const user = `rec-${Date.now()}`;
    await credit(gwB, user, 100_000);
    const c = await Client.connect(gwA.port, { token: await token(user) });
    clients.push(c);
    await c.next((m) => m.type === 'hello');
    c.send({ type: 'subscribe', rooms: [ROOM] });
    await c.next((m) => m.type === 'subscribed');

    // P0: bet live, see its result and its live settled: `since` will be P0
    const p0 = await bettablePeriod(gwA, 1200);
    const ack0 = await c.request({ type: 'bet', room: ROOM, periodId: p0, kind: 'A', pick: 3, amount: 100, clientBetId: 'p0' });
    expect(ack0.type).toBe('bet_ack');
    await c.next((m) => m.type === 'result' && m.periodId === p0, 10_000);
    await c.next((m) => m.type === 'settled' && m.periodId === p0, 10_000);
    const live = c.of('settled').find((r) => r.msg.periodId === p0)!.msg;
    expect(live.recovered).toBeUndefined();

    // P1: bet through gateway A, then A is killed (SIGKILL) before P1 ends
    const p1 = await bettablePeriod(gwA, 600, p0);
    const ack1 = await c.request({ type: 'bet', room: ROOM, periodId: p1, kind: 'SUM', pick: 'small', amount: 200, clientBetId: 'p1' });
    expect(ack1.type).toBe('bet_ack');
    process.kill(gwA.pid, 'SIGKILL');
    await gwA.exited;
    await c.closed;

    // while away: bets in two later periods through gateway B (the platform's server), and one
    // period without a bet; two bets in P3
    const p2 = await bettablePeriod(gwB, 800, p1);
    expect(p2 > p1).toBe(true);
    await operatorBet(gwB, user, p2, 'p2');
    const p3 = await bettablePeriod(gwB, 800, p2);
    expect(p3 > p2).toBe(true);
    await operatorBet(gwB, user, p3, 'p3a', 300);
    await operatorBet(gwB, user, p3, 'p3b', 400);
    const noBet = await bettablePeriod(gwB, 0, p3);
    expect(noBet > p3).toBe(true);
    for (const p of [p1, p2, p3]) await expect.poll(() => store.isSettled(ref(p)), { timeout: 15_000, interval: 200 }).toBe(true);
    // wait for the period without a bet to end too
    const noBetEnds = Number((await getJson(`${gwB.url}/api/rooms/${ROOM}/periods/${noBet}`)).body.endsAt);
    await new Promise((r) => setTimeout(r, Math.max(0, noBetEnds - Date.now() + 200)));
    const away = Number(BigInt(noBet) - BigInt(p0));
    expect(away).toBeGreaterThanOrEqual(4);

    // reconnect (to the surviving gateway) with since = P0
    const c2 = await Client.connect(gwB.port, { token: await token(user) });
    clients.push(c2);
    await c2.next((m) => m.type === 'hello');
    c2.send({ type: 'subscribe', rooms: [ROOM], since: { [ROOM]: p0 } });
    const recovery = await c2.next((m) => m.type === 'recovery', 10_000);
    const recoveredIds = (recovery.results as Msg[]).map((r) => r.periodId as string);
    for (const p of [p1, p2, p3, noBet]) expect(recoveredIds).toContain(p);
    await c2.next((m) => m.type === 'settled' && m.periodId === p3, 10_000);
    // every recovered settled of the batch was written before the pong is: nothing is missed below
    expect((await c2.request({ type: 'ping' })).type).toBe('pong');

    const settled = c2.of('settled').map((r) => r.msg).filter((m) => m.recovered === true);
    expect(settled.map((m) => m.periodId)).toEqual([p1, p2, p3]); // exactly its periods, oldest first, none for P0 or noBet
    // after the recovery (its results first)
    const recoveryIndex = c2.received.findIndex((r) => r.msg.type === 'recovery');
    expect(c2.received.findIndex((r) => r.msg.type === 'settled')).toBeGreaterThan(recoveryIndex);
    const balance = await store.balance(user);
    for (const m of settled) {
      const stored = await store.userBets(user, ref(m.periodId as string), 200);
      expect(stored.length).toBeGreaterThan(0);
      expect(m).toEqual({
        type: 'settled', room: ROOM, periodId: m.periodId, recovered: true, more: false, balance,
        bets: stored.map((b) => ({ betId: b.betId, clientBetId: b.clientBetId, kind: b.kind, pick: b.pick, amount: b.amount, payout: b.payout, state: b.state })),
      });
      for (const b of m.bets as Array<{ state: string }>) expect(['won', 'lost']).toContain(b.state);
    }
    expect((settled.find((m) => m.periodId === p3)!.bets as unknown[]).length).toBe(2);
    // the live settled of P0 is not sent again; an anonymous reconnect gets results only
    const anon = await Client.connect(gwB.port);
    clients.push(anon);
    await anon.next((m) => m.type === 'hello');
    anon.send({ type: 'subscribe', rooms: [ROOM], since: { [ROOM]: p0 } });
    await anon.next((m) => m.type === 'recovery', 10_000);
    expect((await anon.request({ type: 'ping' })).type).toBe('pong');
    expect(anon.of('settled')).toEqual([]);
  }, 90_000);
});
