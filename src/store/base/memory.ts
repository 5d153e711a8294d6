// What every concern of the in-memory store shares: one state object (the counterpart of the Redis
// keyspace) and the lifecycle. Every method's state change happens synchronously between awaits,
// so each step is atomic by construction, as a Lua script is in Redis.

import { EventEmitter } from 'node:events';
import { BET_RECORD_BYTES, PATTERN_COUNT, type PeriodRef, type PeriodWindow } from '../../core/types.js';
import { ErrorCode, FivedError } from '../../errors.js';
import { PERIOD_TTL_S, periodMember } from '../keys.js';
import { MemLedger } from '../ledger.js';
import { storeError } from '../scripts.js';
import { SeedSealer, type SealedSeed } from '../seal.js';
import type { HeldEntry, StoreEvents, StoreLifecycle, StoreOptions } from '../types.js';
import { maxBalanceOf } from '../validate.js';

export interface Plan {
  pay: Float64Array;
  wusers: string[];
  wamt: Float64Array;
}

export interface MemPeriod {
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

/** yields to the event loop between chunks of a large settlement or refund */
export const tick = () => new Promise<void>((r) => setImmediate(r));

/** copies, by end time then period id (the order of a Redis zset scored by endsAt) */
export const oldestFirst = (ws: PeriodWindow[]): PeriodWindow[] =>
  ws.sort((a, b) => a.endsAt - b.endsAt || (a.periodId < b.periodId ? -1 : 1)).map((w) => ({ ...w }));

export class MemState implements StoreLifecycle {
  readonly events = new EventEmitter();
  readonly periods = new Map<string, MemPeriod>();
  readonly balances = new Map<string, number>();
  /** user → amount held (wallet:held): payouts and refunds that would have passed the maximum balance */
  readonly held = new Map<string, number>();
  /** the latest held credits, newest first (wallet:heldlog) */
  readonly heldLog: HeldEntry[] = [];
  readonly maxBalance: number;
  readonly totals = { deposits: 0, payouts: 0, refunds: 0, stakes: 0, withdrawals: 0 };
  readonly deposits = new Map<string, string>();
  readonly withdrawals = new Map<string, string>();
  readonly userPeriods = new Map<string, Map<string, number>>();
  readonly pending = new Map<string, PeriodWindow>();
  /** periods that accepted a bet and are not yet settled or refunded (the Redis `unfinished` zset) */
  readonly unfinished = new Map<string, PeriodWindow>();
  lease: { holder: string; epoch: number; until: number } | null = null;
  epoch = 0;
  settings: string | null = null;
  closed = false;
  /** the seed key: FIVED_SEED_KEY when given, else one made for this process alone */
  readonly sealer: SeedSealer;
  /** the wallet ledger (issue 14): every balance change adds its entry in the same step */
  readonly ledger: MemLedger;
  /** called by close() (the bus drops its listeners) */
  readonly onClose: Array<() => void> = [];

  constructor(
    readonly opts: StoreOptions,
    /** The store's own clock (Redis has TIME): it closes betting at the freeze whatever a caller says. */
    readonly storeNow: () => number,
  ) {
    this.maxBalance = maxBalanceOf(opts);
    this.ledger = new MemLedger(storeNow);
    this.sealer = opts.seedKey ? SeedSealer.fromText(opts.seedKey, opts.seedKeysRetired ?? []) : SeedSealer.random();
  }

  async init(): Promise<void> {
    this.events.emit('ready');
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const fn of this.onClose) fn();
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

  open(): void {
    if (this.closed) throw new FivedError(ErrorCode.STORE_UNAVAILABLE, 'store closed');
  }

  get(ref: PeriodRef): MemPeriod | undefined {
    return this.periods.get(periodMember(ref));
  }

  getOrCreate(ref: PeriodRef): MemPeriod {
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

  /** a write on behalf of the lease carries its epoch; a stale one is refused */
  checkFence(fence: string): void {
    if (fence !== '' && Number(fence) !== this.epoch) throw storeError(ErrorCode.STALE_EPOCH);
  }
}
