// Settlement and void in Redis: the plan saved at the freeze (settle_save.lua), applied exactly
// once in journaled chunks after the end (settle_apply.lua, the end by Redis TIME), one claimant at
// a time for a fallback (claim.lua); void with refunds in journaled chunks (void_*.lua).
import { createHash } from 'node:crypto';
import type { PeriodRef, PeriodWindow } from '../../core/types.js';
import { ErrorCode } from '../../errors.js';
import type { RedisBase } from '../base/redis.js';
import { decode, f64Buffer } from '../codec.js';
import { num } from '../connection.js';
import { reportHeld } from '../held.js';
import { LEDGER_FEED_KEEP, PERIOD_TTL_S, parsePeriodMember, periodMember } from '../keys.js';
import { checkReply, storeError, type ScriptArg } from '../scripts.js';
import type { Fence, SettlementPlan, SettlementStore, StoredResult } from '../types.js';
import { checkPlan, storedResultVerifies, validateClaim, validateFence, validateNow, validateRef, validateVoid } from '../validate.js';

const DEFAULT_SETTLE_CHUNK = 2000;
const DEFAULT_REFUND_CHUNK_BYTES = 64 * 1024;

export class RedisSettlement implements SettlementStore {
  constructor(private readonly b: RedisBase) {}

  async saveSettlement(plan: SettlementPlan, fence?: Fence): Promise<void> {
    const { winners, total } = checkPlan(plan);
    const f = validateFence(fence);
    const p = plan.period;
    const k = this.b.keys.period(p);
    const wamt = new Float64Array(winners.length);
    const ids: string[] = new Array(winners.length);
    winners.forEach((ui, i) => { wamt[i] = plan.userPayouts[ui]!; ids[i] = plan.users[ui]!; });
    const args: ScriptArg[] = [f, plan.betCount, f64Buffer(plan.payouts), f64Buffer(wamt), total, p.endsAt, periodMember(p), PERIOD_TTL_S, ...ids];
    const reply = await this.b.op(() => this.b.script('fivedSettleSave', [k.meta, k.pay, k.wusers, k.wamt, this.b.keys.pending, this.b.keys.epoch, k.recs], args));
    checkReply(reply, { periodId: p.periodId });
  }

  async applySettlement(period: PeriodRef, now: number, fence?: Fence): Promise<{ applied: boolean; credited: number; held: number }> {
    validateRef(period);
    const t = validateNow(now);
    const f = validateFence(fence);
    const { keys: K, opts, maxBalance } = this.b;
    const k = K.period(period);
    const keys = [k.meta, k.wusers, k.wamt, K.balances, K.totals, K.pending, K.epoch, K.unfinished, K.held, K.heldLog, K.ledgerSeq, K.ledgerFeed, K.ledgerPending];
    const args = [f, t, opts.settleChunk ?? DEFAULT_SETTLE_CHUNK, periodMember(period), maxBalance, LEDGER_FEED_KEEP];
    const sum = { credited: 0, held: 0, heldCount: 0, applied: false };
    try {
      for (let cursor = 0; ; cursor++) {
        const reply = await this.b.op(() => this.b.script('fivedSettleApply', keys, args));
        const [status, c, done, h, hc] = checkReply<[number, number, number, number, number]>(reply, { periodId: period.periodId });
        sum.credited += num(c);
        sum.held += num(h);
        sum.heldCount += num(hc);
        if (status === 1) sum.applied = true;
        if (opts.onSettleChunk) await opts.onSettleChunk({ period, chunk: cursor, credited: sum.credited, done: done === 1 });
        if (done === 1) break;
      }
    } finally {
      // reported even when a later chunk fails: those chunks are applied and will not run again
      reportHeld(this.b.events, opts.instance, 'payout', period, sum.held, sum.heldCount);
    }
    // applied: this call made progress; false when it was settled before (a second apply changes nothing)
    return { applied: sum.applied, credited: sum.credited, held: sum.held };
  }

  async claimSettlement(period: PeriodRef, claimant: string, ttlMs: number): Promise<boolean> {
    validateClaim(period, claimant, ttlMs);
    const r = await this.b.op(() => this.b.script('fivedClaim', [this.b.keys.period(period).claim], [claimant, ttlMs]));
    return r === 1;
  }

  async pendingSettlements(): Promise<PeriodWindow[]> {
    return this.b.op(async () => this.windowsOf(await this.b.redis.zrange(this.b.keys.pending, 0, -1)));
  }

  async unfinishedPeriods(endedBy: number, limit: number): Promise<PeriodWindow[]> {
    const t = validateNow(endedBy);
    const n = Math.max(1, Math.min(Number.isSafeInteger(limit) ? limit : 100, 1000));
    return this.b.op(async () => this.windowsOf(await this.b.redis.zrangebyscore(this.b.keys.unfinished, '-inf', t, 'LIMIT', 0, n)));
  }

  /** The windows of period members (from each meta hash); members whose meta expired are skipped. */
  private async windowsOf(members: string[]): Promise<PeriodWindow[]> {
    const refs = members.map(parsePeriodMember).filter((r): r is PeriodRef => r !== null);
    // one round trip for all (auto-pipelined), not one per member
    const metas = await Promise.all(refs.map((ref) => this.b.redis.hmget(this.b.keys.period(ref).meta, 'startsAt', 'freezeAt', 'endsAt')));
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
    return (await this.b.op(() => this.b.redis.hexists(this.b.keys.period(period).meta, 'settled'))) === 1;
  }

  async voidPeriod(period: PeriodRef, reason: string): Promise<{ refunded: number; held: number }> {
    validateVoid(period, reason);
    const k = this.b.keys.period(period);
    const start = await this.b.op(() => this.b.script('fivedVoidStart', [k.meta, this.b.keys.pending, k.result], [reason, periodMember(period), PERIOD_TTL_S]));
    checkReply(start, { periodId: period.periodId });
    return this.refundAll(period);
  }

  async voidUnverifiedResult(period: PeriodRef, reason: string): Promise<{ refunded: number; held: number }> {
    validateVoid(period, reason);
    const k = this.b.keys.period(period);
    const [raw, commitment] = await this.b.op(() => Promise.all([this.b.redis.getBuffer(k.result), this.b.redis.hget(k.meta, 'commitment')]));
    if (!raw) return this.voidPeriod(period, reason);
    let verifies = false;
    try {
      verifies = storedResultVerifies(decode<StoredResult>(raw), commitment);
    } catch {
      verifies = false; // undecodable: it does not verify
    }
    if (verifies) throw storeError(ErrorCode.ALREADY_RESULTED, { periodId: period.periodId });
    const sha1 = createHash('sha1').update(raw).digest('hex');
    const start = await this.b.op(() => this.b.script('fivedVoidRejected', [k.meta, this.b.keys.pending, k.result, k.rejected], [reason, periodMember(period), PERIOD_TTL_S, sha1]));
    checkReply(start, { periodId: period.periodId });
    return this.refundAll(period);
  }

  /** Refunds the users of a void period in journaled chunks (void_refund.lua); resumes where it stopped. */
  private async refundAll(period: PeriodRef): Promise<{ refunded: number; held: number }> {
    const K = this.b.keys;
    const k = K.period(period);
    const chunk = this.b.opts.refundChunkBytes ?? DEFAULT_REFUND_CHUNK_BYTES;
    const keys = [k.meta, k.users, k.ustake, K.balances, K.totals, K.unfinished, K.held, K.heldLog, K.ledgerSeq, K.ledgerFeed, K.ledgerPending];
    let refunded = 0;
    let held = 0;
    let heldCount = 0;
    try {
      for (;;) {
        const reply = (await this.b.op(() => this.b.script('fivedVoidRefund', keys, [chunk, periodMember(period), this.b.maxBalance, LEDGER_FEED_KEEP]))) as number[];
        refunded += num(reply[1]);
        held += num(reply[3]);
        heldCount += num(reply[4]);
        if (reply[2] === 1) break;
      }
    } finally {
      reportHeld(this.b.events, this.b.opts.instance, 'refund', period, held, heldCount);
    }
    return { refunded, held };
  }
}
