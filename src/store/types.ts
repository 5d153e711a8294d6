// The one interface for everything gateways and the scheduler share, by concern (lifecycle,
// settings, commitments, bets, results, settlement, bus, lease, wallet). Two implementations of
// each concern side by side (src/store/<concern>/{memory,redis}.ts), assembled into MemoryStore
// (embedded default, one process) and RedisStore (ioredis + Lua, many processes) by
// src/store/assemble.ts. One contract suite (test/store-contract.test.ts) runs against both.
//
// Conventions: period ids are 17-digit strings; money is integer minor units; every method that
// takes input from outside validates it and throws a FivedError (src/errors.ts) without writing
// anything; times passed in (`now`) are epoch ms from the caller's clock, used only as an extra
// check — the store's own per-period flags decide (frozen, void, settled).

import type { LedgerEntry } from '../core/ledger.js';

export type { LedgerEntry, LedgerKind } from '../core/ledger.js';
import type { BetKind, BetLimits, BetPick, BetSnapshot, Digits, Paytable, PeriodRef, PeriodWindow } from '../core/types.js';

// the bet limits are a game rule (core), read by the config and enforced by the store
export type { BetLimits } from '../core/types.js';

export interface PlaceBetInput {
  period: PeriodWindow;
  userId: string;
  clientBetId: string; // idempotency key, unique per user
  kind: BetKind;
  pick: BetPick;
  amount: number;
}

export interface BetAck {
  betId: string; // `${periodId}:${seq}` — unique within a room
  clientBetId: string;
  userId: string;
  duration: number;
  timeline: string;
  periodId: string;
  seq: number;
  kind: BetKind;
  pick: BetPick;
  amount: number;
  placedAt: number;
  balance: number; // balance right after the debit
  duplicate: boolean; // true when this is the first acknowledgement returned again
}

export type BetOutcomeState = 'pending' | 'won' | 'lost' | 'refunded';

export interface BetRecord extends Omit<BetAck, 'duplicate' | 'balance'> {
  state: BetOutcomeState;
  payout: number; // 0 until settled; the refund amount when refunded
}

export interface ResultTracking {
  instance: string; // scheduler or gateway instance name
  host: string;
  pid: number;
  computedAt: number;
  computeMs: number;
  patternCount: number;
  totalStake: number;
  totalExposure: number;
  maxLiability: number;
  source: 'scheduler' | 'gateway';
  epoch?: number; // the scheduler's fencing epoch
  betCount?: number; // bets in the frozen snapshot (scheduler pre-calculation)
}

/** The value of precalc_5d_result:fiveD:{duration}:{timeline}:{periodId} (msgpack). */
export interface StoredResult extends PeriodRef {
  digits: Digits;
  sum: number;
  seed: string; // 64 hex
  commitment: string; // 64 hex
  tracking: ResultTracking;
}

/** A settlement computed at the freeze (or by a gateway's fallback), applied after the end. */
export interface SettlementPlan {
  period: PeriodWindow;
  betCount: number;
  /** payout per bet, by seq (length betCount) */
  payouts: Float64Array;
  /** user ids by user index, as in the snapshot */
  users: string[];
  /** total payout per user index */
  userPayouts: Float64Array;
  totalPayout: number;
}

export type PeriodStatus = 'open' | 'frozen' | 'resulted' | 'settled' | 'void' | 'unknown';

export interface PeriodRecord extends PeriodRef {
  status: PeriodStatus;
  commitment: string | null;
  result: StoredResult | null;
  voidReason: string | null;
  betCount: number;
  settled: boolean;
}

export interface HistoryEntry {
  duration: number;
  timeline: string;
  periodId: string;
  digits: Digits;
  sum: number;
  seed: string;
  commitment: string;
}

export interface Lease {
  holder: string;
  epoch: number;
}

/** A write made on behalf of the scheduler's lease carries its epoch; a stale one is refused. */
export interface Fence {
  holder: string;
  epoch: number;
}

export type BusHandler = (channel: string, message: unknown) => void;

export interface StoreEvents {
  /** the store found Redis empty or older than it was (generation mismatch) */
  inconsistent: (info: { expected: string | null; found: string | null }) => void;
  /** the command connection is (re)established */
  ready: () => void;
  /** the command connection was lost */
  down: (err: Error) => void;
  /** payouts or refunds of a period held instead of credited: they would have taken balances above
   *  the maximum balance (or onto a stored balance out of the exact range). Logged by the store
   *  when nobody listens; src/runtime/wallet.ts logs and counts them in the gateway and scheduler. */
  held: (info: HeldInfo) => void;
}

/** Credits a settlement or a void refund held back (see StoreEvents.held). */
export interface HeldInfo {
  kind: 'payout' | 'refund';
  period: PeriodRef;
  /** minor units held by this call */
  amount: number;
  /** users whose credit was held */
  count: number;
}

/** One held credit, as `fived wallet` lists it (newest first). */
export interface HeldEntry {
  member: string; // period member `${duration}:${timeline}:${periodId}`
  kind: 'payout' | 'refund';
  userId: string;
  amount: number;
}

/** Where a period's bets are read for its computation (docs/design.md rule 3): 'worker' — the
 *  worker thread opens its own store connection, snapshots (which freezes the period) and saves the
 *  plan, so no large reply is parsed on a main thread; 'caller' — the calling process snapshots and
 *  transfers the records (an in-memory store cannot be shared with a worker thread). */
export type ComputeSource = 'worker' | 'caller';

export interface StoreLifecycle {
  /** connect, load scripts, check or write the generation key */
  init(): Promise<void>;
  close(): Promise<void>;
  /** Redis TIME (or Date.now() in memory), epoch ms */
  serverTime(): Promise<number>;
  /** true while the store is reachable and consistent */
  healthy(): boolean;
  on<E extends keyof StoreEvents>(event: E, fn: StoreEvents[E]): void;
}

export interface SettingsStore {
  // ---- game settings schedule (runtime/schedule.ts; docs/operations.md, "Changing game settings") ----
  /** The stored settings schedule (JSON), or null before the first start. */
  getSettings(): Promise<string | null>;
  /** Replaces the schedule only if it still is `expected` (null: absent); false when it changed meanwhile. */
  swapSettings(expected: string | null, next: string): Promise<boolean>;
}

export interface CommitStore {
  /** create-if-absent the seed; a started period is opened late until its freeze; refused (E_COMMIT_TOO_LATE, the period voided) once now >= freezeAt. Returns the winner's commitment. */
  commit(period: PeriodWindow, seedHex: string, now: number): Promise<{ commitment: string; created: boolean }>;
  getCommitment(period: PeriodRef): Promise<string | null>;
  /** The secret seed, unsealed (it is stored only sealed under the seed key). Never hand it to
   *  anything that serves clients before the period's end. E_SEED_KEY_UNKNOWN / E_SEED_UNSEAL_FAILED
   *  when this process cannot open it. */
  getSeed(period: PeriodRef): Promise<string | null>;
}

export interface BetStore {
  placeBet(input: PlaceBetInput, limits: BetLimits, paytable: Paytable, now: number): Promise<BetAck>;
  /** Set the frozen flag (idempotent); returns the bet count at the freeze. */
  freeze(period: PeriodRef): Promise<{ betCount: number }>;
  /** freeze + read the bets in the compact layout (records + user list) */
  snapshot(period: PeriodRef): Promise<BetSnapshot>;
  /** per-pattern gross stake totals (length 74) */
  patternTotals(period: PeriodRef): Promise<Float64Array>;
  userBets(userId: string, period?: PeriodRef, limit?: number): Promise<BetRecord[]>;
  /** Every bet of one period, by seq, with its outcome (pending until the settlement is applied):
   *  the archiver's read (issue 14), called only once the period has ended and is settled or void. */
  periodBets(period: PeriodRef): Promise<BetRecord[]>;
  /** The saved settlement's payout per bet, by seq (null without a plan): with bets read at the
   *  freeze, the archiver needs only this after the end (issue 14). */
  periodPayouts(period: PeriodRef): Promise<Float64Array | null>;
}

export interface ResultStore {
  /** SET … NX on the runbook key; returns whichever result the store kept. */
  storeResult(result: StoredResult, fence?: Fence): Promise<{ result: StoredResult; stored: boolean }>;
  getResult(period: PeriodRef): Promise<StoredResult | null>;
  getPeriod(period: PeriodRef): Promise<PeriodRecord>;
  // ---- history (capped stream per room, explicit ids from the period) ----
  appendHistory(entry: HistoryEntry): Promise<boolean>;
  history(duration: number, timeline: string, opts: { afterPeriodId?: string; limit: number }): Promise<HistoryEntry[]>;
}

export interface SettlementStore {
  /** Persist the plan and add the period to the pending set (due at its end). Idempotent: first plan wins. */
  saveSettlement(plan: SettlementPlan, fence?: Fence): Promise<void>;
  /**
   * Apply a saved plan exactly once, in journaled chunks; refused (E_TOO_EARLY) before the end by
   * the store's own clock (Redis TIME inside the script; MemoryStore's injected clock), whatever
   * `now` says — `now` is only an extra check. `credited` went to balances; `held` (minor units)
   * was held: it would have passed the maximum balance.
   */
  applySettlement(period: PeriodRef, now: number, fence?: Fence): Promise<{ applied: boolean; credited: number; held: number }>;
  /** one claimant at a time computes a period's fallback settlement; re-entrant for the holder (a retry extends it) */
  claimSettlement(period: PeriodRef, claimant: string, ttlMs: number): Promise<boolean>;
  /** periods whose plan is saved but not applied, with their end time, oldest first */
  pendingSettlements(): Promise<Array<PeriodWindow>>;
  /** periods that accepted a bet and are neither settled nor (void and) refunded, ended at or
   *  before `endedBy`, oldest first, at most `limit`: the reconciler's work list */
  unfinishedPeriods(endedBy: number, limit: number): Promise<Array<PeriodWindow>>;
  isSettled(period: PeriodRef): Promise<boolean>;

  // ---- void ----
  /** mark void, refund every bet exactly once; idempotent. `held`: refunds held (maximum balance). Refused for a stored result (E_ALREADY_RESULTED) or a settlement (E_ALREADY_SETTLED). */
  voidPeriod(period: PeriodRef, reason: string): Promise<{ refunded: number; held: number }>;
  /**
   * The one exception to "a period with a stored result is never void": the store verifies the
   * stored result against the period's commitment itself and, only when it does NOT verify, moves
   * it aside (never served) and voids the period with refunds. A result that verifies:
   * E_ALREADY_RESULTED; a settlement (being) applied: E_ALREADY_SETTLED. No stored result: as
   * voidPeriod. Idempotent.
   */
  voidUnverifiedResult(period: PeriodRef, reason: string): Promise<{ refunded: number; held: number }>;
}

/** at-most-once */
export interface BusStore {
  publish(channel: string, message: unknown): Promise<void>;
  subscribe(channel: string, handler: BusHandler): Promise<void>;
}

/** the scheduler's lease with its fencing epoch */
export interface LeaseStore {
  acquireLease(holder: string, ttlMs: number): Promise<Lease | null>;
  renewLease(lease: Lease, ttlMs: number): Promise<boolean>;
  releaseLease(lease: Lease): Promise<void>;
  currentEpoch(): Promise<number>;
}

export interface WalletStore {
  /** A deposit, idempotent by its id; refused (E_BALANCE_LIMIT, nothing changed) when it would take
   *  the balance above the maximum balance, E_BALANCE_OUT_OF_RANGE on a stored balance out of range. */
  credit(userId: string, amount: number, depositId: string): Promise<{ balance: number; duplicate: boolean }>;
  /** A withdrawal (issue 14), idempotent by its id (same id, same content: the first answer with
   *  duplicate true; other content: E_DUPLICATE_CONFLICT); E_INSUFFICIENT_FUNDS beyond the balance.
   *  One atomic step with bets: a withdrawal and a bet never both spend the same money. */
  debit(userId: string, amount: number, withdrawalId: string): Promise<{ balance: number; duplicate: boolean }>;
  /** the balance; E_BALANCE_OUT_OF_RANGE when the stored value is not an exact integer 0..2^53-1 */
  balance(userId: string): Promise<number>;
  // ---- ledger (issue 14): one entry per balance change, written atomically with it ----
  /** One user's entries, newest first, strictly older than `before` (an entryId; null = newest);
   *  `next` is the cursor of the following page (null when no older entry is kept in the store). */
  ledgerPage(userId: string, before: string | null, limit: number): Promise<{ entries: LedgerEntry[]; next: string | null }>;
  /** ALL users' entries strictly after the cursor (an entryId; null = the oldest kept), ascending by
   *  entryId (commit order), at most `limit`: what an archiver copies and resumes from. Entry
   *  numbers are contiguous (every number is one entry), so a first entry other than cursor + 1
   *  means the entries in between left the hot window before they were read. */
  ledgerFeed(after: string | null, limit: number): Promise<LedgerEntry[]>;
  /**
   * Raises the ledger's entry numbering to at least `floor` (an entryId: the last one an archive
   * holds), so no number is given twice after a restore from an older backup. `before`: the last
   * number given before the call; `raised`: it was below the floor.
   */
  ledgerFloor(floor: string): Promise<{ before: string; raised: boolean }>;
  /** the users with a balance, a page at a time (`fived reconcile`); next null after the last page */
  walletUsers(cursor: string | null, count: number): Promise<{ users: string[]; next: string | null }>;
  /** the wallet invariant's counters (operators, tests) */
  walletTotals?(): Promise<WalletTotals>;
  /** held amounts by user (all of them, or the given users), and the latest held credits (newest first, at most 1000) */
  heldCredits?(users?: string[]): Promise<{ byUser: Record<string, number>; recent: HeldEntry[] }>;
}

export interface Store extends StoreLifecycle, SettingsStore, CommitStore, BetStore, ResultStore, SettlementStore, BusStore, LeaseStore, WalletStore {
  readonly kind: 'memory' | 'redis';
  /** how a log line names where data went ('Redis', 'the store') */
  readonly label: string;
  /** where a period's bets are read for its computation (see ComputeSource) */
  computeSource(): ComputeSource;
}

/** How to open a store: Redis when a URL or sentinels are given, else the in-memory store. */
export interface StoreOptions {
  redisUrl?: string; // '' or undefined = memory
  sentinels?: Array<{ host: string; port: number }>;
  sentinelName?: string;
  /** AUTH for the Sentinels (FIVED_REDIS_SENTINEL_PASSWORD); the data nodes get redisUrl's user:password */
  sentinelPassword?: string;
  /** a bet is acknowledged only once WAIT confirms this many replicas (FIVED_REDIS_MIN_REPLICAS; default 0) */
  minReplicas?: number;
  /** the longest such a WAIT may block (FIVED_REDIS_WAIT_TIMEOUT_MS; default 1000) */
  waitTimeoutMs?: number;
  keyPrefix?: string; // '' in production; tests use their own prefix
  instance?: string; // for logs
  /** the seed key (64 hex or base64): seeds are stored sealed under it (src/store/seal.ts). Required by
   *  a RedisStore that commits or reads seeds; a MemoryStore without one makes its own in memory. */
  seedKey?: string;
  /** older seed keys, used only to unseal seeds sealed before a rotation */
  seedKeysRetired?: string[];
  /** init() only connects: no generation key, no 'inconsistent' events (default: true inside a worker thread) */
  light?: boolean;
  /** per-command timeout of the Redis command connection (default 5000 ms) */
  commandTimeoutMs?: number;
  /** no credit, payout or refund takes a balance above this (minor units; default 10^15, at most
   *  2^53-1 so every balance stays an exact integer everywhere: Lua, JS, JSON) — FIVED_MAX_BALANCE */
  maxBalance?: number;
  /** winners credited per settlement script call (default 2000) */
  settleChunk?: number;
  /** bytes of the user list refunded per void script call (default 65536) */
  refundChunkBytes?: number;
  /** PING interval of the subscriber heartbeat, and how often the data-loss check's counters are re-read (default 5000 ms) */
  heartbeatMs?: number;
  /** test hook: awaited after every settlement chunk (lets a test kill the process half-way) */
  onSettleChunk?: (info: { period: PeriodRef; chunk: number; credited: number; done: boolean }) => void | Promise<void>;
}

/** The wallet's counters: deposits + payouts + refunds = balances + stakes + withdrawals + held, to the minor unit.
 *  `payouts` and `refunds` count held credits too. Sums are taken exactly (BigInt); the fields are
 *  numbers, exact below 2^53; `balanced` is the invariant checked exactly. */
export interface WalletTotals {
  deposits: number;
  payouts: number;
  refunds: number;
  stakes: number;
  withdrawals: number; // issue 14
  balances: number; // sum of all balances
  held: number; // sum of all held amounts (payouts and refunds that would have passed the maximum balance)
  balanced: boolean; // deposits + payouts + refunds === balances + stakes + withdrawals + held, exactly
}
