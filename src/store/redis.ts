// RedisStore: the Store over ioredis + the Lua scripts in ./lua. One connection for commands
// (auto-pipelined, no offline queue: calls fail fast with E_STORE_UNAVAILABLE while Redis is down
// and work again by themselves once it is back), one lazily opened connection for subscriptions
// (resubscribed on reconnect, with an application heartbeat that notices half-open sockets).
//
// Inside a worker thread the store is "light" by default: init() only connects, so a worker never
// writes the generation key, never emits 'inconsistent' and never opens a subscriber.

import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { isMainThread } from 'node:worker_threads';
import { Redis, type RedisOptions } from 'ioredis';
import { commitmentOf } from '../core/draw.js';
import { PATTERN_COUNT, type BetSnapshot, type Paytable, type PeriodRef, type PeriodWindow } from '../core/types.js';
import { ErrorCode, FivedError, isFivedError } from '../errors.js';
import { buildAck, buildRecord, fastRecord, parseEntry } from './acks.js';
import { connectionOptions, isAuthError } from './connection.js';
import { ReplicaWait } from './replicas.js';
import { SeedSealer } from './seal.js';
import { decode, encode, f64Buffer } from './codec.js';
import { reportHeld } from './held.js';
import { HISTORY_MAXLEN, Keys, LEDGER_FEED_KEEP, LEDGER_USER_KEEP, LEDGER_USER_TTL_S, PERIOD_TTL_S, RESULT_TTL_S, parsePeriodMember, periodMember } from './keys.js';
import { checkReply, defineScripts, runScript, statusError, storeError, type ScriptArg, type ScriptName } from './scripts.js';
import type {
  LedgerEntry,   BetAck, BetLimits, BetRecord, BusHandler, Fence, HeldEntry, HistoryEntry, Lease, PeriodRecord, PlaceBetInput,
  SettlementPlan, Store, StoreEvents, StoreOptions, StoredResult, WalletTotals,
} from './types.js';
import {
  type CheckedBet, checkBet, checkPlan, exactBalance, maxBalanceOf, parseHeldEntry, validateClientId, validateDrawn, validateFence, validateNow, validateRef, validateResult, validateSeed,
  validateUserId, validateWindow, storedResultVerifies,
} from './validate.js';
import { validateAmount } from '../core/rules.js';
import { parseLedgerEntry } from '../core/ledger.js';
import { pageOf, validateCursor, validateLedgerLimit } from './ledger.js';

const SNAPSHOT_CHUNK = 4 * 1024 * 1024;
const DEFAULT_SETTLE_CHUNK = 2000;
const DEFAULT_REFUND_CHUNK_BYTES = 64 * 1024;
const DEFAULT_HEARTBEAT_MS = 5000;
/** Bets per bet_batch.lua call at most (a full batch is sent at once, without waiting for the turn's end). */
const MAX_BATCH_BETS = 256;
/** bytes of one bet's numbers in bet_batch.lua's packed argument */
const BET_ARG_BYTES = 27;

/** compare-and-set of the settings schedule (ARGV[1] '0': only if absent) */
const SWAP_SETTINGS = `local cur = redis.call('GET', KEYS[1])
if (ARGV[1] == '0' and cur == false) or (ARGV[1] == '1' and cur == ARGV[2]) then redis.call('SET', KEYS[1], ARGV[3]) return 1 end
return 0`;

/** Bets of one period (and one set of limits) waiting for the end of the event-loop turn. */
interface BetBatch {
  period: PeriodWindow;
  limits: BetLimits;
  paytable: Paytable;
  bets: Array<{ input: PlaceBetInput; c: CheckedBet; resolve: (ack: BetAck) => void; reject: (err: unknown) => void }>;
}

/** ioredis failures that mean "Redis is not reachable right now" rather than a bug. */
function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  // NOREPLICAS: the primary refuses writes while too few replicas are connected (min-replicas-to-write)
  if (err.name === 'ReplyError') return /LOADING|MASTERDOWN|READONLY|BUSY|NOREPLICAS/.test(err.message);
  return true; // closed/unwritable stream, timeouts, MaxRetriesPerRequestError, ECONNREFUSED, ...
}

/** `lastConnError`: the connection's latest 'error' event (a refused AUTH shows only there; the
 *  command itself fails with "Connection is closed"). */
function mapError(err: unknown, lastConnError: Error | null = null): FivedError {
  if (isFivedError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (isAuthError(err)) return authError(message);
  if (isConnectionError(err) && isAuthError(lastConnError)) return authError(lastConnError!.message);
  if (isConnectionError(err)) return new FivedError(ErrorCode.STORE_UNAVAILABLE, `redis unavailable: ${message}`);
  return new FivedError(ErrorCode.INTERNAL, `redis: ${message}`);
}

/** E_STORE_AUTH: what was refused, and the settings that give the credentials. */
function authError(message: string): FivedError {
  return new FivedError(ErrorCode.STORE_AUTH, `redis refused the credentials (${message}): check the user:password of FIVED_REDIS_URL and, with Sentinels, FIVED_REDIS_SENTINEL_PASSWORD`);
}

/** Connects (or waits for a connection under way); refused credentials end the wait at once (in
 *  Sentinel mode ioredis would otherwise retry for ever). */
function connectOnce(r: Redis): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => { if (isAuthError(err)) { cleanup(); reject(err); } };
    const cleanup = () => r.off('error', onError);
    r.on('error', onError);
    const done = (p: Promise<unknown>) => p.then(() => { cleanup(); resolve(); }, (err: unknown) => { cleanup(); reject(err); });
    if (r.status === 'wait') done(r.connect());
    else if (r.status === 'ready') done(Promise.resolve());
    else done(new Promise<void>((res, rej) => {
      r.once('ready', res);
      r.once('end', () => rej(new Error('connection ended')));
    }));
  });
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(v ?? 0);
}

export class RedisStore implements Store {
  readonly kind = 'redis' as const;
  readonly keys: Keys;
  /** times this instance found the store inconsistent (metric) */
  inconsistencies = 0;

  private readonly redis: Redis;
  /** bets and credits: their own connection when they wait for replicas (a WAIT holds up every later
   *  command of its connection, reads included), else the command connection */
  private readonly writer: Redis;
  private readonly replicas: ReplicaWait;
  private sub: Redis | null = null;
  private lastConnError: Error | null = null;
  private readonly opts: StoreOptions;
  private readonly light: boolean;
  /** no credit, payout or refund takes a balance above this (StoreOptions.maxBalance) */
  private readonly maxBalance: number;
  private readonly events = new EventEmitter();
  private readonly handlers = new Map<string, Set<BusHandler>>();
  private heartbeat: NodeJS.Timeout | null = null;
  private generation: string | null = null;
  private consistent = true;
  private connected = false;
  private initialized = false;
  private closed = false;
  /** highest wallet stakes total seen: it only grows, so a smaller one means older data */
  private maxStakes = 0;
  private maxEpoch = 0;
  /** periods this instance committed or took bets on, voided if the store turns out to have lost data */
  private readonly openPeriods = new Map<string, PeriodWindow>();
  /** per-period bet batches of the current event-loop turn (see placeBet) */
  private readonly betBatches = new Map<string, BetBatch>();
  private flushQueued = false;
  /** built on first use: a light store of a worker or a tool that never touches a seed needs no key */
  private sealer: SeedSealer | null = null;

  constructor(opts: StoreOptions) {
    this.opts = opts;
    this.maxBalance = maxBalanceOf(opts);
    this.keys = new Keys(opts.keyPrefix ?? '');
    this.light = opts.light ?? !isMainThread;
    this.redis = new Redis(this.connectionOptions('commands'));
    defineScripts(this.redis);
    const minReplicas = opts.minReplicas ?? 0;
    this.writer = minReplicas > 0 ? new Redis(this.connectionOptions('writer')) : this.redis;
    if (this.writer !== this.redis) {
      defineScripts(this.writer);
      this.writer.on('error', () => undefined); // its commands fail with coded errors
    }
    this.replicas = new ReplicaWait(this.writer, minReplicas, opts.waitTimeoutMs ?? 1000, (err) => mapError(err, this.lastConnError));
    this.events.setMaxListeners(100);
    // surfaced through 'down' and coded errors instead (E_STORE_AUTH when it was the credentials)
    this.redis.on('error', (err: Error) => { this.lastConnError = err; });
    this.redis.on('ready', () => {
      this.lastConnError = null;
      this.connected = true;
      if (this.initialized) void this.afterReconnect();
    });
    this.redis.on('close', () => {
      if (this.connected) {
        this.connected = false;
        this.events.emit('down', new FivedError(ErrorCode.STORE_UNAVAILABLE, 'redis connection lost'));
      }
    });
  }

  private connectionOptions(role: 'commands' | 'writer' | 'subscriber'): RedisOptions {
    const o = this.opts;
    const subscriber = role === 'subscriber';
    const base: RedisOptions = {
      lazyConnect: true,
      enableAutoPipelining: !subscriber,
      // a bet batch is already one command per event-loop turn: auto-pipelining it would only
      // wait for one more turn (ioredis defers its pipelines with setImmediate)
      autoPipeliningIgnoredCommands: ['fivedBetBatch'],
      // no unbounded queue: while Redis is down a call fails at once with E_STORE_UNAVAILABLE
      enableOfflineQueue: subscriber,
      maxRetriesPerRequest: subscriber ? null : 1,
      commandTimeout: subscriber ? undefined : (o.commandTimeoutMs ?? 5000),
      connectTimeout: 2000,
      retryStrategy: (times: number) => Math.min(50 * times, 1000),
      connectionName: `fived:${o.instance ?? process.pid}${subscriber ? ':sub' : role === 'writer' ? ':w' : ''}`,
    };
    return connectionOptions(o, base);
  }

  /** Runs one store operation, turning ioredis failures into coded errors. */
  private async op<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new FivedError(ErrorCode.STORE_UNAVAILABLE, 'store closed');
    try {
      return await fn();
    } catch (err) {
      throw mapError(err, this.lastConnError);
    }
  }

  private script(name: ScriptName, keys: readonly string[], args: readonly ScriptArg[], buffers = false): Promise<unknown> {
    return runScript(this.redis, name, keys, args, buffers);
  }

  // ---- lifecycle ----

  async init(): Promise<void> {
    if (this.initialized) return;
    await this.op(async () => {
      await connectOnce(this.redis);
      if (this.writer !== this.redis) await connectOnce(this.writer);
    });
    this.connected = true;
    if (!this.light) {
      await this.op(async () => {
        const found = await this.redis.get(this.keys.generation);
        this.generation = found ?? (await this.adoptGeneration());
        this.maxStakes = num(await this.redis.hget(this.keys.totals, 'stakes'));
        this.maxEpoch = num(await this.redis.get(this.keys.epoch));
      });
    }
    this.initialized = true;
  }

  /** SET NX a fresh generation id; returns whichever id the store holds. */
  private async adoptGeneration(): Promise<string> {
    await this.redis.set(this.keys.generation, randomBytes(12).toString('hex'), 'NX');
    return (await this.redis.get(this.keys.generation)) ?? '';
  }

  /** After every reconnect: the same store as before (generation, counters that only grow)? */
  private async afterReconnect(): Promise<void> {
    if (this.light || this.closed) return;
    // What the old connection acknowledged, taken now, synchronously in 'ready': replies to commands
    // sent after these reads (players' bets retried at once) raise maxStakes before the reads come
    // back, and compared with those, the reads would look older although nothing was lost.
    const seenStakes = this.maxStakes;
    const seenEpoch = this.maxEpoch;
    try {
      const [found, stakes, epoch] = await Promise.all([
        this.redis.get(this.keys.generation),
        this.redis.hget(this.keys.totals, 'stakes'),
        this.redis.get(this.keys.epoch),
      ]);
      const older = num(stakes) < seenStakes || num(epoch) < seenEpoch;
      if (found !== this.generation || older) {
        const why = found !== this.generation
          ? 'generation key missing or different'
          : `counters went backwards (older data): stakes ${num(stakes)} < ${seenStakes} seen, or epoch ${num(epoch)} < ${seenEpoch} seen`;
        await this.onInconsistent(found, why);
      } else {
        this.events.emit('ready');
      }
    } catch {
      // the connection dropped again; the next 'ready' checks again
    }
  }

  private async onInconsistent(found: string | null, why: string): Promise<void> {
    this.consistent = false;
    this.inconsistencies += 1;
    const expected = this.generation;
    console.error(JSON.stringify({ level: 'error', msg: 'store inconsistent: Redis lost data; voiding open periods', code: ErrorCode.STORE_INCONSISTENT, why, expected, found, instance: this.opts.instance }));
    this.events.emit('inconsistent', { expected, found });
    const now = Date.now();
    for (const [k, w] of this.openPeriods) {
      this.openPeriods.delete(k);
      if (w.endsAt <= now - 60_000) continue;
      try {
        await this.voidPeriod(w, `store data lost (${why})`);
      } catch (err) {
        console.error(JSON.stringify({ level: 'error', msg: 'voiding after data loss failed', periodId: w.periodId, err: String(err) }));
      }
    }
    await this.newGeneration();
  }

  /**
   * Starts a new generation: the store is consistent again from here on. Retried each second while
   * Redis refuses the write (e.g. `NOREPLICAS` right after a failover): a single try that failed
   * left every bet refused E_STORE_INCONSISTENT until the next reconnect, which may never come
   * (found by test/redis-failover.test.ts with FIVED_REDIS_MIN_REPLICAS=0).
   */
  private async newGeneration(): Promise<void> {
    while (!this.closed) {
      try {
        this.generation = await this.adoptGeneration();
        this.maxStakes = num(await this.redis.hget(this.keys.totals, 'stakes'));
        this.consistent = true;
        this.events.emit('ready');
        return;
      } catch (err) {
        console.error(JSON.stringify({ level: 'warn', msg: 'store inconsistent: a new generation could not be written yet; retrying in 1 s', err: String(err), instance: this.opts.instance }));
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    const quit = async (r: Redis) => {
      try {
        if (r.status === 'ready') await r.quit();
        else r.disconnect();
      } catch {
        r.disconnect();
      }
    };
    await Promise.all([quit(this.redis), this.writer !== this.redis ? quit(this.writer) : Promise.resolve(), this.sub ? quit(this.sub) : Promise.resolve()]);
  }

  async serverTime(): Promise<number> {
    return this.op(async () => {
      const [s, us] = await this.redis.time();
      return Number(s) * 1000 + Math.floor(Number(us) / 1000);
    });
  }

  healthy(): boolean {
    return this.connected && this.consistent && !this.closed && this.redis.status === 'ready' && this.writer.status === 'ready';
  }

  on<E extends keyof StoreEvents>(event: E, fn: StoreEvents[E]): void {
    this.events.on(event, fn as (...a: unknown[]) => void);
  }

  async getSettings(): Promise<string | null> {
    return this.op(() => this.redis.get(this.keys.settings));
  }

  async swapSettings(expected: string | null, next: string): Promise<boolean> {
    return this.op(async () => {
      const r = await this.redis.eval(SWAP_SETTINGS, 1, this.keys.settings, expected === null ? '0' : '1', expected ?? '', next);
      return r === 1;
    });
  }

  private track(w: PeriodWindow): void {
    const k = periodMember(w);
    if (this.openPeriods.has(k)) return;
    if (this.openPeriods.size > 256) {
      const now = Date.now();
      for (const [key, p] of this.openPeriods) if (p.endsAt < now) this.openPeriods.delete(key);
    }
    this.openPeriods.set(k, { duration: w.duration, timeline: w.timeline, periodId: w.periodId, startsAt: w.startsAt, freezeAt: w.freezeAt, endsAt: w.endsAt });
  }

  private requireConsistent(): void {
    if (!this.consistent) throw new FivedError(ErrorCode.STORE_INCONSISTENT, 'the store lost data (generation mismatch); refusing until it is consistent again');
  }

  // ---- commitments ----

  /** The seed key of this process; without one nothing can be committed or unsealed (E_CONFIG_INVALID). */
  private seeds(): SeedSealer {
    if (this.sealer) return this.sealer;
    if (!this.opts.seedKey) {
      throw new FivedError(ErrorCode.CONFIG_INVALID, 'the Redis store keeps seeds sealed: set FIVED_SEED_KEY (32 bytes, 64 hex characters or base64; `openssl rand -hex 32`)');
    }
    this.sealer = SeedSealer.fromText(this.opts.seedKey, this.opts.seedKeysRetired ?? []);
    return this.sealer;
  }

  async commit(period: PeriodWindow, seedHex: string, now: number): Promise<{ commitment: string; created: boolean }> {
    validateWindow(period);
    const seed = validateSeed(seedHex);
    const t = validateNow(now);
    const commitment = commitmentOf(seed);
    // only the sealed seed goes to Redis: nothing at rest predicts the period's result
    const { sealed, keyId, iv } = this.seeds().seal(period, seed);
    const k = this.keys.period(period);
    const reply = await this.op(() => this.script('fivedCommit', [k.meta], [sealed, commitment, period.startsAt, period.freezeAt, period.endsAt, t, PERIOD_TTL_S, keyId, iv]));
    const [status, winner] = checkReply<[number, string]>(reply, { periodId: period.periodId });
    this.track(period);
    return { commitment: winner, created: status === 1 };
  }

  async getCommitment(period: PeriodRef): Promise<string | null> {
    validateRef(period);
    return this.op(() => this.redis.hget(this.keys.period(period).meta, 'commitment'));
  }

  async getSeed(period: PeriodRef): Promise<string | null> {
    validateRef(period);
    const sealer = this.seeds();
    const [sealed, keyId, iv, legacy] = await this.op(() => this.redis.hmget(this.keys.period(period).meta, 'sealedSeed', 'seedKeyId', 'seedIv', 'seed'));
    if (sealed != null && keyId != null) return sealer.unseal(period, { keyId, iv: iv ?? '', sealed });
    // written in clear by a version before sealing (gone with the hash's TTL): readable as before
    return legacy ?? null;
  }

  // ---- bets ----

  /**
   * Validates at once (bad input throws and writes nothing), then queues the bet for its period's
   * batch: every bet of a period queued in one event-loop turn goes to Redis in ONE script call
   * (bet_batch.lua), each still all or nothing and seeing the earlier ones. One EVALSHA costs Redis
   * ~9 µs and Node a fixed per-call price; a batch shares both.
   */
  async placeBet(input: PlaceBetInput, limits: BetLimits, paytable: Paytable, now: number): Promise<BetAck> {
    this.requireConsistent();
    const c = checkBet(input, limits, paytable, now);
    if (this.closed) throw new FivedError(ErrorCode.STORE_UNAVAILABLE, 'store closed');
    const p = input.period;
    // limits and paytable are script arguments: bets under other settings go into another batch
    const key = `${periodMember(p)}|${limits.maxUserStakePerPeriod}|${limits.maxLiability}|${limits.maxBetsPerUserPerPeriod}|${paytable.number}|${paytable.bigSmall}|${paytable.oddEven}|${paytable.sumBigSmall}|${paytable.sumOddEven}`;
    let batch = this.betBatches.get(key);
    if (!batch) {
      batch = { period: p, limits, paytable, bets: [] };
      this.betBatches.set(key, batch);
    }
    const b = batch;
    return new Promise<BetAck>((resolve, reject) => {
      b.bets.push({ input, c, resolve, reject });
      if (b.bets.length >= MAX_BATCH_BETS) {
        this.betBatches.delete(key);
        void this.sendBets(b);
      } else if (!this.flushQueued) {
        // setImmediate, not a microtask: bets arriving in separate I/O callbacks of one loop turn join
        this.flushQueued = true;
        setImmediate(() => this.flushBets());
      }
    });
  }

  private flushBets(): void {
    this.flushQueued = false;
    const batches = [...this.betBatches.values()];
    this.betBatches.clear();
    for (const b of batches) void this.sendBets(b);
  }

  /** One bet_batch.lua call for the batch; every caller gets its own ack or coded error. */
  private async sendBets(b: BetBatch): Promise<void> {
    const p = b.period;
    const k = this.keys.period(p);
    const userNo = new Map<string, number>();
    const users: string[] = [];
    const keys = [k.meta, k.recs, k.users, k.uidx, k.gross, k.net, k.ustake, k.idem, this.keys.balances, this.keys.totals, this.keys.unfinished, this.keys.ledgerSeq, this.keys.ledgerFeed, this.keys.ledgerPending];
    const nums = Buffer.allocUnsafe(b.bets.length * BET_ARG_BYTES);
    const ids: string[] = [];
    b.bets.forEach((q, i) => {
      const id = q.input.userId;
      let u = userNo.get(id);
      if (u === undefined) {
        users.push(id);
        u = users.length;
        userNo.set(id, u);
        keys.push(this.keys.userPeriodBets(p, id), this.keys.userPeriods(id), this.keys.ledgerUser(id));
      }
      // '<HBddd': user, pattern, amount, net, now (binary: text parsing costs Redis more than a bet)
      const o = i * BET_ARG_BYTES;
      nums.writeUInt16LE(u, o);
      nums.writeUInt8(q.c.pattern, o + 2);
      nums.writeDoubleLE(q.c.amount, o + 3);
      nums.writeDoubleLE(q.c.net, o + 11);
      nums.writeDoubleLE(q.c.now, o + 19);
      ids.push(q.input.clientBetId);
    });
    const { limits: l, paytable: pt } = b;
    const args: ScriptArg[] = [
      l.maxUserStakePerPeriod, l.maxLiability, periodMember(p), PERIOD_TTL_S, pt.number, pt.bigSmall, pt.oddEven, pt.sumBigSmall, pt.sumOddEven,
      l.maxBetsPerUserPerPeriod, LEDGER_FEED_KEEP, LEDGER_USER_TTL_S, LEDGER_USER_KEEP, users.length, ...users, nums, ...ids,
    ];
    let reply: number[];
    try {
      reply = (await this.op(() => runScript(this.writer, 'fivedBetBatch', keys, args))) as number[];
      // acknowledged only once replicated (FIVED_REDIS_MIN_REPLICAS): a failover loses no acked bet
      await this.replicas.confirm();
    } catch (err) {
      // e.g. Redis down: E_STORE_UNAVAILABLE (nothing written) or E_STORE_UNCONFIRMED (written, not
      // replicated in time: its retry with the same clientBetId answers whether it stands)
      for (const q of b.bets) q.reject(err);
      return;
    }
    // counters seen only once replicated: a promoted replica holds them, so no false "older data"
    const stakes = num(reply[0]);
    if (stakes > this.maxStakes) this.maxStakes = stakes;
    let tracked = false;
    b.bets.forEach((q, i) => {
      const [status, seq, placedAt, balance] = [reply[1 + 4 * i], reply[2 + 4 * i], reply[3 + 4 * i], reply[4 + 4 * i]].map(num) as [number, number, number, number];
      const { input, c } = q;
      if (status < 0) {
        q.reject(statusError(status, { periodId: p.periodId, clientBetId: input.clientBetId }));
        return;
      }
      if (!tracked) { this.track(input.period); tracked = true; }
      q.resolve(buildAck(input.period, input.userId, input.clientBetId, { seq, pattern: c.pattern, amount: c.amount, placedAt, balance }, status === 2));
    });
  }

  async freeze(period: PeriodRef): Promise<{ betCount: number }> {
    validateRef(period);
    const k = this.keys.period(period);
    const reply = await this.op(() => this.script('fivedFreeze', [k.meta, k.users, k.recs], [PERIOD_TTL_S]));
    return { betCount: num((reply as unknown[])[0]) };
  }

  async snapshot(period: PeriodRef): Promise<BetSnapshot> {
    validateRef(period);
    const k = this.keys.period(period);
    return this.op(async () => {
      const reply = (await this.script('fivedFreeze', [k.meta, k.users, k.recs], [PERIOD_TTL_S])) as unknown[];
      const bytes = num(reply[0]) * 16;
      // after the flag no bet can be appended: reading in several large pieces is consistent
      const parts: Array<Promise<Buffer>> = [];
      for (let off = 0; off < bytes; off += SNAPSHOT_CHUNK) {
        parts.push(this.redis.getrangeBuffer(k.recs, off, Math.min(off + SNAPSHOT_CHUNK, bytes) - 1));
      }
      const usersP = this.redis.getBuffer(k.users);
      const records = new Uint8Array(bytes); // a fresh ArrayBuffer of its own: safe to transfer
      let at = 0;
      for (const part of await Promise.all(parts)) {
        records.set(part, at);
        at += part.length;
      }
      if (at !== bytes) throw new FivedError(ErrorCode.INTERNAL, `snapshot of ${period.periodId}: read ${at} of ${bytes} record bytes`);
      const ub = await usersP;
      const users = ub && ub.length > 0 ? ub.toString('utf8', 0, ub.length - 1).split('\n') : [];
      return { records, users };
    });
  }

  async patternTotals(period: PeriodRef): Promise<Float64Array> {
    validateRef(period);
    const h = await this.op(() => this.redis.hgetall(this.keys.period(period).gross));
    const out = new Float64Array(PATTERN_COUNT);
    for (const [f, v] of Object.entries(h)) {
      const i = Number(f);
      if (Number.isInteger(i) && i >= 0 && i < PATTERN_COUNT) out[i] = Number(v);
    }
    return out;
  }

  async userBets(userId: string, period?: PeriodRef, limit = 50): Promise<BetRecord[]> {
    validateUserId(userId);
    if (period) validateRef(period);
    const max = Math.max(1, Math.min(Number.isSafeInteger(limit) ? limit : 50, 1000));
    return this.op(async () => {
      let refs: PeriodRef[];
      if (period) refs = [period];
      else {
        const members = await this.redis.zrevrange(this.keys.userPeriods(userId), 0, max - 1);
        refs = members.map(parsePeriodMember).filter((r): r is PeriodRef => r !== null);
      }
      const out: BetRecord[] = [];
      for (const ref of refs) {
        if (out.length >= max) break;
        const k = this.keys.period(ref);
        const ids = await this.redis.lrange(this.keys.userPeriodBets(ref, userId), 0, -1);
        if (ids.length === 0) continue;
        const [entries, meta] = await Promise.all([
          this.redis.hmget(k.idem, ...ids.map((id) => `${userId}\n${id}`)),
          this.redis.hmget(k.meta, 'void', 'settled'),
        ]);
        const isVoid = meta[0] !== null;
        const settled = meta[1] !== null;
        const rows: Array<{ id: string; e: NonNullable<ReturnType<typeof parseEntry>> }> = [];
        for (let i = ids.length - 1; i >= 0 && out.length + rows.length < max; i--) {
          const e = parseEntry(entries[i] ?? '');
          if (e) rows.push({ id: ids[i]!, e });
        }
        // outcomes only once the whole settlement is applied (never before the period's end)
        const pays = settled && !isVoid
          ? await Promise.all(rows.map(({ e }) => this.redis.getrangeBuffer(k.pay, e.seq * 8, e.seq * 8 + 7)))
          : [];
        rows.forEach(({ id, e }, j) => {
          const b = pays[j];
          const payout = b && b.length === 8 ? b.readDoubleLE(0) : 0;
          out.push(buildRecord(ref, userId, id, e, { void: isVoid, settled, payout }));
        });
      }
      return out;
    });
  }

  async periodPayouts(period: PeriodRef): Promise<Float64Array | null> {
    validateRef(period);
    const b = await this.op(() => this.redis.getBuffer(this.keys.period(period).pay));
    if (!b) return null;
    const out = new Float64Array(b.length >> 3);
    for (let i = 0; i < out.length; i++) out[i] = b.readDoubleLE(i * 8);
    return out;
  }

  async periodBets(period: PeriodRef): Promise<BetRecord[]> {
    validateRef(period);
    const k = this.keys.period(period);
    return this.op(async () => {
      const [meta, pay] = await Promise.all([this.redis.hmget(k.meta, 'void', 'settled'), this.redis.getBuffer(k.pay)]);
      const state = { void: meta[0] !== null, settled: meta[1] !== null };
      const out: BetRecord[] = [];
      // HSCAN, not HGETALL: a period of a million bets is read in pieces that never stall Redis
      let cursor = '0';
      do {
        const [next, kv] = await this.redis.hscan(k.idem, cursor, 'COUNT', 5000);
        cursor = next;
        for (let i = 0; i + 1 < kv.length; i += 2) {
          const nl = kv[i]!.indexOf('\n');
          const e = parseEntry(kv[i + 1]!);
          if (nl < 0 || !e) continue;
          const payout = state.settled && !state.void && pay && pay.length >= e.seq * 8 + 8 ? pay.readDoubleLE(e.seq * 8) : 0;
          out.push(fastRecord(period, kv[i]!.slice(0, nl), kv[i]!.slice(nl + 1), e, { ...state, payout }));
        }
      } while (cursor !== '0');
      return out.sort((a, b) => a.seq - b.seq);
    });
  }

  // ---- results ----

  async storeResult(result: StoredResult, fence?: Fence): Promise<{ result: StoredResult; stored: boolean }> {
    validateResult(result);
    const f = validateFence(fence);
    const k = this.keys.period(result);
    const ttl = RESULT_TTL_S + result.duration;
    const reply = await this.op(() => this.script('fivedResult', [k.result, k.meta, this.keys.epoch], [encode(result), ttl, f, result.commitment], true));
    const [status, value] = checkReply<[number, Buffer]>(reply, { periodId: result.periodId });
    return { result: decode<StoredResult>(value), stored: status === 1 };
  }

  async getResult(period: PeriodRef): Promise<StoredResult | null> {
    validateRef(period);
    const b = await this.op(() => this.redis.getBuffer(this.keys.period(period).result));
    return b ? decode<StoredResult>(b) : null;
  }

  async getPeriod(period: PeriodRef): Promise<PeriodRecord> {
    validateRef(period);
    const k = this.keys.period(period);
    const [m, r, recBytes] = await this.op(() => Promise.all([this.redis.hgetall(k.meta), this.redis.getBuffer(k.result), this.redis.strlen(k.recs)]));
    const result = r ? decode<StoredResult>(r) : null;
    const isVoid = m.void !== undefined;
    const settled = m.settled !== undefined;
    const status = isVoid ? 'void' : settled ? 'settled' : result ? 'resulted' : m.frozen ? 'frozen' : m.commitment ? 'open' : 'unknown';
    return {
      duration: period.duration, timeline: period.timeline, periodId: period.periodId, status,
      commitment: m.commitment ?? null, result, voidReason: isVoid ? (m.reason ?? '') : null, betCount: recBytes / 16, settled,
    };
  }

  // ---- settlement ----

  async saveSettlement(plan: SettlementPlan, fence?: Fence): Promise<void> {
    const { winners, total } = checkPlan(plan);
    const f = validateFence(fence);
    const p = plan.period;
    const k = this.keys.period(p);
    const wamt = new Float64Array(winners.length);
    const ids: string[] = new Array(winners.length);
    winners.forEach((ui, i) => { wamt[i] = plan.userPayouts[ui]!; ids[i] = plan.users[ui]!; });
    const args: ScriptArg[] = [f, plan.betCount, f64Buffer(plan.payouts), f64Buffer(wamt), total, p.endsAt, periodMember(p), PERIOD_TTL_S, ...ids];
    const reply = await this.op(() => this.script('fivedSettleSave', [k.meta, k.pay, k.wusers, k.wamt, this.keys.pending, this.keys.epoch, k.recs], args));
    checkReply(reply, { periodId: p.periodId });
  }

  async applySettlement(period: PeriodRef, now: number, fence?: Fence): Promise<{ applied: boolean; credited: number; held: number }> {
    validateRef(period);
    const t = validateNow(now);
    const f = validateFence(fence);
    const k = this.keys.period(period);
    const keys = [k.meta, k.wusers, k.wamt, this.keys.balances, this.keys.totals, this.keys.pending, this.keys.epoch, this.keys.unfinished, this.keys.held, this.keys.heldLog, this.keys.ledgerSeq, this.keys.ledgerFeed, this.keys.ledgerPending];
    const chunk = this.opts.settleChunk ?? DEFAULT_SETTLE_CHUNK;
    let credited = 0;
    let held = 0;
    let heldCount = 0;
    let applied = false;
    try {
      for (let cursor = 0; ; cursor++) {
        const reply = await this.op(() => this.script('fivedSettleApply', keys, [f, t, chunk, periodMember(period), this.maxBalance, LEDGER_FEED_KEEP]));
        const [status, c, done, h, hc] = checkReply<[number, number, number, number, number]>(reply, { periodId: period.periodId });
        credited += num(c);
        held += num(h);
        heldCount += num(hc);
        if (status === 1) applied = true;
        if (this.opts.onSettleChunk) await this.opts.onSettleChunk({ period, chunk: cursor, credited, done: done === 1 });
        if (done === 1) break;
      }
    } finally {
      // reported even when a later chunk fails: those chunks are applied and will not run again
      reportHeld(this.events, this.opts.instance, 'payout', period, held, heldCount);
    }
    // applied: this call made progress; false when it was settled before (a second apply changes nothing)
    return { applied, credited, held };
  }


  async claimSettlement(period: PeriodRef, claimant: string, ttlMs: number): Promise<boolean> {
    validateRef(period);
    if (typeof claimant !== 'string' || claimant.length === 0) throw new FivedError(ErrorCode.BAD_REQUEST, 'claimant must be a non-empty string');
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 1) throw new FivedError(ErrorCode.BAD_REQUEST, 'ttlMs must be a positive integer');
    const r = await this.op(() => this.script('fivedClaim', [this.keys.period(period).claim], [claimant, ttlMs]));
    return r === 1;
  }

  async pendingSettlements(): Promise<PeriodWindow[]> {
    return this.op(async () => this.windowsOf(await this.redis.zrange(this.keys.pending, 0, -1)));
  }

  async unfinishedPeriods(endedBy: number, limit: number): Promise<PeriodWindow[]> {
    const t = validateNow(endedBy);
    const n = Math.max(1, Math.min(Number.isSafeInteger(limit) ? limit : 100, 1000));
    return this.op(async () => this.windowsOf(await this.redis.zrangebyscore(this.keys.unfinished, '-inf', t, 'LIMIT', 0, n)));
  }

  /** The windows of period members (from each meta hash); members whose meta expired are skipped. */
  private async windowsOf(members: string[]): Promise<PeriodWindow[]> {
    const refs = members.map(parsePeriodMember).filter((r): r is PeriodRef => r !== null);
    // one round trip for all (auto-pipelined), not one per member
    const metas = await Promise.all(refs.map((ref) => this.redis.hmget(this.keys.period(ref).meta, 'startsAt', 'freezeAt', 'endsAt')));
    const out: PeriodWindow[] = [];
    refs.forEach((ref, i) => {
      const [s, f, e] = metas[i]!;
      if (e === null || e === undefined) return; // the meta expired: nothing left to apply
      out.push({ ...ref, startsAt: num(s), freezeAt: num(f), endsAt: num(e) });
    });
    return out;
  }

  async isSettled(period: PeriodRef): Promise<boolean> {
    validateRef(period);
    return (await this.op(() => this.redis.hexists(this.keys.period(period).meta, 'settled'))) === 1;
  }

  // ---- void ----

  async voidPeriod(period: PeriodRef, reason: string): Promise<{ refunded: number; held: number }> {
    validateRef(period);
    if (typeof reason !== 'string' || reason.length === 0 || reason.length > 500) throw new FivedError(ErrorCode.BAD_REQUEST, 'void reason must be 1-500 characters');
    const k = this.keys.period(period);
    const start = await this.op(() => this.script('fivedVoidStart', [k.meta, this.keys.pending, k.result], [reason, periodMember(period), PERIOD_TTL_S]));
    checkReply(start, { periodId: period.periodId });
    return this.refundAll(period);
  }

  async voidUnverifiedResult(period: PeriodRef, reason: string): Promise<{ refunded: number; held: number }> {
    validateRef(period);
    if (typeof reason !== 'string' || reason.length === 0 || reason.length > 500) throw new FivedError(ErrorCode.BAD_REQUEST, 'void reason must be 1-500 characters');
    const k = this.keys.period(period);
    const [raw, commitment] = await this.op(() => Promise.all([this.redis.getBuffer(k.result), this.redis.hget(k.meta, 'commitment')]));
    if (!raw) return this.voidPeriod(period, reason);
    let verifies = false;
    try {
      verifies = storedResultVerifies(decode<StoredResult>(raw), commitment);
    } catch {
      verifies = false; // undecodable: it does not verify
    }
    if (verifies) throw storeError(ErrorCode.ALREADY_RESULTED, { periodId: period.periodId });
    const sha1 = createHash('sha1').update(raw).digest('hex');
    const start = await this.op(() => this.script('fivedVoidRejected', [k.meta, this.keys.pending, k.result, k.rejected], [reason, periodMember(period), PERIOD_TTL_S, sha1]));
    checkReply(start, { periodId: period.periodId });
    return this.refundAll(period);
  }

  /** Refunds the users of a void period in journaled chunks (void_refund.lua); resumes where it stopped. */
  private async refundAll(period: PeriodRef): Promise<{ refunded: number; held: number }> {
    const k = this.keys.period(period);
    const chunk = this.opts.refundChunkBytes ?? DEFAULT_REFUND_CHUNK_BYTES;
    const keys = [k.meta, k.users, k.ustake, this.keys.balances, this.keys.totals, this.keys.unfinished, this.keys.held, this.keys.heldLog, this.keys.ledgerSeq, this.keys.ledgerFeed, this.keys.ledgerPending];
    let refunded = 0;
    let held = 0;
    let heldCount = 0;
    try {
      for (;;) {
        const reply = (await this.op(() => this.script('fivedVoidRefund', keys, [chunk, periodMember(period), this.maxBalance, LEDGER_FEED_KEEP]))) as number[];
        refunded += num(reply[1]);
        held += num(reply[3]);
        heldCount += num(reply[4]);
        if (reply[2] === 1) break;
      }
    } finally {
      reportHeld(this.events, this.opts.instance, 'refund', period, held, heldCount);
    }
    return { refunded, held };
  }

  // ---- history ----

  async appendHistory(entry: HistoryEntry): Promise<boolean> {
    validateDrawn(entry);
    const key = this.keys.history(entry.duration, entry.timeline);
    try {
      await this.op(() => this.redis.xadd(
        key, 'MAXLEN', '~', HISTORY_MAXLEN, `${entry.periodId}-0`,
        'periodId', entry.periodId, 'digits', entry.digits.join(','), 'sum', entry.sum, 'seed', entry.seed, 'commitment', entry.commitment,
      ));
      return true;
    } catch (err) {
      // the explicit id is the period: a second append (or an older period after a newer one) fails
      if (isFivedError(err, ErrorCode.INTERNAL) && /equal or smaller/.test(err.message)) return false;
      throw err;
    }
  }

  async history(duration: number, timeline: string, opts: { afterPeriodId?: string; limit: number }): Promise<HistoryEntry[]> {
    validateRef({ duration, timeline, periodId: opts.afterPeriodId ?? '20000101000000001' });
    const limit = Math.max(1, Math.min(Number.isSafeInteger(opts.limit) ? opts.limit : 100, 5000));
    const key = this.keys.history(duration, timeline);
    const rows = await this.op(async () => opts.afterPeriodId
      ? this.redis.xrange(key, `(${opts.afterPeriodId}-0`, '+', 'COUNT', limit)
      : (await this.redis.xrevrange(key, '+', '-', 'COUNT', limit)).reverse());
    return rows.map(([, fields]) => {
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
      const digits = (f.digits ?? '').split(',').map(Number) as HistoryEntry['digits'];
      return { duration, timeline, periodId: f.periodId ?? '', digits, sum: Number(f.sum), seed: f.seed ?? '', commitment: f.commitment ?? '' };
    });
  }

  // ---- bus ----

  async publish(channel: string, message: unknown): Promise<void> {
    if (typeof channel !== 'string' || !channel.startsWith('5d_precalc:')) throw new FivedError(ErrorCode.BAD_REQUEST, 'channel names begin with 5d_precalc:');
    await this.op(() => this.redis.publish(this.keys.channel(channel), encode(message)));
  }

  async subscribe(channel: string, handler: BusHandler): Promise<void> {
    if (typeof channel !== 'string' || !channel.startsWith('5d_precalc:')) throw new FivedError(ErrorCode.BAD_REQUEST, 'channel names begin with 5d_precalc:');
    const sub = this.subscriber();
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      await this.op(() => sub.subscribe(this.keys.channel(channel)));
    }
    set.add(handler);
  }

  private subscriber(): Redis {
    if (this.sub) return this.sub;
    const sub = new Redis(this.connectionOptions('subscriber')); // autoResubscribe (default) resubscribes after a reconnect
    this.sub = sub;
    sub.on('error', () => undefined);
    const prefix = this.keys.prefix;
    sub.on('messageBuffer', (ch: Buffer, msg: Buffer) => {
      const name = ch.toString().slice(prefix.length);
      const set = this.handlers.get(name);
      if (!set) return;
      let value: unknown;
      try { value = decode(msg); } catch { return; } // not ours: ignore
      for (const h of set) {
        try { h(name, value); } catch (err) { console.error(JSON.stringify({ level: 'error', msg: 'bus handler threw', channel: name, err: String(err) })); }
      }
    });
    // ioredis does not notice a half-open socket; a PING that gets no answer forces a reconnect
    const every = this.opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    this.heartbeat = setInterval(() => {
      if (sub.status !== 'ready') return;
      const timer = setTimeout(() => sub.disconnect(true), Math.max(1000, every * 0.6));
      sub.ping().then(() => clearTimeout(timer), () => clearTimeout(timer));
    }, every);
    this.heartbeat.unref();
    void sub.connect().catch(() => undefined);
    return sub;
  }

  // ---- lease ----

  async acquireLease(holder: string, ttlMs: number): Promise<Lease | null> {
    if (typeof holder !== 'string' || holder.length === 0 || holder.includes('|')) throw new FivedError(ErrorCode.BAD_REQUEST, 'lease holder must be a non-empty string without |');
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 1) throw new FivedError(ErrorCode.BAD_REQUEST, 'ttlMs must be a positive integer');
    this.requireConsistent();
    const reply = (await this.op(() => this.script('fivedLeaseAcquire', [this.keys.lease, this.keys.epoch], [holder, ttlMs, this.maxEpoch]))) as number[];
    if (reply[0] !== 1) return null;
    const epoch = num(reply[1]);
    if (num(reply[2]) < this.maxEpoch) {
      console.error(JSON.stringify({ level: 'error', msg: 'fencing epoch went backwards in Redis; continued above the highest seen', seen: this.maxEpoch, found: num(reply[2]) }));
    }
    this.maxEpoch = Math.max(this.maxEpoch, epoch);
    return { holder, epoch };
  }

  async renewLease(lease: Lease, ttlMs: number): Promise<boolean> {
    const r = await this.op(() => this.script('fivedLeaseRenew', [this.keys.lease, this.keys.epoch], [`${lease.holder}|${lease.epoch}`, ttlMs, lease.epoch]));
    return r === 1;
  }

  async releaseLease(lease: Lease): Promise<void> {
    await this.op(() => this.script('fivedLeaseRelease', [this.keys.lease], [`${lease.holder}|${lease.epoch}`]));
  }

  async currentEpoch(): Promise<number> {
    const e = num(await this.op(() => this.redis.get(this.keys.epoch)));
    if (e > this.maxEpoch) this.maxEpoch = e;
    return e;
  }

  // ---- wallet ----

  async credit(userId: string, amount: number, depositId: string): Promise<{ balance: number; duplicate: boolean }> {
    validateUserId(userId);
    validateAmount(amount);
    validateClientId(depositId, 'depositId');
    const keys = [this.keys.balances, this.keys.totals, this.keys.deposits, this.keys.ledgerSeq, this.keys.ledgerFeed, this.keys.ledgerUser(userId), this.keys.ledgerPending];
    const reply = await this.op(async () => {
      const r = await runScript(this.writer, 'fivedCredit', keys, [userId, amount, depositId, this.maxBalance, LEDGER_FEED_KEEP, LEDGER_USER_TTL_S, LEDGER_USER_KEEP]);
      await this.replicas.confirm(); // a deposit too is acknowledged only once replicated
      return r;
    });
    const [status, balance] = checkReply<[number, string]>(reply, { depositId, userId, maxBalance: this.maxBalance });
    return { balance: exactBalance(balance, userId), duplicate: status === 2 };
  }

  // ---- ledger (issue 14) ----

  async debit(userId: string, amount: number, withdrawalId: string): Promise<{ balance: number; duplicate: boolean }> {
    validateUserId(userId);
    validateAmount(amount);
    validateClientId(withdrawalId, 'withdrawalId');
    const keys = [this.keys.balances, this.keys.totals, this.keys.withdrawals, this.keys.ledgerSeq, this.keys.ledgerFeed, this.keys.ledgerUser(userId), this.keys.ledgerPending];
    const reply = await this.op(async () => {
      const r = await runScript(this.writer, 'fivedDebit', keys, [userId, amount, withdrawalId, LEDGER_FEED_KEEP, LEDGER_USER_TTL_S, LEDGER_USER_KEEP]);
      // a withdrawal is acknowledged only once replicated: a failover must not hand the money back
      await this.replicas.confirm();
      return r;
    });
    const [status, balance] = checkReply<[number, string]>(reply, { withdrawalId, userId });
    return { balance: exactBalance(balance, userId), duplicate: status === 2 };
  }

  async ledgerPage(userId: string, before: string | null, limit: number): Promise<{ entries: LedgerEntry[]; next: string | null }> {
    validateUserId(userId);
    const b = validateCursor(before, 'before');
    const n = validateLedgerLimit(limit);
    const reply = await this.op(() => this.script('fivedLedgerPage', [this.keys.ledgerUser(userId), this.keys.ledgerPending], [userId, b === null ? '' : b, n + 1]));
    const [pending, rows] = reply as [string, string[]];
    // pending entries are newer than the list's (lib/ledger.lua)
    const newer = pending.split('\n').map(parseLedgerEntry).filter((e): e is LedgerEntry => e !== null && (b === null || Number(e.entryId) < b)).reverse();
    const older = rows.map(parseLedgerEntry).filter((e): e is LedgerEntry => e !== null);
    return pageOf([...newer, ...older].slice(0, n + 1), n);
  }

  async walletUsers(cursor: string | null, count: number): Promise<{ users: string[]; next: string | null }> {
    const c = cursor === null ? '0' : String(cursor);
    if (!/^\d{1,20}$/.test(c)) throw new FivedError(ErrorCode.BAD_REQUEST, 'cursor must be a HSCAN cursor');
    const [next, flat] = await this.op(() => this.redis.hscan(this.keys.balances, c, 'COUNT', validateLedgerLimit(count, 10_000)));
    const users: string[] = [];
    for (let i = 0; i < flat.length; i += 2) users.push(flat[i]!);
    return { users, next: next === '0' ? null : next };
  }

  async ledgerFeed(after: string | null, limit: number): Promise<LedgerEntry[]> {
    const a = validateCursor(after, 'after');
    const n = validateLedgerLimit(limit, 100_000);
    const from = a ?? 0;
    const out: LedgerEntry[] = [];
    let start = a === null ? '-' : `(${a}-0`;
    // blocks (one per script call) whose last entry number is above the cursor, a few at a time
    while (out.length < n) {
      const blocks = await this.op(() => this.redis.xrange(this.keys.ledgerFeed, start, '+', 'COUNT', 16));
      for (const [, fields] of blocks) {
        for (const line of (fields[1] ?? '').split('\n')) {
          const e = parseLedgerEntry(line);
          if (e && Number(e.entryId) > from && out.length < n) out.push(e);
        }
      }
      if (blocks.length < 16) break;
      start = `(${blocks[blocks.length - 1]![0]}`;
    }
    return out;
  }

  async balance(userId: string): Promise<number> {
    validateUserId(userId);
    return exactBalance(await this.op(() => this.redis.hget(this.keys.balances, userId)), userId);
  }

  async walletTotals(): Promise<WalletTotals> {
    return this.op(async () => {
      const [t, b, h] = await Promise.all([this.redis.hgetall(this.keys.totals), this.redis.hvals(this.keys.balances), this.redis.hvals(this.keys.held)]);
      // exact sums: many balances at the maximum add up past 2^53
      const big = (v: string | undefined) => BigInt(v ?? '0');
      const sum = (vs: string[]) => vs.reduce((a, v) => a + BigInt(v), 0n);
      const [deposits, payouts, refunds, stakes, withdrawals, balances, held] = [big(t.deposits), big(t.payouts), big(t.refunds), big(t.stakes), big(t.withdrawals), sum(b), sum(h)];
      return {
        deposits: Number(deposits), payouts: Number(payouts), refunds: Number(refunds), stakes: Number(stakes), withdrawals: Number(withdrawals),
        balances: Number(balances), held: Number(held), balanced: deposits + payouts + refunds === balances + stakes + withdrawals + held,
      };
    });
  }

  async heldCredits(users?: string[]): Promise<{ byUser: Record<string, number>; recent: HeldEntry[] }> {
    users?.forEach(validateUserId);
    return this.op(async () => {
      const byUser: Record<string, number> = {};
      if (users && users.length > 0) {
        const vs = await this.redis.hmget(this.keys.held, ...users);
        users.forEach((u, i) => { if (vs[i] !== null) byUser[u] = Number(vs[i]); });
      } else {
        for (const [u, v] of Object.entries(await this.redis.hgetall(this.keys.held))) byUser[u] = Number(v);
      }
      const recent = (await this.redis.lrange(this.keys.heldLog, 0, -1)).map(parseHeldEntry).filter((e): e is HeldEntry => e !== null);
      return { byUser, recent: users && users.length > 0 ? recent.filter((e) => users.includes(e.userId)) : recent };
    });
  }

  // ---- for tools and tests ----

  /** WAIT calls sent for bets and credits (FIVED_REDIS_MIN_REPLICAS > 0; tests, bench:store) */
  get replicaWaits(): number {
    return this.replicas.waits;
  }

  /** The command connection (loader, inspect, tests). */
  get client(): Redis {
    return this.redis;
  }

  /** Evaluates the Lua liability bound (tests compare it with the TS one). */
  async luaLiabilityBound(netTotals: ArrayLike<number>, p: Paytable): Promise<number> {
    const args: ScriptArg[] = [p.number, p.bigSmall, p.oddEven, p.sumBigSmall, p.sumOddEven];
    for (let i = 0; i < PATTERN_COUNT; i++) args.push(netTotals[i] ?? 0);
    return Number(await this.op(() => this.script('fivedLiability', [], args)));
  }
}

