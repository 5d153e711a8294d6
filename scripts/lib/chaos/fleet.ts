// The client fleet of the chaos run: players that watch and bet through HAProxy, retry the SAME
// client bet id after a timeout or a dropped connection, and record everything the checker needs
// (every attempt, every acknowledgement, every result/void/settled message with its arrival time
// on this process's clock, which is the true clock: only one gateway's clock is offset).
// Also: balance samplers (a fresh user per period who bets SUM big + SUM small, so exactly one of
// the two always wins, and asks for its balance between the freeze and the end) and tick
// watchers (one anonymous socket per gateway, straight to its port).

import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { periodAt } from '../../../src/core/clock.js';
import type { ClockSpec, DayStart } from '../../../src/core/types.js';
import { sleep } from '../../../test/support/procs.js';

export type Json = Record<string, unknown>;

export interface Attempt {
  reqId: number;
  sentAt: number;
  /** gateway instance the socket was connected to */
  via: string;
  outcome: 'ack' | 'error' | 'timeout' | 'dropped' | null;
  code?: string;
  duplicate?: boolean;
  at?: number;
}

export interface ClientBet {
  userId: string;
  clientBetId: string;
  room: string;
  duration: number;
  periodId: string;
  freezeAt: number;
  endsAt: number;
  kind: string;
  pick: number | string;
  amount: number;
  /** sent on purpose after the freeze (must be refused) */
  late: boolean;
  attempts: Attempt[];
  /** acked: an acknowledgement arrived; rejected: a definitive coded refusal and no attempt in doubt;
   *  unknown: no acknowledgement but some attempt may have reached the store */
  status: 'pending' | 'acked' | 'rejected' | 'unknown';
  code?: string;
  betId?: string;
}

export interface SeenResult {
  client: string;
  room: string;
  periodId: string;
  digits: number[];
  seed: string;
  commitment: string;
  endsAt: number;
  receivedAt: number;
  via: string;
  how: 'live' | 'recovery';
}

export interface SeenVoid { client: string; room: string; periodId: string; receivedAt: number }
export interface SeenSettled { client: string; room: string; periodId: string; receivedAt: number; via: string }
export interface BalanceSample { userId: string; room: string; periodId: string; freezeAt: number; endsAt: number; sentAt: number; receivedAt: number; balance: number }

/** Everything the fleet saw, for the checker. */
export interface FleetRecord {
  bets: ClientBet[];
  results: SeenResult[];
  voids: SeenVoid[];
  settled: SeenSettled[];
  samples: BalanceSample[];
  samplerBets: Map<string, ClientBet[]>; // sampler user → its two bets
  deposits: Map<string, number>; // user → deposited amount
  ticks: Map<string, Array<{ conn: number; at: number }>>; // gateway name → tick arrivals
  connects: number;
  connectFailures: number;
  drops: number;
}

export function newRecord(): FleetRecord {
  return { bets: [], results: [], voids: [], settled: [], samples: [], samplerBets: new Map(), deposits: new Map(), ticks: new Map(), connects: 0, connectFailures: 0, drops: 0 };
}

export interface FleetOptions {
  lbPort: number;
  jwtSecret: string;
  rooms: Array<{ name: string; duration: number }>;
  freezeMs: number;
  dayStart?: DayStart;
  runId: string;
  /** credit a user (operator endpoint); resolves when the deposit is stored */
  credit: (userId: string, amount: number, depositId: string) => Promise<void>;
  ackTimeoutMs?: number;
  maxAttempts?: number;
  /** fraction of bets sent on purpose just after the freeze */
  lateFraction?: number;
}

const TRANSIENT = new Set(['E_STORE_UNAVAILABLE', 'E_STORE_UNCONFIRMED', 'E_STORE_INCONSISTENT', 'E_TIMEOUT', 'E_INTERNAL', 'E_NOT_READY', 'E_POOL_BUSY', 'E_RATE_LIMITED']);

export async function tokenFor(secret: string, userId: string, ttlS = 3600): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({}).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(userId).setIssuedAt(now).setExpirationTime(now + ttlS).sign(new TextEncoder().encode(secret));
}

function rand(lo: number, hi: number): number {
  return lo + Math.floor(Math.random() * (hi - lo + 1));
}

/** One WebSocket session with request/response correlation and reconnects. */
class Session {
  ws: WebSocket | null = null;
  via = '';
  private nextReq = 1;
  private readonly waiting = new Map<number, (m: Json | null) => void>();
  private lastSeen = new Map<string, string>();
  private connecting: Promise<boolean> | null = null;
  closed = false;

  constructor(
    readonly name: string,
    private readonly url: string,
    private readonly protocols: string[],
    private readonly rec: FleetRecord,
    private readonly rooms: string[],
    private readonly onMessage?: (m: Json) => void,
  ) {}

  /** Connects (once at a time); false when it could not. */
  connect(): Promise<boolean> {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) return Promise.resolve(true);
    return (this.connecting ??= this.doConnect().finally(() => { this.connecting = null; }));
  }

  private doConnect(): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.closed) return resolve(false);
      const ws = new WebSocket(this.url, this.protocols, { handshakeTimeout: 3000 });
      let hello = false;
      const fail = () => {
        if (!hello) { this.rec.connectFailures += 1; resolve(false); }
      };
      const timer = setTimeout(() => { ws.terminate(); }, 5000);
      ws.on('error', () => undefined);
      ws.on('close', () => {
        clearTimeout(timer);
        if (this.ws === ws) this.ws = null;
        for (const [, w] of this.waiting) w(null);
        this.waiting.clear();
        fail();
      });
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        let m: Json;
        try { m = JSON.parse(String(data)) as Json; } catch { return; }
        if (m.type === 'hello') {
          hello = true;
          clearTimeout(timer);
          this.via = String(m.instance ?? '');
          this.ws = ws;
          this.rec.connects += 1;
          const since: Record<string, string> = {};
          for (const r of this.rooms) { const s = this.lastSeen.get(r); if (s) since[r] = s; }
          ws.send(JSON.stringify(Object.keys(since).length ? { type: 'subscribe', rooms: this.rooms, since } : { type: 'subscribe', rooms: this.rooms }));
          resolve(true);
          return;
        }
        this.observe(m);
        if (typeof m.id === 'number') {
          const w = this.waiting.get(m.id);
          if (w) { this.waiting.delete(m.id); w(m); }
        }
        this.onMessage?.(m);
      });
    });
  }

  private observe(m: Json): void {
    const now = Date.now();
    if (m.type === 'result') this.seeResult(m, 'live', now);
    else if (m.type === 'recovery' && Array.isArray(m.results)) for (const r of m.results as Json[]) this.seeResult(r, 'recovery', now);
    else if (m.type === 'void') this.rec.voids.push({ client: this.name, room: String(m.room), periodId: String(m.periodId), receivedAt: now });
    else if (m.type === 'settled') this.rec.settled.push({ client: this.name, room: String(m.room), periodId: String(m.periodId), receivedAt: now, via: this.via });
  }

  private seeResult(r: Json, how: 'live' | 'recovery', now: number): void {
    const room = String(r.room);
    const periodId = String(r.periodId);
    this.rec.results.push({
      client: this.name, room, periodId, digits: Array.isArray(r.digits) ? (r.digits as number[]) : [], seed: String(r.seed), commitment: String(r.commitment),
      endsAt: Number(r.endsAt), receivedAt: now, via: this.via, how,
    });
    const last = this.lastSeen.get(room);
    if (!last || periodId > last) this.lastSeen.set(room, periodId);
  }

  /** Sends a request and waits for the reply with its id, a close (null) or the timeout ('timeout'). */
  request(msg: Json, timeoutMs: number, onSent?: (reqId: number, via: string) => void): Promise<Json | null | 'timeout'> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.resolve(null);
    const id = this.nextReq++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.waiting.delete(id); resolve('timeout'); }, timeoutMs);
      this.waiting.set(id, (m) => { clearTimeout(timer); resolve(m); });
      onSent?.(id, this.via);
      ws.send(JSON.stringify({ ...msg, id }));
    });
  }

  /** Drops the connection abruptly (no close frame): the "connection dropped mid-bet" fault. */
  drop(): boolean {
    if (!this.ws) return false;
    this.ws.terminate();
    this.rec.drops += 1;
    return true;
  }

  hasPending(): boolean {
    return this.waiting.size > 0;
  }

  close(): void {
    this.closed = true;
    this.ws?.close();
    this.ws?.terminate();
  }
}

export class Fleet {
  readonly rec = newRecord();
  private readonly sessions: Session[] = [];
  private readonly spec: (duration: number) => ClockSpec;
  private stopping = false;
  private readonly loops: Array<Promise<void>> = [];

  constructor(private readonly o: FleetOptions) {
    this.spec = (duration) => ({ duration, freezeMs: o.freezeMs, dayStart: o.dayStart ?? { minutes: 0, offsetMinutes: 0 } });
  }

  private url(): string {
    return `ws://127.0.0.1:${this.o.lbPort}/ws?format=json`;
  }

  /** Funds `count` players and connects them (a few at a time). */
  async start(count: number, fund: number): Promise<void> {
    const users = Array.from({ length: count }, (_, i) => `c-${this.o.runId}-${i}`);
    for (let i = 0; i < users.length; i += 20) {
      await Promise.all(users.slice(i, i + 20).map(async (u) => {
        await this.o.credit(u, fund, `dep-${u}`);
        this.rec.deposits.set(u, (this.rec.deposits.get(u) ?? 0) + fund);
      }));
    }
    const rooms = this.o.rooms.map((r) => r.name);
    for (let i = 0; i < users.length; i += 25) {
      await Promise.all(users.slice(i, i + 25).map(async (u) => {
        const s = new Session(u, this.url(), ['fived', `fived.jwt.${await tokenFor(this.o.jwtSecret, u)}`], this.rec, rooms);
        this.sessions.push(s);
        await s.connect();
      }));
    }
  }

  /** Every player bets continuously until stop(). */
  run(): void {
    for (const s of this.sessions) this.loops.push(this.playerLoop(s));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
  }

  close(): void {
    for (const s of this.sessions) s.close();
  }

  /** The fault "a client's connection dropped mid-bet": a player with a bet in flight, else any. */
  dropMidBet(): string | null {
    const busy = this.sessions.filter((s) => s.hasPending() && s.ws);
    const open = this.sessions.filter((s) => s.ws);
    const pick = busy.length > 0 ? busy[rand(0, busy.length - 1)]! : open[rand(0, Math.max(0, open.length - 1))];
    if (!pick) return null;
    pick.drop();
    return `${pick.name}${busy.length > 0 ? ' (bet in flight)' : ''}`;
  }

  private async playerLoop(s: Session): Promise<void> {
    let n = 0;
    await sleep(rand(0, 1000));
    while (!this.stopping) {
      if (!(await s.connect())) { await sleep(rand(200, 600)); continue; }
      const room = this.o.rooms[rand(0, this.o.rooms.length - 1)]!;
      const now = Date.now();
      const w = periodAt(now, this.spec(room.duration));
      const late = Math.random() < (this.o.lateFraction ?? 0.05);
      if (late) {
        // on purpose just after the freeze: must be refused
        const target = (now < w.freezeAt ? w.freezeAt : periodAt(w.endsAt, this.spec(room.duration)).freezeAt) + rand(20, 400);
        await sleep(target - Date.now());
      } else if (now > w.freezeAt - 100) {
        await sleep(w.endsAt - now + rand(5, 300));
        continue;
      }
      if (this.stopping) break;
      const t = Date.now();
      // a late bet targets the period whose freeze just passed; a normal one the open period
      const target = periodAt(t, this.spec(room.duration));
      const kinds = ['A', 'B', 'C', 'D', 'E', 'SUM'];
      const kind = kinds[rand(0, 5)]!;
      const sides = ['big', 'small', 'odd', 'even'];
      const pick: number | string = kind !== 'SUM' && Math.random() < 0.5 ? rand(0, 9) : sides[rand(0, 3)]!;
      const bet: ClientBet = {
        userId: s.name, clientBetId: `b${n++}-${Math.random().toString(36).slice(2, 8)}`, room: room.name, duration: room.duration, periodId: target.periodId,
        freezeAt: target.freezeAt, endsAt: target.endsAt, kind, pick, amount: rand(2, 3000), late, attempts: [], status: 'pending',
      };
      this.rec.bets.push(bet);
      await this.placeWithRetries(s, bet);
      await sleep(rand(150, 900));
    }
  }

  /** Sends a bet, retrying the same client bet id after timeouts, drops and transient errors. */
  async placeWithRetries(s: Session, bet: ClientBet): Promise<void> {
    const timeout = this.o.ackTimeoutMs ?? 1500;
    const max = this.o.maxAttempts ?? 6;
    let inDoubt = false;
    for (let i = 0; i < max; i++) {
      if (i > 0) await sleep(100 + 150 * i);
      if (!(await s.connect())) { continue; }
      const msg = { type: 'bet', room: bet.room, periodId: bet.periodId, kind: bet.kind, pick: bet.pick, amount: bet.amount, clientBetId: bet.clientBetId };
      let attempt: Attempt | null = null;
      const reply = await s.request(msg, timeout, (reqId, via) => {
        attempt = { reqId, sentAt: Date.now(), via, outcome: null };
        bet.attempts.push(attempt);
      });
      const a = attempt as Attempt | null;
      if (!a) { continue; } // not sent: socket not open
      a.at = Date.now();
      if (reply === 'timeout') { a.outcome = 'timeout'; inDoubt = true; continue; }
      if (reply === null) { a.outcome = 'dropped'; inDoubt = true; continue; }
      if (reply.type === 'bet_ack') {
        a.outcome = 'ack';
        a.duplicate = reply.duplicate === true;
        bet.status = 'acked';
        bet.betId = String(reply.betId);
        return;
      }
      a.outcome = 'error';
      a.code = String(reply.code);
      if (TRANSIENT.has(a.code)) { inDoubt = true; continue; }
      bet.status = inDoubt ? 'unknown' : 'rejected';
      bet.code = a.code;
      return;
    }
    bet.status = bet.attempts.length === 0 && !inDoubt ? 'rejected' : 'unknown';
  }

  /**
   * One balance sampler for a period of a room: a fresh user, funded, bets SUM big and SUM small
   * (one of them always wins), then asks for its balance through the load balancer between the
   * freeze and the end. Any settlement visible in that window shows as a different balance.
   */
  async sampler(room: { name: string; duration: number }, idx: number): Promise<void> {
    const now = Date.now();
    let w = periodAt(now, this.spec(room.duration));
    if (w.freezeAt - now < 600) w = periodAt(w.endsAt, this.spec(room.duration));
    const userId = `s-${this.o.runId}-${room.duration}-${idx}`;
    const fund = 1000;
    try {
      await this.o.credit(userId, fund, `dep-${userId}`);
    } catch {
      return;
    }
    this.rec.deposits.set(userId, fund);
    const s = new Session(userId, this.url(), ['fived', `fived.jwt.${await tokenFor(this.o.jwtSecret, userId)}`], this.rec, [room.name]);
    try {
      await sleep(w.startsAt - Date.now() + 20);
      if (!(await s.connect())) return;
      const bets: ClientBet[] = ['big', 'small'].map((pick, i) => ({
        userId, clientBetId: `sb${i}`, room: room.name, duration: room.duration, periodId: w.periodId, freezeAt: w.freezeAt, endsAt: w.endsAt,
        kind: 'SUM', pick, amount: 100, late: false, attempts: [], status: 'pending' as const,
      }));
      this.rec.samplerBets.set(userId, bets);
      for (const b of bets) { this.rec.bets.push(b); await this.placeWithRetries(s, b); }
      await sleep(w.freezeAt - Date.now() + 10);
      while (Date.now() < w.endsAt - 20 && !this.stopping) {
        if (!(await s.connect())) { await sleep(50); continue; }
        const sentAt = Date.now();
        const r = await s.request({ type: 'balance' }, 1000);
        const receivedAt = Date.now();
        if (r && r !== 'timeout' && r.type === 'balance' && typeof r.balance === 'number') {
          this.rec.samples.push({ userId, room: room.name, periodId: w.periodId, freezeAt: w.freezeAt, endsAt: w.endsAt, sentAt, receivedAt, balance: r.balance });
        }
        await sleep(rand(40, 120));
      }
    } finally {
      await sleep(Math.max(0, w.endsAt + 500 - Date.now()));
      s.close();
    }
  }

  /**
   * One anonymous watcher straight to a gateway's port, recording tick arrivals; reconnects
   * while `alive()` says the gateway should be up.
   */
  async watchTicks(name: string, port: number, rooms: string[], until: () => boolean): Promise<void> {
    const list: Array<{ conn: number; at: number }> = [];
    this.rec.ticks.set(name, list);
    let conn = 0;
    while (!until()) {
      conn += 1;
      const c = conn;
      const s = new Session(`watch-${name}`, `ws://127.0.0.1:${port}/ws?format=json`, ['fived'], newRecord(), rooms, (m) => {
        if (m.type === 'tick') list.push({ conn: c, at: Date.now() });
      });
      if (!(await s.connect())) { await sleep(300); continue; }
      while (!until() && s.ws) await sleep(200);
      s.close();
    }
  }
}
