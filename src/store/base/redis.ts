// What every concern of the Redis store shares: the connections, the key builder, coded errors, and
// the lifecycle. One connection for commands (auto-pipelined, no offline queue: calls fail fast with
// E_STORE_UNAVAILABLE while Redis is down and work again by themselves once it is back), a writer
// of its own when bets wait for replicas, and the bus subscriber (bus/redis.ts) closed here.
//
// After every reconnect the store checks it still talks to the same data (the generation key, and
// counters that only grow); if not, it voids the periods it had opened and starts a new generation.
// Inside a worker thread the store is "light" by default: init() only connects, so a worker never
// writes the generation key, never emits 'inconsistent' and never opens a subscriber.

import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { isMainThread } from 'node:worker_threads';
import { Redis } from 'ioredis';
import type { PeriodWindow } from '../../core/types.js';
import { ErrorCode, FivedError } from '../../errors.js';
import { connectOnce, infoField, keepConnected, mapError, num, quit, roleOptions } from '../connection.js';
import { Keys, periodMember } from '../keys.js';
import { ReplicaWait, replicasAt } from '../replicas.js';
import { defineScripts, runScript, type ScriptArg, type ScriptName } from '../scripts.js';
import { SeedSealer } from '../seal.js';
import type { StoreEvents, StoreLifecycle, StoreOptions } from '../types.js';
import { maxBalanceOf } from '../validate.js';

/** PING interval of the bus subscriber, and how often the counters seen are refreshed (watermarks) */
export const DEFAULT_HEARTBEAT_MS = 5000;

export class RedisBase implements StoreLifecycle {
  readonly keys: Keys;
  readonly redis: Redis;
  /** bets and credits: their own connection when they wait for replicas (a WAIT holds up every later
   *  command of its connection, reads included), else the command connection */
  readonly writer: Redis;
  readonly replicas: ReplicaWait;
  readonly events = new EventEmitter();
  /** no credit, payout or refund takes a balance above this (StoreOptions.maxBalance) */
  readonly maxBalance: number;
  readonly light: boolean;
  /** the bus subscriber and its heartbeat, once opened (bus/redis.ts) */
  sub: Redis | null = null;
  heartbeat: NodeJS.Timeout | null = null;
  /** times this instance found the store inconsistent (metric) */
  inconsistencies = 0;
  /** highest wallet stakes total seen: it only grows, so a smaller one means older data */
  maxStakes = 0;
  maxEpoch = 0;
  /**
   * highest wallet ledger entry number seen (ledger:seq): every balance change takes one — a
   * deposit, a withdrawal, a settlement, a refund — so a restore that rolled back only those, no
   * bet, is noticed too. Read at start and every `heartbeatMs` (watermarks()).
   */
  maxLedgerSeq = 0;
  private watermarkTimer: NodeJS.Timeout | null = null;
  /** counters read at a replication offset, taken as seen once the replicas hold that offset (watermarks) */
  private pendingMarks: { stakes: number; seq: number; offset: number } | null = null;
  closed = false;
  /** voids a period this instance opened once the store turns out to have lost data (the settlement concern) */
  voidOnDataLoss: ((w: PeriodWindow, reason: string) => Promise<unknown>) | null = null;
  private lastConnError: Error | null = null;
  private generation: string | null = null;
  private consistent = true;
  private connected = false;
  private initialized = false;
  /** periods this instance committed or took bets on, voided if the store turns out to have lost data */
  private readonly openPeriods = new Map<string, PeriodWindow>();
  /** built on first use: a light store of a worker or a tool that never touches a seed needs no key */
  private sealer: SeedSealer | null = null;

  constructor(readonly opts: StoreOptions) {
    this.maxBalance = maxBalanceOf(opts);
    this.keys = new Keys(opts.keyPrefix ?? '');
    this.light = opts.light ?? !isMainThread;
    this.redis = new Redis(roleOptions(opts, 'commands'));
    defineScripts(this.redis);
    keepConnected(this.redis, () => this.closed);
    const minReplicas = opts.minReplicas ?? 0;
    this.writer = minReplicas > 0 ? new Redis(roleOptions(opts, 'writer')) : this.redis;
    if (this.writer !== this.redis) {
      defineScripts(this.writer);
      keepConnected(this.writer, () => this.closed);
      this.writer.on('error', () => undefined); // its commands fail with coded errors
    }
    this.replicas = new ReplicaWait(this.writer, minReplicas, opts.waitTimeoutMs ?? 1000, (err) => this.mapError(err));
    this.events.setMaxListeners(100);
    this.watch();
  }

  /** 'down' on a lost connection; the checks of afterReconnect on every new one */
  private watch(): void {
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

  mapError(err: unknown): FivedError {
    return mapError(err, this.lastConnError);
  }

  /** Runs one store operation, turning ioredis failures into coded errors. */
  async op<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new FivedError(ErrorCode.STORE_UNAVAILABLE, 'store closed');
    try {
      return await fn();
    } catch (err) {
      throw this.mapError(err);
    }
  }

  script(name: ScriptName, keys: readonly string[], args: readonly ScriptArg[], buffers = false): Promise<unknown> {
    return runScript(this.redis, name, keys, args, buffers);
  }

  requireConsistent(): void {
    if (!this.consistent) throw new FivedError(ErrorCode.STORE_INCONSISTENT, 'the store lost data (generation mismatch); refusing until it is consistent again');
  }

  /** Remembers a period this instance committed or took bets on (voided if Redis loses data). */
  track(w: PeriodWindow): void {
    const k = periodMember(w);
    if (this.openPeriods.has(k)) return;
    if (this.openPeriods.size > 256) {
      const now = Date.now();
      for (const [key, p] of this.openPeriods) if (p.endsAt < now) this.openPeriods.delete(key);
    }
    this.openPeriods.set(k, { duration: w.duration, timeline: w.timeline, periodId: w.periodId, startsAt: w.startsAt, freezeAt: w.freezeAt, endsAt: w.endsAt });
  }

  /** The seed key of this process; without one nothing can be committed or unsealed (E_CONFIG_INVALID). */
  seeds(): SeedSealer {
    if (this.sealer) return this.sealer;
    if (!this.opts.seedKey) {
      throw new FivedError(ErrorCode.CONFIG_INVALID, 'the Redis store keeps seeds sealed: set FIVED_SEED_KEY (32 bytes, 64 hex characters or base64; `openssl rand -hex 32`)');
    }
    this.sealer = SeedSealer.fromText(this.opts.seedKey, this.opts.seedKeysRetired ?? []);
    return this.sealer;
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
        this.maxLedgerSeq = num(await this.redis.get(this.keys.ledgerSeq));
      });
      this.watermarkTimer = setInterval(() => void this.watermarks(), this.opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
      this.watermarkTimer.unref();
    }
    this.initialized = true;
  }

  /**
   * Raises the counters seen to what the store holds (they only grow; afterReconnect compares).
   * With FIVED_REDIS_MIN_REPLICAS, as a bet's stakes total (bets/redis.ts), only once that many
   * replicas hold what was read — checked at the following beats — so a failover to a replica is not
   * taken for lost data because of writes nobody was told had succeeded.
   */
  private async watermarks(): Promise<void> {
    if (!this.connected || !this.consistent || this.closed) return;
    try {
      const res = (await this.redis.multi().hget(this.keys.totals, 'stakes').get(this.keys.ledgerSeq).info('replication').exec()) ?? [];
      const [stakes, seq, info] = res.map(([, v]) => v) as [string | null, string | null, string];
      const read = { stakes: num(stakes), seq: num(seq), offset: num(infoField(String(info ?? ''), 'master_repl_offset')) };
      const min = this.replicas.minReplicas;
      if (min <= 0) return this.raiseMarks(read);
      // A read waits until the replicas hold its offset, and is not replaced by later reads while
      // it waits: replicas report their offset about once a second, so under steady writes a read
      // replaced at every beat would never be confirmed and the marks would never rise.
      if (this.pendingMarks && replicasAt(String(info ?? ''), this.pendingMarks.offset) < min) return;
      if (this.pendingMarks) this.raiseMarks(this.pendingMarks);
      this.pendingMarks = read;
    } catch {
      // the connection dropped: afterReconnect checks on the next one
    }
  }

  private raiseMarks(m: { stakes: number; seq: number }): void {
    this.maxStakes = Math.max(this.maxStakes, m.stakes);
    this.maxLedgerSeq = Math.max(this.maxLedgerSeq, m.seq);
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
    const seenSeq = this.maxLedgerSeq;
    this.pendingMarks = null; // read from the connection before: perhaps never replicated
    try {
      const [found, stakes, epoch, seq] = await Promise.all([
        this.redis.get(this.keys.generation),
        this.redis.hget(this.keys.totals, 'stakes'),
        this.redis.get(this.keys.epoch),
        this.redis.get(this.keys.ledgerSeq),
      ]);
      const older = num(stakes) < seenStakes || num(epoch) < seenEpoch || num(seq) < seenSeq;
      if (found !== this.generation || older) {
        const why = found !== this.generation
          ? 'generation key missing or different'
          : `counters went backwards (older data): stakes ${num(stakes)} (${seenStakes} seen), epoch ${num(epoch)} (${seenEpoch} seen), ledger entries ${num(seq)} (${seenSeq} seen)`;
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
      // an ended period is not voided: its result may be out already (rule 2: a result or a void,
      // never both). It completes from what the store holds — the committed seed gives the same
      // digits, the bets the store kept are settled — or, with no commitment left, the gap sweep voids it.
      if (w.endsAt <= now) continue;
      try {
        await this.voidOnDataLoss?.(w, `store data lost (${why})`);
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
        this.maxLedgerSeq = num(await this.redis.get(this.keys.ledgerSeq));
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
    if (this.watermarkTimer) clearInterval(this.watermarkTimer);
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
}
