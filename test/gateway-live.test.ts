// Two gateway processes on one Redis, no scheduler, 3 s rooms with a 1 s freeze: ticks every
// second on both, the same verifiable result for every period never before its end, commitments
// and fallbacks from the gateways alone, one settlement, bets with outcomes, recovery.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drawMessage, verifyDraw } from '../src/core/draw.js';
import { netStake, multiplierOf, patternIndex, patternWins } from '../src/core/rules.js';
import { DEFAULT_PAYTABLE } from '../src/core/types.js';
import type { Store } from '../src/store/types.js';
import type { TestRedis } from './support/redis.js';
import { Client, credit, startTwoGateways, stopTwoGateways, token, type GatewayProc, type Msg } from './support/gateway.js';

const ROOM = 'fiveD_3';
let redis: TestRedis;
let gwA: GatewayProc;
let gwB: GatewayProc;
let store: Store;
const clients: Client[] = [];

beforeAll(async () => {
  ({ redis, gwA, gwB, store } = await startTwoGateways('gwlive'));
});

afterAll(() => stopTwoGateways({ redis, gwA, gwB, store }, clients));

async function watcher(gw: GatewayProc, format: 'binary' | 'text' = 'binary', tok?: string): Promise<Client> {
  const c = await Client.connect(gw.port, { format, ...(tok ? { token: tok } : {}) });
  clients.push(c);
  await c.next((m) => m.type === 'hello');
  c.send({ type: 'subscribe', rooms: [ROOM] });
  await c.next((m) => m.type === 'subscribed');
  return c;
}

function results(c: Client): Array<{ msg: Msg; at: number }> {
  return c.of('result');
}

describe('two gateways, no scheduler', () => {
  it('deliver ticks every second and the same verifiable result for every period, never before its end', async () => {
    const a = await watcher(gwA, 'binary');
    const b = await watcher(gwB, 'text');
    // three period ends after subscribing
    for (let i = 0; i < 3; i++) {
      await a.next((m) => m.type === 'result' && results(a).length >= i + 1, 12_000);
      await b.next((m) => m.type === 'result' && results(b).length >= i + 1, 12_000);
    }
    const ra = results(a);
    const rb = results(b);
    const periodsA = new Map(a.of('period').map((r) => [r.msg.periodId as string, r.msg]));
    const byIdB = new Map(rb.map((r) => [r.msg.periodId as string, r]));
    let compared = 0;
    for (const { msg, at } of ra) {
      const id = msg.periodId as string;
      const endsAt = msg.endsAt as number;
      expect(at).toBeGreaterThanOrEqual(endsAt); // never before the end (same machine clock)
      expect(at - endsAt).toBeLessThan(1000);
      const v = verifyDraw(msg.seed as string, msg.commitment as string, drawMessage({ duration: 3, timeline: 'default', periodId: id }));
      expect(v.commitmentOk).toBe(true);
      expect(v.digits).toEqual(msg.digits);
      expect(v.sum).toBe(msg.sum);
      // the commitment announced at the period's start is the one revealed
      const announced = periodsA.get(id);
      if (announced) expect(announced.commitment).toBe(msg.commitment);
      const other = byIdB.get(id);
      if (other) {
        expect(other.at).toBeGreaterThanOrEqual(endsAt);
        expect({ digits: other.msg.digits, seed: other.msg.seed, commitment: other.msg.commitment }).toEqual({ digits: msg.digits, seed: msg.seed, commitment: msg.commitment });
        compared++;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(2);
    // results first, also for a result derived at the end (no scheduler): the boundary's tick waits
    // for it (at most BOUNDARY_HOLD_MAX_MS, 100 ms) — checked where it came within that bound
    let ordered = 0;
    for (const { msg, at } of ra) {
      const tick = a.received.find((r) => r.msg.type === 'tick' && r.msg.now === msg.endsAt);
      if (!tick || at - (msg.endsAt as number) >= 90) continue;
      expect(a.received.findIndex((r) => r.msg === tick.msg)).toBeGreaterThan(a.received.findIndex((r) => r.msg === msg));
      ordered++;
    }
    expect(ordered).toBeGreaterThanOrEqual(1);
    // ticks: one per second boundary, published within a few ms of it
    for (const c of [a, b]) {
      const ticks = c.of('tick');
      expect(ticks.length).toBeGreaterThanOrEqual(6);
      for (let i = 1; i < ticks.length; i++) expect((ticks[i]!.msg.now as number) - (ticks[i - 1]!.msg.now as number)).toBe(1000);
      for (const t of ticks) {
        expect(t.at).toBeGreaterThanOrEqual(t.msg.now as number);
        expect(t.at - (t.msg.now as number)).toBeLessThan(250); // generous: the tight bound is a benchmark
        expect(t.msg.phase).toBe((t.msg.remainingMs as number) > 1000 ? 'betting' : 'frozen');
      }
    }
    // both gateways fell back (no scheduler) and the store kept one result and one settlement each
    const first = ra[0]!.msg;
    const ref = { duration: 3, timeline: 'default', periodId: first.periodId as string };
    const rec = await store.getPeriod(ref);
    expect(rec.result?.seed).toBe(first.seed);
    expect(rec.result?.tracking.source).toBe('gateway');
    await expect.poll(() => store.isSettled(ref), { timeout: 5000 }).toBe(true);
    const settleLines = (gwA.output() + gwB.output()).split('\n').filter((l) => l.includes('"tag":"5D_SETTLE"') && l.includes(`"periodId":"${first.periodId}"`) && l.includes('"applied":true'));
    expect(settleLines.length).toBe(1);
  }, 40_000);

  it('serves the period over HTTP: result null until the end, then exactly {digits,sum,seed}', async () => {
    const rooms = await (await fetch(`${gwA.url}/api/rooms`)).json() as Array<Record<string, unknown>>;
    expect(rooms).toHaveLength(1);
    const cur = rooms[0]!;
    expect(cur.room).toBe(ROOM);
    expect(cur.periodId).toMatch(/^\d{17}$/);
    const before = await (await fetch(`${gwB.url}/api/rooms/${ROOM}/periods/${cur.periodId}`)).json() as Record<string, unknown>;
    expect(before.result).toBeNull();
    expect(before.commitment).toBe(cur.commitment);
    const wait = (cur.endsAt as number) - Date.now() + 300;
    await new Promise((r) => setTimeout(r, Math.max(0, wait)));
    const after = await (await fetch(`${gwB.url}/api/rooms/${ROOM}/periods/${cur.periodId}`)).json() as Record<string, unknown>;
    expect(Object.keys(after.result as object).sort()).toEqual(['digits', 'seed', 'sum']);
    const res = after.result as { digits: number[]; sum: number; seed: string };
    expect(verifyDraw(res.seed, cur.commitment as string, drawMessage({ duration: 3, timeline: 'default', periodId: cur.periodId as string })).digits).toEqual(res.digits);
    const history = await (await fetch(`${gwA.url}/api/rooms/${ROOM}/periods?limit=3`)).json() as Array<Record<string, unknown>>;
    expect(history.length).toBeGreaterThanOrEqual(1);
    for (let i = 1; i < history.length; i++) expect((history[i - 1]!.periodId as string) > (history[i]!.periodId as string)).toBe(true);
    // a limit is plain digits: what Number() would also read (hex, exponent, spaces, a sign) is refused
    for (const q of ['0x10', '1e1', '%205', '+5', '5.0', '0', '101']) {
      const bad = await fetch(`${gwA.url}/api/rooms/${ROOM}/periods?limit=${q}`);
      expect(bad.status, q).toBe(400);
      expect(((await bad.json()) as { code: string }).code).toBe('E_BAD_REQUEST');
    }
    expect((await fetch(`${gwA.url}/api/rooms/fiveD_7/periods/${cur.periodId}`)).status).toBe(404);
    expect((await fetch(`${gwA.url}/api/rooms/${ROOM}/periods/20000101000000001`)).status).toBe(404);
    expect((await fetch(`${gwA.url}/nope`)).status).toBe(404);
    expect((await fetch(`${gwA.url}/api/time`, { method: 'POST' })).status).toBe(405);
    const time = await (await fetch(`${gwA.url}/api/time`)).json() as { now: number };
    expect(Math.abs(time.now - Date.now())).toBeLessThan(1000);
  }, 20_000);

  it('accepts a bet before the freeze, refuses one after, keeps the balance until the end, then settles it', async () => {
    const user = `bettor-${Date.now()}`;
    await credit(gwA, user, 10_000);
    const c = await watcher(gwA, 'binary', await token(user));
    // a fresh period with most of its betting window left
    const from = c.received.length;
    const period = await c.next((m) => m.type === 'period', 8000, from);
    const periodId = period.periodId as string;
    const ack = await c.request({ type: 'bet', room: ROOM, periodId, kind: 'SUM', pick: 'big', amount: 100, clientBetId: 'b1' });
    expect(ack.type).toBe('bet_ack');
    expect(ack.balance).toBe(9900);
    expect(ack.duplicate).toBe(false);
    // the same client bet id again: the first acknowledgement, not a second debit
    const again = await c.request({ type: 'bet', room: ROOM, periodId, kind: 'SUM', pick: 'big', amount: 100, clientBetId: 'b1' });
    expect(again.type).toBe('bet_ack');
    expect(again.duplicate).toBe(true);
    await c.next((m) => m.type === 'closed' && m.periodId === periodId, 5000);
    const late = await c.request({ type: 'bet', room: ROOM, periodId, kind: 'A', pick: 7, amount: 100, clientBetId: 'b2' });
    expect(late.type).toBe('error');
    expect(late.code).toBe('E_PERIOD_FROZEN');
    const mid = await c.request({ type: 'balance' });
    expect(mid.balance).toBe(9900); // nothing revealed between the freeze and the end
    const result = await c.next((m) => m.type === 'result' && m.periodId === periodId, 5000);
    const settled = await c.next((m) => m.type === 'settled' && m.periodId === periodId, 8000);
    const received = c.received.find((r) => r.msg === settled)!;
    expect(received.at).toBeGreaterThanOrEqual(period.endsAt as number);
    const digits = result.digits as number[];
    const wins = patternWins(patternIndex('SUM', 'big'), digits, result.sum as number);
    const payout = wins ? netStake(100, DEFAULT_PAYTABLE.feeBps) * multiplierOf(patternIndex('SUM', 'big'), DEFAULT_PAYTABLE) : 0;
    const bets = settled.bets as Array<Record<string, unknown>>;
    expect(bets).toHaveLength(1);
    expect(bets[0]).toMatchObject({ clientBetId: 'b1', state: wins ? 'won' : 'lost', payout });
    expect(settled.more).toBe(false);
    expect(settled.balance).toBe(9900 + payout);
    expect((await c.request({ type: 'balance' })).balance).toBe(9900 + payout);
    const mine = await c.request({ type: 'my_bets', room: ROOM, periodId });
    expect((mine.bets as unknown[]).length).toBe(1);
  }, 30_000);

  it('a settled notice carries at most 100 outcomes and says when the player has more', async () => {
    // a heavy bettor: one bet through the gateway (it tells its own bettors), 120 more straight into the store
    const user = `heavy-${Date.now()}`;
    await credit(gwA, user, 1_000_000);
    const c = await watcher(gwA, 'binary', await token(user));
    const from = c.received.length;
    const period = await c.next((m) => m.type === 'period', 8000, from);
    const periodId = period.periodId as string;
    expect((await c.request({ type: 'bet', room: ROOM, periodId, kind: 'A', pick: 1, amount: 10, clientBetId: 'h0' })).type).toBe('bet_ack');
    const w = { duration: 3, timeline: 'default', periodId, startsAt: period.startsAt as number, freezeAt: period.freezeAt as number, endsAt: period.endsAt as number };
    const limits = { minStake: 2, maxStake: 1_000_000, maxUserStakePerPeriod: 5_000_000, maxLiability: 0, maxBetsPerUserPerPeriod: 0 };
    await Promise.all(Array.from({ length: 120 }, (_, i) => store.placeBet({ period: w, userId: user, clientBetId: `h${i + 1}`, kind: 'B', pick: i % 10, amount: 10 }, limits, DEFAULT_PAYTABLE, Date.now())));
    const settled = await c.next((m) => m.type === 'settled' && m.periodId === periodId, 10_000);
    expect((settled.bets as unknown[]).length).toBe(100);
    expect(settled.more).toBe(true);
    // the rest is there to page through
    expect(((await c.request({ type: 'my_bets', room: ROOM, periodId, limit: 200 })).bets as unknown[]).length).toBe(121);
  }, 30_000);

  it('recovers the results a client missed while away for two periods', async () => {
    const stay = await watcher(gwB, 'text');
    const away = await watcher(gwA, 'binary');
    const last = await away.next((m) => m.type === 'result', 8000);
    away.close();
    await away.closed;
    const fromStay = stay.received.length;
    const seen: Msg[] = [];
    while (seen.length < 2) seen.push(await stay.next((m) => m.type === 'result' && !seen.includes(m) && (m.periodId as string) > (last.periodId as string), 8000, fromStay));
    const back = await Client.connect(gwA.port);
    clients.push(back);
    back.send({ type: 'subscribe', rooms: [ROOM], since: { [ROOM]: last.periodId } });
    const rec = await back.next((m) => m.type === 'recovery', 5000);
    const got = rec.results as Array<Record<string, unknown>>;
    for (const missed of seen) {
      const r = got.find((x) => x.periodId === missed.periodId);
      expect(r, `missed period ${missed.periodId as string} recovered`).toBeDefined();
      expect(r!.digits).toEqual(missed.digits);
      expect(r!.seed).toBe(missed.seed);
    }
    expect(got.every((x) => (x.periodId as string) > (last.periodId as string) && (x.endsAt as number) <= Date.now())).toBe(true);
  }, 30_000);
});
