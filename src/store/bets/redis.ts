// Bets in Redis: placeBet batches every bet of a period queued in one event-loop turn into ONE
// bet_batch.lua call (each bet still all or nothing and seeing the earlier ones: one EVALSHA costs
// Redis ~9 µs and Node a fixed per-call price; a batch shares both). The reads (snapshot, history,
// the archiver's) are in bets/redis-read.ts.
import type { Paytable, PeriodWindow } from '../../core/types.js';
import { ErrorCode, FivedError } from '../../errors.js';
import { buildAck } from '../acks.js';
import type { RedisBase } from '../base/redis.js';
import { num } from '../connection.js';
import { LEDGER_FEED_KEEP, LEDGER_USER_KEEP, LEDGER_USER_TTL_S, PERIOD_TTL_S, periodMember } from '../keys.js';
import { runScript, statusError, type ScriptArg } from '../scripts.js';
import type { BetAck, BetLimits, BetStore, PlaceBetInput } from '../types.js';
import { type CheckedBet, checkBet } from '../validate.js';
import { RedisBetReads } from './redis-read.js';

/** Bets per bet_batch.lua call at most (a full batch is sent at once, without waiting for the turn's end). */
const MAX_BATCH_BETS = 256;
/** bytes of one bet's numbers in bet_batch.lua's packed argument */
const BET_ARG_BYTES = 27;

interface QueuedBet { input: PlaceBetInput; c: CheckedBet; resolve: (ack: BetAck) => void; reject: (err: unknown) => void }

/** Bets of one period (and one set of limits) waiting for the end of the event-loop turn. */
interface BetBatch {
  period: PeriodWindow;
  limits: BetLimits;
  paytable: Paytable;
  bets: QueuedBet[];
}

export class RedisBets extends RedisBetReads implements BetStore {
  /** per-period bet batches of the current event-loop turn (see placeBet) */
  private readonly betBatches = new Map<string, BetBatch>();
  private flushQueued = false;

  constructor(b: RedisBase) {
    super(b);
  }

  /** Validates at once (bad input throws and writes nothing), then queues the bet for its period's batch. */
  async placeBet(input: PlaceBetInput, limits: BetLimits, paytable: Paytable, now: number): Promise<BetAck> {
    this.b.requireConsistent();
    const c = checkBet(input, limits, paytable, now);
    if (this.b.closed) throw new FivedError(ErrorCode.STORE_UNAVAILABLE, 'store closed');
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
    const { keys, args } = this.batchCall(b);
    let reply: number[];
    try {
      reply = (await this.b.op(() => runScript(this.b.writer, 'fivedBetBatch', keys, args))) as number[];
      // acknowledged only once replicated (FIVED_REDIS_MIN_REPLICAS): a failover loses no acked bet
      await this.b.replicas.confirm();
    } catch (err) {
      // e.g. Redis down: E_STORE_UNAVAILABLE (nothing written) or E_STORE_UNCONFIRMED (written, not
      // replicated in time: its retry with the same clientBetId answers whether it stands)
      for (const q of b.bets) q.reject(err);
      return;
    }
    this.settleBatch(b, reply);
  }

  /** The keys and arguments of one bet_batch.lua call: user ids once each, the bets' numbers packed. */
  private batchCall(b: BetBatch): { keys: string[]; args: ScriptArg[] } {
    const p = b.period;
    const K = this.b.keys;
    const k = K.period(p);
    const userNo = new Map<string, number>();
    const users: string[] = [];
    const keys = [k.meta, k.recs, k.users, k.uidx, k.gross, k.net, k.ustake, k.idem, K.balances, K.totals, K.unfinished, K.ledgerSeq, K.ledgerFeed, K.ledgerPending];
    const nums = Buffer.allocUnsafe(b.bets.length * BET_ARG_BYTES);
    const ids: string[] = [];
    b.bets.forEach((q, i) => {
      const id = q.input.userId;
      let u = userNo.get(id);
      if (u === undefined) {
        users.push(id);
        u = users.length;
        userNo.set(id, u);
        keys.push(K.userPeriodBets(p, id), K.userPeriods(id), K.ledgerUser(id));
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
    return { keys, args };
  }

  /** Hands each queued bet its ack or its coded refusal from the script's reply. */
  private settleBatch(b: BetBatch, reply: number[]): void {
    // counters seen only once replicated: a promoted replica holds them, so no false "older data"
    const stakes = num(reply[0]);
    if (stakes > this.b.maxStakes) this.b.maxStakes = stakes;
    let tracked = false;
    b.bets.forEach((q, i) => {
      const [status, seq, placedAt, balance] = [reply[1 + 4 * i], reply[2 + 4 * i], reply[3 + 4 * i], reply[4 + 4 * i]].map(num) as [number, number, number, number];
      const { input, c } = q;
      if (status < 0) {
        q.reject(statusError(status, { periodId: b.period.periodId, clientBetId: input.clientBetId }));
        return;
      }
      if (!tracked) { this.b.track(input.period); tracked = true; }
      q.resolve(buildAck(input.period, input.userId, input.clientBetId, { seq, pattern: c.pattern, amount: c.amount, placedAt, balance }, status === 2));
    });
  }
}
