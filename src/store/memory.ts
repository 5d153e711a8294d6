// MemoryStore: the Store in-process — the embedded default of a single process (`npm start`).
// Same behaviour and codes as RedisStore (one contract suite runs against both); every method's
// state change happens synchronously between awaits, so each step is atomic by construction, as a
// Lua script is in Redis. Settlement and void refunds still run in chunks with a journal cursor,
// yielding between chunks so a large period never blocks the event loop in one go.

import { EventEmitter } from 'node:events';
import { commitmentOf } from '../core/draw.js';
import { liabilityUpperBound, validateAmount } from '../core/rules.js';
import { BET_RECORD_BYTES, PATTERN_COUNT, type BetSnapshot, type Paytable, type PeriodRef, type PeriodWindow } from '../core/types.js';
import { ErrorCode, FivedError } from '../errors.js';
import { buildAck, buildRecord, fastRecord, formatEntry, parseEntry } from './acks.js';
import { decode, encode } from './codec.js';
import { HISTORY_MAXLEN, PERIOD_TTL_S, parsePeriodMember, periodMember } from './keys.js';
import { reportHeld } from './held.js';
import { MemLedger, validateCursor, validateLedgerLimit } from './ledger.js';
import { storeError } from './scripts.js';
import { SeedSealer, type SealedSeed } from './seal.js';
import type {
  LedgerEntry,
  BetAck, BetLimits, BetRecord, BusHandler, Fence, HeldEntry, HistoryEntry, Lease, PeriodRecord, PlaceBetInput,
  SettlementPlan, Store, StoreEvents, StoreOptions, StoredResult, WalletTotals,
} from './types.js';
import {
  checkBet, checkPlan, exactBalance, maxBalanceOf, validateClientId, validateDrawn, validateFence, validateNow, validateRef, validateResult,
  validateSeed, validateUserId, validateWindow, storedResultVerifies,
} from './validate.js';

interface Plan {
  pay: Float64Array;
  wusers: string[];
  wamt: Float64Array;
}

interface MemPeriod {
  ref: PeriodRef;
  window: { startsAt: number; freezeAt: number; endsAt: number } | null;
  commitment: string | null;
  /** the seed, sealed as in Redis (the contract suite asserts one behaviour for both stores) */
  seed: SealedSeed | null;
  frozen: boolean;
  void: boolean;
  reason: string;
  recs: Uint8Array;
  n: number;
  users: string[];
  uidx: Map<string, number>;
  gross: Float64Array;
  net: Float64Array;
  ustake: Map<string, number>;
  idem: Map<string, string>;
  ubets: Map<string, string[]>;
  plan: Plan | null;
  cursor: number;
  settled: boolean;
  vcursor: number;
  refunded: boolean;
  result: Uint8Array | null; // msgpack, as in Redis: readers get their own copy
  rejected?: Uint8Array; // a result that failed verification, moved aside when the period was voided for it
  claim: { holder: string; until: number } | null;
}

const DEFAULT_SETTLE_CHUNK = 2000;
const REFUND_CHUNK_USERS = 2000;
const HELD_LOG_MAX = 1000;

const tick = () => new Promise<void>((r) => setImmediate(r));

/** copies, by end time then period id (the order of a Redis zset scored by endsAt) */
const oldestFirst = (ws: PeriodWindow[]): PeriodWindow[] =>
  ws.sort((a, b) => a.endsAt - b.endsAt || (a.periodId < b.periodId ? -1 : 1)).map((w) => ({ ...w }));

export class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  private readonly opts: StoreOptions;
  private readonly events = new EventEmitter();
  private readonly bus = new EventEmitter();
  private readonly periods = new Map<string, MemPeriod>();
  private readonly balances = new Map<string, number>();
  /** user → amount held (wallet:held): payouts and refunds that would have passed the maximum balance */
  private readonly held = new Map<string, number>();
  /** the latest held credits, newest first, at most HELD_LOG_MAX (wallet:heldlog) */
  private readonly heldLog: HeldEntry[] = [];
  private readonly maxBalance: number;
  private readonly totals = { deposits: 0, payouts: 0, refunds: 0, stakes: 0, withdrawals: 0 };
  private readonly deposits = new Map<string, string>();
  private readonly userPeriods = new Map<string, Map<string, number>>();
  private readonly pending = new Map<string, PeriodWindow>();
  /** periods that accepted a bet and are not yet settled or refunded (the Redis `unfinished` zset) */
  private readonly unfinished = new Map<string, PeriodWindow>();
  private readonly historyByRoom = new Map<string, HistoryEntry[]>();
  private lease: { holder: string; epoch: number; until: number } | null = null;
  private epoch = 0;
  private settings: string | null = null;
  private closed = false;
  /** the seed key: FIVED_SEED_KEY when given, else one made for this process alone */
  private readonly sealer: SeedSealer;

  /** The store's own clock (Redis has TIME): it closes betting at the freeze whatever a caller says. */
  private readonly storeNow: () => number;
  /** the wallet ledger (issue 14): every balance change below adds its entry in the same step */
  private readonly ledger: MemLedger;
  private readonly withdrawals = new Map<string, string>();

  constructor(opts: StoreOptions = {}, clock: () => number = Date.now) {
    this.opts = opts;
    this.maxBalance = maxBalanceOf(opts);
    this.storeNow = clock;
    this.ledger = new MemLedger(clock);
    this.sealer = opts.seedKey ? SeedSealer.fromText(opts.seedKey, opts.seedKeysRetired ?? []) : SeedSealer.random();
    this.bus.setMaxListeners(0);
  }

  async init(): Promise<void> {
    this.events.emit('ready');
  }

  async close(): Promise<void> {
    this.closed = true;
    this.bus.removeAllListeners();
  }

  async serverTime(): Promise<number> {
    return this.storeNow();
  }

  healthy(): boolean {
    return !this.closed;
  }

  on<E extends keyof StoreEvents>(event: E, fn: StoreEvents[E]): void {
    this.events.on(event, fn as (...a: unknown[]) => void);
  }

  async getSettings(): Promise<string | null> {
    this.open();
    return this.settings;
  }

  async swapSettings(expected: string | null, next: string): Promise<boolean> {
    this.open();
    if (this.settings !== expected) return false;
    this.settings = next;
    return true;
  }

  private open(): void {
    if (this.closed) throw new FivedError(ErrorCode.STORE_UNAVAILABLE, 'store closed');
  }

  private get(ref: PeriodRef): MemPeriod | undefined {
    return this.periods.get(periodMember(ref));
  }

  private getOrCreate(ref: PeriodRef): MemPeriod {
    const k = periodMember(ref);
    let p = this.periods.get(k);
    if (!p) {
      p = {
        ref: { duration: ref.duration, timeline: ref.timeline, periodId: ref.periodId },
        window: null, commitment: null, seed: null, frozen: false, void: false, reason: '',
        recs: new Uint8Array(64 * BET_RECORD_BYTES), n: 0, users: [], uidx: new Map(),
        gross: new Float64Array(PATTERN_COUNT), net: new Float64Array(PATTERN_COUNT), ustake: new Map(),
        idem: new Map(), ubets: new Map(), plan: null, cursor: 0, settled: false, vcursor: 0, refunded: false,
        result: null, claim: null,
      };
      this.periods.set(k, p);
      this.prune();
    }
    return p;
  }

  /** Forget periods that ended long ago (Redis expires them with PERIOD_TTL_S). */
  private prune(): void {
    if (this.periods.size % 64 !== 0) return;
    const cutoff = Date.now() - PERIOD_TTL_S * 1000;
    for (const [k, p] of this.periods) {
      if (p.window && p.window.endsAt < cutoff && !this.pending.has(k) && !this.unfinished.has(k)) this.periods.delete(k);
    }
  }

  // ---- commitments ----

  async commit(period: PeriodWindow, seedHex: string, now: number): Promise<{ commitment: string; created: boolean }> {
    validateWindow(period);
    const seed = validateSeed(seedHex);
    const t = validateNow(now);
    this.open();
    const p = this.getOrCreate(period);
    if (p.void) throw storeError(ErrorCode.PERIOD_VOID, { periodId: period.periodId });
    if (p.commitment) return { commitment: p.commitment, created: false };
    p.window = { startsAt: period.startsAt, freezeAt: period.freezeAt, endsAt: period.endsAt };
    // opened late (issue 13): allowed until the freeze, since no bet can predate the commitment
    if (t >= period.startsAt && Math.max(t, this.storeNow()) >= period.freezeAt) {
      p.void = true;
      p.reason = 'no commitment before the freeze';
      p.refunded = true;
      throw storeError(ErrorCode.COMMIT_TOO_LATE, { periodId: period.periodId });
    }
    p.seed = this.sealer.seal(period, seed);
    p.commitment = commitmentOf(seed);
    return { commitment: p.commitment, created: true };
  }

  async getCommitment(period: PeriodRef): Promise<string | null> {
    validateRef(period);
    return this.get(period)?.commitment ?? null;
  }

  async getSeed(period: PeriodRef): Promise<string | null> {
    validateRef(period);
    const sealed = this.get(period)?.seed;
    return sealed ? this.sealer.unseal(period, sealed) : null;
  }

  // ---- bets ----

  async placeBet(input: PlaceBetInput, limits: BetLimits, paytable: Paytable, now: number): Promise<BetAck> {
    const c = checkBet(input, limits, paytable, now);
    this.open();
    const ref = input.period;
    const fail = (code: ErrorCode) => { throw storeError(code, { periodId: ref.periodId, clientBetId: input.clientBetId }); };
    const p = this.get(ref);
    const field = `${input.userId}\n${input.clientBetId}`;
    const prev = p?.idem.get(field);
    if (prev !== undefined) {
      const e = parseEntry(prev)!;
      if (e.pattern !== c.pattern || e.amount !== c.amount) fail(ErrorCode.DUPLICATE_CONFLICT);
      return buildAck(ref, input.userId, input.clientBetId, e, true);
    }
    if (!p) return fail(ErrorCode.NOT_COMMITTED);
    if (p.void) fail(ErrorCode.PERIOD_VOID);
    if (!p.commitment || !p.window) fail(ErrorCode.NOT_COMMITTED);
    if (p.frozen) fail(ErrorCode.PERIOD_FROZEN);
    const w = p.window!;
    if (c.now < w.startsAt) fail(ErrorCode.PERIOD_NOT_OPEN);
    if (c.now >= w.endsAt) fail(ErrorCode.PERIOD_CLOSED);
    // the store's own clock closes betting too, whatever the caller's says (as RedisStore's TIME)
    if (c.now >= w.freezeAt || this.storeNow() >= w.freezeAt) fail(ErrorCode.PERIOD_FROZEN);
    const maxBets = limits.maxBetsPerUserPerPeriod;
    if (maxBets > 0 && (p.ubets.get(input.userId)?.length ?? 0) >= maxBets) fail(ErrorCode.TOO_MANY_BETS);
    const staked = p.ustake.get(input.userId) ?? 0;
    if (staked + c.amount > limits.maxUserStakePerPeriod) fail(ErrorCode.USER_LIMIT);
    if (limits.maxLiability > 0) {
      const net = Float64Array.from(p.net);
      net[c.pattern] = net[c.pattern]! + c.net;
      if (liabilityUpperBound(net, paytable) > limits.maxLiability) fail(ErrorCode.LIABILITY_LIMIT);
    }
    const balance = this.balances.get(input.userId) ?? 0;
    // as bets.lua: a balance beyond 2^53-1 is refused, never rounded
    if (balance > Number.MAX_SAFE_INTEGER) fail(ErrorCode.BALANCE_OUT_OF_RANGE);
    if (balance < c.amount) fail(ErrorCode.INSUFFICIENT_FUNDS);

    const seq = p.n;
    let ui = p.uidx.get(input.userId);
    if (ui === undefined) {
      ui = p.users.length;
      p.users.push(input.userId);
      p.uidx.set(input.userId, ui);
    }
    if ((seq + 1) * BET_RECORD_BYTES > p.recs.length) {
      const grown = new Uint8Array(p.recs.length * 2);
      grown.set(p.recs);
      p.recs = grown;
    }
    const view = new DataView(p.recs.buffer, seq * BET_RECORD_BYTES, BET_RECORD_BYTES);
    view.setUint32(0, ui, true);
    view.setUint8(4, c.pattern);
    view.setFloat64(8, c.amount, true);
    p.n = seq + 1;
    if (seq === 0 && p.window) this.unfinished.set(periodMember(p.ref), { ...p.ref, startsAt: p.window.startsAt, freezeAt: p.window.freezeAt, endsAt: p.window.endsAt });
    p.gross[c.pattern] = p.gross[c.pattern]! + c.amount;
    p.net[c.pattern] = p.net[c.pattern]! + c.net;
    p.ustake.set(input.userId, staked + c.amount);
    const newBalance = balance - c.amount;
    this.balances.set(input.userId, newBalance);
    this.totals.stakes += c.amount;
    this.ledger.add(input.userId, 'stake', -c.amount, newBalance, `${periodMember(ref)}:${seq}`);
    const entry = { seq, pattern: c.pattern, amount: c.amount, placedAt: c.now, balance: newBalance };
    p.idem.set(field, formatEntry(entry));
    let list = p.ubets.get(input.userId);
    if (!list) p.ubets.set(input.userId, (list = []));
    list.push(input.clientBetId);
    let up = this.userPeriods.get(input.userId);
    if (!up) this.userPeriods.set(input.userId, (up = new Map()));
    up.set(periodMember(ref), w.endsAt);
    return buildAck(ref, input.userId, input.clientBetId, entry, false);
  }

  async freeze(period: PeriodRef): Promise<{ betCount: number }> {
    validateRef(period);
    this.open();
    const p = this.getOrCreate(period);
    p.frozen = true;
    return { betCount: p.n };
  }

  async snapshot(period: PeriodRef): Promise<BetSnapshot> {
    const { betCount } = await this.freeze(period);
    const p = this.get(period)!;
    // a copy with an ArrayBuffer of its own: the caller may transfer it to a worker
    return { records: p.recs.slice(0, betCount * BET_RECORD_BYTES), users: [...p.users] };
  }

  async patternTotals(period: PeriodRef): Promise<Float64Array> {
    validateRef(period);
    const p = this.get(period);
    return p ? Float64Array.from(p.gross) : new Float64Array(PATTERN_COUNT);
  }

  async userBets(userId: string, period?: PeriodRef, limit = 50): Promise<BetRecord[]> {
    validateUserId(userId);
    if (period) validateRef(period);
    const max = Math.max(1, Math.min(Number.isSafeInteger(limit) ? limit : 50, 1000));
    let refs: PeriodRef[];
    if (period) refs = [period];
    else {
      const up = [...(this.userPeriods.get(userId) ?? new Map<string, number>())].sort((a, b) => b[1] - a[1] || (b[0] < a[0] ? -1 : 1));
      refs = up.slice(0, max).map(([m]) => parsePeriodMember(m)).filter((r): r is PeriodRef => r !== null);
    }
    const out: BetRecord[] = [];
    for (const ref of refs) {
      const p = this.get(ref);
      const ids = p?.ubets.get(userId);
      if (!p || !ids) continue;
      for (let i = ids.length - 1; i >= 0 && out.length < max; i--) {
        const e = parseEntry(p.idem.get(`${userId}\n${ids[i]}`) ?? '');
        if (!e) continue;
        const payout = p.settled && p.plan ? p.plan.pay[e.seq] ?? 0 : 0;
        out.push(buildRecord(ref, userId, ids[i]!, e, { void: p.void, settled: p.settled, payout }));
      }
      if (out.length >= max) break;
    }
    return out;
  }

  async periodPayouts(period: PeriodRef): Promise<Float64Array | null> {
    validateRef(period);
    const pay = this.get(period)?.plan?.pay;
    return pay ? Float64Array.from(pay) : null;
  }

  async periodBets(period: PeriodRef): Promise<BetRecord[]> {
    validateRef(period);
    const p = this.get(period);
    if (!p) return [];
    const out: BetRecord[] = [];
    for (const [key, entry] of p.idem) {
      const nl = key.indexOf('\n');
      const e = parseEntry(entry);
      if (nl < 0 || !e) continue;
      const payout = p.settled && p.plan ? p.plan.pay[e.seq] ?? 0 : 0;
      out.push(fastRecord(p.ref, key.slice(0, nl), key.slice(nl + 1), e, { void: p.void, settled: p.settled, payout }));
    }
    return out.sort((a, b) => a.seq - b.seq);
  }

  // ---- results ----

  private checkFence(fence: string): void {
    if (fence !== '' && Number(fence) !== this.epoch) throw storeError(ErrorCode.STALE_EPOCH);
  }

  async storeResult(result: StoredResult, fence?: Fence): Promise<{ result: StoredResult; stored: boolean }> {
    validateResult(result);
    const f = validateFence(fence);
    this.open();
    this.checkFence(f);
    const p = this.get(result);
    if (p?.result) return { result: decode<StoredResult>(p.result), stored: false };
    if (p?.void) throw storeError(ErrorCode.PERIOD_VOID, { periodId: result.periodId });
    if (!p?.commitment) throw storeError(ErrorCode.NOT_COMMITTED, { periodId: result.periodId });
    if (p.commitment !== result.commitment) throw storeError(ErrorCode.RESULT_MISMATCH, { periodId: result.periodId });
    p.result = encode(result);
    return { result: decode<StoredResult>(p.result), stored: true };
  }

  async getResult(period: PeriodRef): Promise<StoredResult | null> {
    validateRef(period);
    const r = this.get(period)?.result;
    return r ? decode<StoredResult>(r) : null;
  }

  async getPeriod(period: PeriodRef): Promise<PeriodRecord> {
    validateRef(period);
    const p = this.get(period);
    const result = p?.result ? decode<StoredResult>(p.result) : null;
    const status = !p ? 'unknown' : p.void ? 'void' : p.settled ? 'settled' : result ? 'resulted' : p.frozen ? 'frozen' : p.commitment ? 'open' : 'unknown';
    return {
      duration: period.duration, timeline: period.timeline, periodId: period.periodId, status,
      commitment: p?.commitment ?? null, result, voidReason: p?.void ? p.reason : null, betCount: p?.n ?? 0, settled: p?.settled ?? false,
    };
  }

  // ---- settlement ----

  async saveSettlement(plan: SettlementPlan, fence?: Fence): Promise<void> {
    const { winners } = checkPlan(plan);
    const f = validateFence(fence);
    this.open();
    this.checkFence(f);
    const w = plan.period;
    const p = this.get(w);
    if (p?.void) throw storeError(ErrorCode.PERIOD_VOID, { periodId: w.periodId });
    if (p?.plan) return;
    if (!p?.frozen) throw storeError(ErrorCode.INVALID_BETS, { periodId: w.periodId, luaStatus: -17 });
    if (p.n !== plan.betCount) throw storeError(ErrorCode.INVALID_BETS, { periodId: w.periodId, luaStatus: -16, info: p.n });
    p.plan = {
      pay: Float64Array.from(plan.payouts),
      wusers: winners.map((i) => plan.users[i]!),
      wamt: Float64Array.from(winners, (i) => plan.userPayouts[i]!),
    };
    p.window ??= { startsAt: w.startsAt, freezeAt: w.freezeAt, endsAt: w.endsAt };
    p.cursor = 0;
    this.pending.set(periodMember(w), { duration: w.duration, timeline: w.timeline, periodId: w.periodId, startsAt: p.window.startsAt, freezeAt: p.window.freezeAt, endsAt: p.window.endsAt });
  }

  /**
   * Credits `amount` to a user's balance, or holds it when that would pass the maximum balance (or
   * the stored balance is out of the exact range): as settle_apply.lua / void_refund.lua. True if held.
   */
  private creditOrHold(userId: string, amount: number, kind: HeldEntry['kind'], ref: PeriodRef): boolean {
    const b = this.balances.get(userId) ?? 0;
    if (Number.isSafeInteger(b) && b >= 0 && b + amount <= this.maxBalance) {
      this.balances.set(userId, b + amount);
      this.ledger.add(userId, kind, amount, b + amount, periodMember(ref)); // a held credit changes no balance: no entry
      return false;
    }
    this.held.set(userId, (this.held.get(userId) ?? 0) + amount);
    this.heldLog.unshift({ member: periodMember(ref), kind, userId, amount });
    if (this.heldLog.length > HELD_LOG_MAX) this.heldLog.length = HELD_LOG_MAX;
    return true;
  }

  /** One chunk, synchronously (the counterpart of settle_apply.lua). */
  private applyChunk(ref: PeriodRef, now: number, fence: string, chunk: number): { status: number; credited: number; held: number; heldCount: number; done: boolean } {
    this.checkFence(fence);
    const p = this.get(ref);
    if (p?.void) throw storeError(ErrorCode.PERIOD_VOID, { periodId: ref.periodId });
    if (!p?.plan || !p.window) throw storeError(ErrorCode.NOT_SETTLED, { periodId: ref.periodId });
    if (p.settled) return { status: 0, credited: 0, held: 0, heldCount: 0, done: true };
    // the end by the store's own clock (as settle_apply.lua's Redis TIME); the caller's is an extra check
    if (now < p.window.endsAt || this.storeNow() < p.window.endsAt) throw storeError(ErrorCode.TOO_EARLY, { periodId: ref.periodId });
    const total = p.plan.wusers.length;
    const last = Math.min(p.cursor + chunk, total);
    let credited = 0;
    let held = 0;
    let heldCount = 0;
    for (let i = p.cursor; i < last; i++) {
      const amt = p.plan.wamt[i]!;
      if (amt > 0) {
        if (this.creditOrHold(p.plan.wusers[i]!, amt, 'payout', p.ref)) { held += amt; heldCount++; } else credited += amt;
      }
    }
    this.totals.payouts += credited + held;
    p.cursor = last;
    if (last >= total) {
      p.settled = true;
      this.pending.delete(periodMember(ref));
      this.unfinished.delete(periodMember(ref));
      return { status: 1, credited, held, heldCount, done: true };
    }
    return { status: 1, credited, held, heldCount, done: false };
  }

  async applySettlement(period: PeriodRef, now: number, fence?: Fence): Promise<{ applied: boolean; credited: number; held: number }> {
    validateRef(period);
    const t = validateNow(now);
    const f = validateFence(fence);
    this.open();
    const chunk = this.opts.settleChunk ?? DEFAULT_SETTLE_CHUNK;
    let credited = 0;
    let held = 0;
    let heldCount = 0;
    let applied = false;
    try {
      for (let i = 0; ; i++) {
        const r = this.applyChunk(period, t, f, chunk);
        credited += r.credited;
        held += r.held;
        heldCount += r.heldCount;
        if (r.status === 1) applied = true;
        if (this.opts.onSettleChunk) await this.opts.onSettleChunk({ period, chunk: i, credited, done: r.done });
        if (r.done) break;
        await tick();
      }
    } finally {
      reportHeld(this.events, this.opts.instance, 'payout', period, held, heldCount);
    }
    return { applied, credited, held };
  }


  async claimSettlement(period: PeriodRef, claimant: string, ttlMs: number): Promise<boolean> {
    validateRef(period);
    if (typeof claimant !== 'string' || claimant.length === 0) throw new FivedError(ErrorCode.BAD_REQUEST, 'claimant must be a non-empty string');
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 1) throw new FivedError(ErrorCode.BAD_REQUEST, 'ttlMs must be a positive integer');
    this.open();
    const p = this.getOrCreate(period);
    const now = this.storeNow();
    if (p.claim && p.claim.until > now && p.claim.holder !== claimant) return false; // re-entrant for the holder
    p.claim = { holder: claimant, until: now + ttlMs };
    return true;
  }

  async pendingSettlements(): Promise<PeriodWindow[]> {
    return oldestFirst([...this.pending.values()]);
  }

  async unfinishedPeriods(endedBy: number, limit: number): Promise<PeriodWindow[]> {
    const t = validateNow(endedBy);
    const n = Math.max(1, Math.min(Number.isSafeInteger(limit) ? limit : 100, 1000));
    return oldestFirst([...this.unfinished.values()].filter((w) => w.endsAt <= t)).slice(0, n);
  }

  async isSettled(period: PeriodRef): Promise<boolean> {
    validateRef(period);
    return this.get(period)?.settled ?? false;
  }

  // ---- void ----

  async voidPeriod(period: PeriodRef, reason: string): Promise<{ refunded: number; held: number }> {
    validateRef(period);
    if (typeof reason !== 'string' || reason.length === 0 || reason.length > 500) throw new FivedError(ErrorCode.BAD_REQUEST, 'void reason must be 1-500 characters');
    this.open();
    const p = this.getOrCreate(period);
    if (!p.void) {
      if (p.settled || p.cursor > 0) throw storeError(ErrorCode.ALREADY_SETTLED, { periodId: period.periodId });
      // one result or void, never both (docs/design.md rule 2)
      if (p.result) throw storeError(ErrorCode.ALREADY_RESULTED, { periodId: period.periodId });
      p.void = true;
      p.reason = reason;
      p.vcursor = 0;
      this.pending.delete(periodMember(period));
    }
    return this.refundAll(period);
  }

  async voidUnverifiedResult(period: PeriodRef, reason: string): Promise<{ refunded: number; held: number }> {
    validateRef(period);
    if (typeof reason !== 'string' || reason.length === 0 || reason.length > 500) throw new FivedError(ErrorCode.BAD_REQUEST, 'void reason must be 1-500 characters');
    this.open();
    const p = this.get(period);
    if (!p?.result) return this.voidPeriod(period, reason);
    let verifies = false;
    try {
      verifies = storedResultVerifies(decode<StoredResult>(p.result), p.commitment);
    } catch {
      verifies = false;
    }
    // the counterpart of void_rejected.lua: only a result that does not verify, never after a settlement
    if (verifies) throw storeError(ErrorCode.ALREADY_RESULTED, { periodId: period.periodId });
    if (p.settled || p.cursor > 0) throw storeError(ErrorCode.ALREADY_SETTLED, { periodId: period.periodId });
    p.rejected = p.result;
    p.result = null;
    p.void = true;
    p.reason = reason;
    p.vcursor = 0;
    this.pending.delete(periodMember(period));
    return this.refundAll(period);
  }

  private async refundAll(period: PeriodRef): Promise<{ refunded: number; held: number }> {
    const p = this.getOrCreate(period);
    let refunded = 0;
    let held = 0;
    let heldCount = 0;
    while (!p.refunded) {
      const last = Math.min(p.vcursor + REFUND_CHUNK_USERS, p.users.length);
      for (let i = p.vcursor; i < last; i++) {
        const u = p.users[i]!;
        const s = p.ustake.get(u) ?? 0;
        if (s > 0) {
          if (this.creditOrHold(u, s, 'refund', p.ref)) { held += s; heldCount++; } else refunded += s;
          this.totals.refunds += s;
        }
      }
      p.vcursor = last;
      if (last >= p.users.length) {
        p.refunded = true;
        this.unfinished.delete(periodMember(period));
      } else await tick();
    }
    reportHeld(this.events, this.opts.instance, 'refund', period, held, heldCount);
    return { refunded, held };
  }

  // ---- history ----

  async appendHistory(entry: HistoryEntry): Promise<boolean> {
    validateDrawn(entry);
    this.open();
    const key = `${entry.duration}:${entry.timeline}`;
    let list = this.historyByRoom.get(key);
    if (!list) this.historyByRoom.set(key, (list = []));
    const last = list[list.length - 1];
    // ids are 17-digit strings: string order is numeric order (the Redis stream id rule)
    if (last && entry.periodId <= last.periodId) return false;
    list.push({ duration: entry.duration, timeline: entry.timeline, periodId: entry.periodId, digits: [...entry.digits] as HistoryEntry['digits'], sum: entry.sum, seed: entry.seed, commitment: entry.commitment });
    if (list.length > HISTORY_MAXLEN) list.splice(0, list.length - HISTORY_MAXLEN);
    return true;
  }

  async history(duration: number, timeline: string, opts: { afterPeriodId?: string; limit: number }): Promise<HistoryEntry[]> {
    validateRef({ duration, timeline, periodId: opts.afterPeriodId ?? '20000101000000001' });
    const limit = Math.max(1, Math.min(Number.isSafeInteger(opts.limit) ? opts.limit : 100, 5000));
    const list = this.historyByRoom.get(`${duration}:${timeline}`) ?? [];
    const after = opts.afterPeriodId;
    const rows = after !== undefined ? list.filter((e) => e.periodId > after).slice(0, limit) : list.slice(-limit);
    return rows.map((e) => ({ ...e, digits: [...e.digits] as HistoryEntry['digits'] }));
  }

  // ---- bus ----

  async publish(channel: string, message: unknown): Promise<void> {
    if (typeof channel !== 'string' || !channel.startsWith('5d_precalc:')) throw new FivedError(ErrorCode.BAD_REQUEST, 'channel names begin with 5d_precalc:');
    this.open();
    const bytes = encode(message); // same copy semantics as Redis: handlers get a decoded copy
    setImmediate(() => this.bus.emit(channel, bytes));
  }

  async subscribe(channel: string, handler: BusHandler): Promise<void> {
    if (typeof channel !== 'string' || !channel.startsWith('5d_precalc:')) throw new FivedError(ErrorCode.BAD_REQUEST, 'channel names begin with 5d_precalc:');
    this.open();
    this.bus.on(channel, (bytes: Uint8Array) => {
      try { handler(channel, decode(bytes)); } catch (err) { console.error(JSON.stringify({ level: 'error', msg: 'bus handler threw', channel, err: String(err) })); }
    });
  }

  // ---- lease ----

  async acquireLease(holder: string, ttlMs: number): Promise<Lease | null> {
    if (typeof holder !== 'string' || holder.length === 0 || holder.includes('|')) throw new FivedError(ErrorCode.BAD_REQUEST, 'lease holder must be a non-empty string without |');
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 1) throw new FivedError(ErrorCode.BAD_REQUEST, 'ttlMs must be a positive integer');
    this.open();
    const now = Date.now();
    if (this.lease && this.lease.until > now) return null;
    this.epoch += 1;
    this.lease = { holder, epoch: this.epoch, until: now + ttlMs };
    return { holder, epoch: this.epoch };
  }

  async renewLease(lease: Lease, ttlMs: number): Promise<boolean> {
    this.open();
    const now = Date.now();
    const l = this.lease;
    const held = l && l.until > now;
    if (held && l.holder === lease.holder && l.epoch === lease.epoch) {
      l.until = now + ttlMs;
      return true;
    }
    if (!held && lease.epoch === this.epoch) {
      this.lease = { holder: lease.holder, epoch: lease.epoch, until: now + ttlMs };
      return true;
    }
    return false;
  }

  async releaseLease(lease: Lease): Promise<void> {
    const l = this.lease;
    if (l && l.holder === lease.holder && l.epoch === lease.epoch) this.lease = null;
  }

  async currentEpoch(): Promise<number> {
    return this.epoch;
  }

  // ---- wallet ----

  async credit(userId: string, amount: number, depositId: string): Promise<{ balance: number; duplicate: boolean }> {
    validateUserId(userId);
    validateAmount(amount);
    validateClientId(depositId, 'depositId');
    this.open();
    const content = `${userId}\n${amount}`;
    const prev = this.deposits.get(depositId);
    if (prev !== undefined) {
      if (prev !== content) throw storeError(ErrorCode.DUPLICATE_CONFLICT, { depositId });
      return { balance: exactBalance(this.balances.get(userId), userId), duplicate: true };
    }
    const cur = exactBalance(this.balances.get(userId), userId);
    if (cur + amount > this.maxBalance) throw storeError(ErrorCode.BALANCE_LIMIT, { depositId, userId, maxBalance: this.maxBalance, info: String(cur) });
    this.deposits.set(depositId, content);
    const b = cur + amount;
    this.balances.set(userId, b);
    this.totals.deposits += amount;
    this.ledger.add(userId, 'deposit', amount, b, depositId);
    return { balance: b, duplicate: false };
  }

  // ---- ledger (issue 14) ----

  async debit(userId: string, amount: number, withdrawalId: string): Promise<{ balance: number; duplicate: boolean }> {
    validateUserId(userId);
    validateAmount(amount);
    validateClientId(withdrawalId, 'withdrawalId');
    this.open();
    const content = `${userId}\n${amount}`;
    const prev = this.withdrawals.get(withdrawalId);
    if (prev !== undefined) {
      const at = prev.lastIndexOf('\n');
      if (prev.slice(0, at) !== content) throw storeError(ErrorCode.DUPLICATE_CONFLICT, { withdrawalId });
      return { balance: Number(prev.slice(at + 1)), duplicate: true }; // the first answer (as debit.lua)
    }
    const cur = exactBalance(this.balances.get(userId), userId);
    if (cur < amount) throw storeError(ErrorCode.INSUFFICIENT_FUNDS, { withdrawalId, userId, info: String(cur) });
    const b = cur - amount;
    this.withdrawals.set(withdrawalId, `${content}\n${b}`);
    this.balances.set(userId, b);
    this.totals.withdrawals += amount;
    this.ledger.add(userId, 'withdrawal', -amount, b, withdrawalId);
    return { balance: b, duplicate: false };
  }

  async ledgerPage(userId: string, before: string | null, limit: number): Promise<{ entries: LedgerEntry[]; next: string | null }> {
    validateUserId(userId);
    const b = validateCursor(before, 'before');
    return this.ledger.page(userId, b, validateLedgerLimit(limit));
  }

  async walletUsers(cursor: string | null, count: number): Promise<{ users: string[]; next: string | null }> {
    const from = cursor === null ? 0 : Number(cursor);
    if (!Number.isSafeInteger(from) || from < 0) throw new FivedError(ErrorCode.BAD_REQUEST, 'cursor must be a non-negative integer');
    const all = [...this.balances.keys()];
    const to = from + validateLedgerLimit(count, 10_000);
    return { users: all.slice(from, to), next: to < all.length ? String(to) : null };
  }

  async ledgerFeed(after: string | null, limit: number): Promise<LedgerEntry[]> {
    const a = validateCursor(after, 'after');
    return this.ledger.after(a, validateLedgerLimit(limit, 100_000));
  }

  async balance(userId: string): Promise<number> {
    validateUserId(userId);
    return exactBalance(this.balances.get(userId), userId);
  }

  async walletTotals(): Promise<WalletTotals> {
    // exact sums, as RedisStore (many balances at the maximum add up past 2^53)
    const sum = (vs: Iterable<number>) => { let a = 0n; for (const v of vs) a += BigInt(v); return a; };
    const t = this.totals;
    const balances = sum(this.balances.values());
    const held = sum(this.held.values());
    const balanced = BigInt(t.deposits) + BigInt(t.payouts) + BigInt(t.refunds) === balances + BigInt(t.stakes) + BigInt(t.withdrawals) + held;
    return { ...t, balances: Number(balances), held: Number(held), balanced };
  }

  async heldCredits(users?: string[]): Promise<{ byUser: Record<string, number>; recent: HeldEntry[] }> {
    users?.forEach(validateUserId);
    const pick = users && users.length > 0 ? users : [...this.held.keys()];
    const byUser: Record<string, number> = {};
    for (const u of pick) { const v = this.held.get(u); if (v !== undefined) byUser[u] = v; }
    const recent = this.heldLog.filter((e) => !users || users.length === 0 || users.includes(e.userId)).map((e) => ({ ...e }));
    return { byUser, recent };
  }
}
