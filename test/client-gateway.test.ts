// The client SDK against a real gateway: `fived all` (gateway + scheduler, in-memory
// store) with a 3 s room and a 1 s freeze, reached through a small TCP relay this test can cut to
// simulate a network outage. Needs dist/ (npm test builds it first).
import { existsSync } from 'node:fs';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connect, type FivedClient, type VerifiedResult } from '../packages/client/src/index.js';
import { ErrorCode, isFivedError } from '../src/errors.js';
import type { PeriodMsg, SettledMsg } from '../src/protocol.js';
import { startFived } from './support/fived.js';
import { freePort, waitForPort } from './support/ports.js';
import type { Proc } from './support/procs.js';

const ROOM = 'fiveD_3';
let gw: Proc | undefined;
let gwPort = 0;
let relay: Relay;
const clients: FivedClient[] = [];

/** A TCP relay to the gateway that can drop every connection and refuse new ones for a while. */
class Relay {
  readonly sockets = new Set<net.Socket>();
  server: net.Server | null = null;
  port = 0;
  constructor(readonly target: number) {}
  async up(): Promise<void> {
    this.server = net.createServer((c) => {
      const u = net.connect(this.target, '127.0.0.1');
      for (const s of [c, u]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      c.pipe(u).pipe(c);
      c.on('close', () => u.destroy());
      u.on('close', () => c.destroy());
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', () => r()));
    const a = this.server.address();
    this.port = typeof a === 'object' && a ? a.port : 0;
  }
  async down(): Promise<void> {
    const srv = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (srv) await new Promise((r) => srv.close(r));
  }
}

function open(opts: Parameters<typeof connect>[1] = {}): FivedClient {
  const c = connect(`ws://127.0.0.1:${relay.port}/ws`, { WebSocket, backoff: { initialMs: 100, maxMs: 1000 }, ...opts });
  clients.push(c);
  return c;
}

async function demoSession(): Promise<{ token: string; userId: string; balance: number }> {
  const res = await fetch(`http://127.0.0.1:${gwPort}/api/demo/session`, { method: 'POST' });
  expect(res.status).toBe(200);
  return (await res.json()) as { token: string; userId: string; balance: number };
}

/** The next period start with at least `ms` of betting left. */
async function freshPeriod(c: FivedClient, ms = 1200): Promise<PeriodMsg> {
  for (;;) {
    const p = await c.next('period', 10_000);
    if (p.room === ROOM && p.freezeAt - c.serverNow() >= ms) return p;
  }
}

function until<T>(c: FivedClient, event: 'result' | 'settled', pred: (v: never) => boolean, timeoutMs = 15_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = c.on(event, (v) => {
      if (!pred(v as never)) return;
      clearTimeout(timer);
      off();
      resolve(v as T);
    });
  });
}

beforeAll(async () => {
  if (!existsSync(new URL('../dist/cli.js', import.meta.url))) throw new Error('dist/ is missing: run `npm run build` first');
  gwPort = await freePort();
  gw = startFived('gateway', ['all'], {
    env: { ...process.env, FIVED_PORT: String(gwPort), FIVED_DURATIONS: '3', FIVED_FREEZE_MS: '1000', FIVED_DEMO: 'true', FIVED_JWT_SECRET: 'demo-test-secret-0123456789', FIVED_REDIS_URL: '', FIVED_LOG_LEVEL: 'warn' },
  });
  await waitForPort(gwPort, '127.0.0.1', 20_000);
  relay = new Relay(gwPort);
  await relay.up();
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});
afterAll(async () => {
  await relay?.down();
  await gw?.stop(8000);
});

describe('client SDK ↔ real gateway', () => {
  it('watches a room: ticks every second, results never before the end, each verified against its commitment', async () => {
    const c = open({ rooms: [ROOM] });
    const hello = await c.next('hello', 10_000);
    expect(hello.userId).toBeNull();
    expect(hello.rooms.map((r) => r.room)).toContain(ROOM);
    const ticks: number[] = [];
    c.on('tick', (t) => {
      if (t.room === ROOM) ticks.push(t.now);
    });
    const results: Array<VerifiedResult & { localAt: number }> = [];
    c.on('result', (r) => results.push({ ...r, localAt: Date.now() }));
    const p = await freshPeriod(c, 0);
    const r = await until<VerifiedResult>(c, 'result', (x: VerifiedResult) => x.periodId === p.periodId);
    expect(r.verified).toBe(true);
    expect(r.verification).toMatchObject({ commitmentOk: true, digitsOk: true, announcedOk: true });
    expect(r.commitment).toBe(p.commitment);
    expect(r.early).toBe(false);
    for (const x of results) expect(x.localAt).toBeGreaterThanOrEqual(x.endsAt); // same host, same clock
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < ticks.length; i++) expect(ticks[i]! - ticks[i - 1]!).toBe(1000);
    expect(c.lastSeen(ROOM)).toBe(p.periodId);
    const { rttMs } = await c.ping();
    expect(rttMs).toBeLessThan(1000);
  });

  it('bets with a demo token: acknowledged before the freeze, rejected after it, settled after the end', async () => {
    const s = await demoSession();
    const c = open({ token: s.token, rooms: [ROOM] });
    const hello = await c.next('hello', 10_000);
    expect(hello.userId).toBe(s.userId);
    expect(await c.balance()).toBe(s.balance);

    const p = await freshPeriod(c);
    const ack = await c.bet({ room: ROOM, kind: 'SUM', pick: 'big', amount: 100 });
    expect(ack).toMatchObject({ room: ROOM, periodId: p.periodId, kind: 'SUM', pick: 'big', amount: 100, duplicate: false, balance: s.balance - 100 });
    const again = await c.bet({ room: ROOM, kind: 'SUM', pick: 'big', amount: 100, clientBetId: ack.clientBetId });
    expect(again).toMatchObject({ betId: ack.betId, duplicate: true });
    expect((await c.myBets({ room: ROOM, periodId: p.periodId })).map((b) => b.betId)).toEqual([ack.betId]);

    const closed = await c.next('closed', 10_000);
    expect(closed.periodId).toBe(p.periodId);
    const late = await c.bet({ room: ROOM, periodId: p.periodId, kind: 'A', pick: 1, amount: 100 }).catch((e: unknown) => e);
    expect(isFivedError(late, ErrorCode.PERIOD_FROZEN)).toBe(true);
    expect(await c.balance()).toBe(s.balance - 100); // nothing credited before the end

    const settledP = until<SettledMsg>(c, 'settled', (m: SettledMsg) => m.periodId === p.periodId);
    const result = await until<VerifiedResult>(c, 'result', (x: VerifiedResult) => x.periodId === p.periodId);
    expect(result.verified).toBe(true);
    const settled = await settledP;
    expect(c.serverNow()).toBeGreaterThanOrEqual(result.endsAt);
    const won = result.sum >= 23;
    expect(settled.bets).toEqual([expect.objectContaining({ betId: ack.betId, state: won ? 'won' : 'lost', payout: won ? 196 : 0 })]);
    expect(settled.balance).toBe(s.balance - 100 + (won ? 196 : 0));
    expect(await c.balance()).toBe(settled.balance);
    // issue 14: the player's ledger, newest first: the payout (if won) after the stake
    const led = await c.ledger({ limit: 2 });
    expect(led.entries[0]).toMatchObject({ kind: won ? 'payout' : 'stake', balance: settled.balance });
    const stake = led.entries.find((e) => e.kind === 'stake')!;
    expect(stake.amount).toBe(-100);
    expect(stake.ref.endsWith(`:default:${ack.betId}`)).toBe(true); // {duration}:{timeline}:{betId}
  });

  it('anonymous bets and bad bets get coded errors; JSON frames work too', async () => {
    const c = open({ format: 'json', rooms: [ROOM] });
    await c.ready(10_000);
    const p = await freshPeriod(c, 0);
    const anon = await c.bet({ room: ROOM, periodId: p.periodId, kind: 'A', pick: 7, amount: 100 }).catch((e: unknown) => e);
    expect(isFivedError(anon, ErrorCode.UNAUTHORIZED)).toBe(true);
    const s = await demoSession();
    const c2 = open({ token: s.token, format: 'json' });
    await c2.ready(10_000);
    const bad = await c2.bet({ room: ROOM, periodId: p.periodId, kind: 'A', pick: 12, amount: 100 }).catch((e: unknown) => e);
    expect(isFivedError(bad, ErrorCode.INVALID_PICK)).toBe(true);
    const neg = await c2.bet({ room: ROOM, periodId: p.periodId, kind: 'A', pick: 1, amount: -5 }).catch((e: unknown) => e);
    expect(isFivedError(neg, ErrorCode.INVALID_AMOUNT)).toBe(true);
    expect(await c2.balance()).toBe(s.balance);
  });

  it('reconnects with backoff after an outage of two periods and recovers the missed results', async () => {
    const c = open({ rooms: [ROOM], staleAfterMs: 4000 });
    await c.ready(10_000);
    const seen = new Map<string, VerifiedResult>();
    c.on('result', (r) => seen.set(r.periodId, r));
    const recovered: VerifiedResult[] = [];
    c.on('recovery', (m) => recovered.push(...m.results));
    const first = await c.next('result', 10_000);
    const lastBefore = c.lastSeen(ROOM)!;
    expect(lastBefore).toBe(first.periodId);

    const attempts: number[] = [];
    c.on('reconnect', (r) => attempts.push(r.delayMs));
    const closeP = c.next('close', 5000);
    await relay.down();
    expect((await closeP).willReconnect).toBe(true);
    await new Promise((r) => setTimeout(r, 7000)); // two 3 s periods end while we are away
    await relay.up();
    await c.next('hello', 10_000);
    expect(attempts.length).toBeGreaterThanOrEqual(2); // refused attempts backed off
    const rec = await c.next('recovery', 10_000);
    expect(rec.room).toBe(ROOM);
    expect(recovered.length).toBeGreaterThanOrEqual(2);
    for (const r of recovered) {
      expect(r.verified).toBe(true);
      expect(r.recovered).toBe(true);
      expect(r.periodId > lastBefore).toBe(true);
    }
    // no gap: the next live result follows the recovered ones period by period
    const next = await c.next('result', 10_000);
    const ids = [first.periodId, ...recovered.map((r) => r.periodId), next.periodId];
    for (let i = 1; i < ids.length; i++) expect(BigInt(ids[i]!) - BigInt(ids[i - 1]!)).toBe(1n);
  });

  it('after an outage, a signed-in client gets a recovered settled event for its period settled while it was away, after that period\'s result', async () => {
    const s = await demoSession();
    const c = open({ token: s.token, rooms: [ROOM], staleAfterMs: 4000 });
    await c.ready(10_000);
    const order: string[] = [];
    const settled: SettledMsg[] = [];
    c.on('settled', (m) => {
      settled.push(m);
      order.push(`settled:${m.periodId}`);
    });
    c.on('recovery', (m) => order.push(...m.results.map((r) => `result:${r.periodId}`)));
    c.on('result', (r) => order.push(`result:${r.periodId}`));
    const p = await freshPeriod(c);
    const ack = await c.bet({ room: ROOM, kind: 'A', pick: 4, amount: 100 });
    expect(ack.periodId).toBe(p.periodId);
    // the network goes before the period ends, for two more periods
    const closeP = c.next('close', 5000);
    await relay.down();
    await closeP;
    await new Promise((r) => setTimeout(r, Math.max(0, p.endsAt - Date.now()) + 6500));
    await relay.up();
    const got = await until<SettledMsg>(c, 'settled', (m: SettledMsg) => m.periodId === p.periodId);
    expect(got.recovered).toBe(true);
    expect(settled.map((m) => m.periodId)).toEqual([p.periodId]); // exactly its one period
    expect(order.indexOf(`result:${p.periodId}`)).toBeGreaterThanOrEqual(0);
    expect(order.indexOf(`result:${p.periodId}`)).toBeLessThan(order.indexOf(`settled:${p.periodId}`));
    // the outcome is the store's (my_bets) and the balance the wallet's
    const mine = await c.myBets({ room: ROOM, periodId: p.periodId });
    expect(got.bets).toEqual(mine.map(({ room: _r, periodId: _p, ...b }) => b));
    expect(got.bets).toEqual([expect.objectContaining({ betId: ack.betId, state: expect.stringMatching(/^(won|lost)$/) })]);
    expect(got.more).toBe(false);
    expect(await c.balance()).toBe(got.balance);
  });
});
