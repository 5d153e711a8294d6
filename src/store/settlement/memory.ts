// Settlement and void in memory: a saved plan applied exactly once in chunks with a journal cursor
// (yielding between chunks, so a large period never blocks the event loop in one go), and void
// refunds the same way: the counterparts of settle_save/settle_apply/void_start/void_refund.lua.
import type { PeriodRef, PeriodWindow } from '../../core/types.js';
import { ErrorCode } from '../../errors.js';
import { type MemState, oldestFirst, tick } from '../base/memory.js';
import { reportHeld } from '../held.js';
import { periodMember } from '../keys.js';
import { storeError } from '../scripts.js';
import type { Fence, SettlementPlan, SettlementStore, StoredResult } from '../types.js';
import { decode } from '../codec.js';
import { checkPlan, storedResultVerifies, validateClaim, validateFence, validateNow, validateRef, validateVoid } from '../validate.js';
import { creditOrHold } from '../wallet/memory.js';

const DEFAULT_SETTLE_CHUNK = 2000;
const REFUND_CHUNK_USERS = 2000;

interface ChunkOutcome { status: number; credited: number; held: number; heldCount: number; done: boolean }

export class MemSettlement implements SettlementStore {
  constructor(private readonly s: MemState) {}

  async saveSettlement(plan: SettlementPlan, fence?: Fence): Promise<void> {
    const { winners } = checkPlan(plan);
    const f = validateFence(fence);
    this.s.open();
    this.s.checkFence(f);
    const w = plan.period;
    const p = this.s.get(w);
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
    this.s.pending.set(periodMember(w), { duration: w.duration, timeline: w.timeline, periodId: w.periodId, startsAt: p.window.startsAt, freezeAt: p.window.freezeAt, endsAt: p.window.endsAt });
  }

  /** One chunk, synchronously (the counterpart of settle_apply.lua). */
  private applyChunk(ref: PeriodRef, now: number, fence: string, chunk: number): ChunkOutcome {
    this.s.checkFence(fence);
    const p = this.s.get(ref);
    if (p?.void) throw storeError(ErrorCode.PERIOD_VOID, { periodId: ref.periodId });
    if (!p?.plan || !p.window) throw storeError(ErrorCode.NOT_SETTLED, { periodId: ref.periodId });
    if (p.settled) return { status: 0, credited: 0, held: 0, heldCount: 0, done: true };
    // the end by the store's own clock (as settle_apply.lua's Redis TIME); the caller's is an extra check
    if (now < p.window.endsAt || this.s.storeNow() < p.window.endsAt) throw storeError(ErrorCode.TOO_EARLY, { periodId: ref.periodId });
    const total = p.plan.wusers.length;
    const last = Math.min(p.cursor + chunk, total);
    let credited = 0;
    let held = 0;
    let heldCount = 0;
    for (let i = p.cursor; i < last; i++) {
      const amt = p.plan.wamt[i]!;
      if (amt > 0) {
        if (creditOrHold(this.s, p.plan.wusers[i]!, amt, 'payout', p.ref)) { held += amt; heldCount++; } else credited += amt;
      }
    }
    this.s.totals.payouts += credited + held;
    p.cursor = last;
    if (last < total) return { status: 1, credited, held, heldCount, done: false };
    p.settled = true;
    this.s.pending.delete(periodMember(ref));
    this.s.unfinished.delete(periodMember(ref));
    return { status: 1, credited, held, heldCount, done: true };
  }

  async applySettlement(period: PeriodRef, now: number, fence?: Fence): Promise<{ applied: boolean; credited: number; held: number }> {
    validateRef(period);
    const t = validateNow(now);
    const f = validateFence(fence);
    this.s.open();
    const { opts } = this.s;
    const chunk = opts.settleChunk ?? DEFAULT_SETTLE_CHUNK;
    const sum = { credited: 0, held: 0, heldCount: 0, applied: false };
    try {
      for (let i = 0; ; i++) {
        const r = this.applyChunk(period, t, f, chunk);
        sum.credited += r.credited;
        sum.held += r.held;
        sum.heldCount += r.heldCount;
        if (r.status === 1) sum.applied = true;
        if (opts.onSettleChunk) await opts.onSettleChunk({ period, chunk: i, credited: sum.credited, done: r.done });
        if (r.done) break;
        await tick();
      }
    } finally {
      reportHeld(this.s.events, opts.instance, 'payout', period, sum.held, sum.heldCount);
    }
    return { applied: sum.applied, credited: sum.credited, held: sum.held };
  }

  async claimSettlement(period: PeriodRef, claimant: string, ttlMs: number): Promise<boolean> {
    validateClaim(period, claimant, ttlMs);
    this.s.open();
    const p = this.s.getOrCreate(period);
    const now = this.s.storeNow();
    if (p.claim && p.claim.until > now && p.claim.holder !== claimant) return false; // re-entrant for the holder
    p.claim = { holder: claimant, until: now + ttlMs };
    return true;
  }

  async pendingSettlements(): Promise<PeriodWindow[]> {
    return oldestFirst([...this.s.pending.values()]);
  }

  async unfinishedPeriods(endedBy: number, limit: number): Promise<PeriodWindow[]> {
    const t = validateNow(endedBy);
    const n = Math.max(1, Math.min(Number.isSafeInteger(limit) ? limit : 100, 1000));
    return oldestFirst([...this.s.unfinished.values()].filter((w) => w.endsAt <= t)).slice(0, n);
  }

  async isSettled(period: PeriodRef): Promise<boolean> {
    validateRef(period);
    return this.s.get(period)?.settled ?? false;
  }

  async voidPeriod(period: PeriodRef, reason: string): Promise<{ refunded: number; held: number }> {
    validateVoid(period, reason);
    this.s.open();
    const p = this.s.getOrCreate(period);
    if (!p.void) {
      if (p.settled || p.cursor > 0) throw storeError(ErrorCode.ALREADY_SETTLED, { periodId: period.periodId });
      // one result or void, never both (docs/design.md rule 2)
      if (p.result) throw storeError(ErrorCode.ALREADY_RESULTED, { periodId: period.periodId });
      p.void = true;
      p.reason = reason;
      p.vcursor = 0;
      this.s.pending.delete(periodMember(period));
    }
    return this.refundAll(period);
  }

  async voidUnverifiedResult(period: PeriodRef, reason: string): Promise<{ refunded: number; held: number }> {
    validateVoid(period, reason);
    this.s.open();
    const p = this.s.get(period);
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
    this.s.pending.delete(periodMember(period));
    return this.refundAll(period);
  }

  private async refundAll(period: PeriodRef): Promise<{ refunded: number; held: number }> {
    const p = this.s.getOrCreate(period);
    let refunded = 0;
    let held = 0;
    let heldCount = 0;
    while (!p.refunded) {
      const last = Math.min(p.vcursor + REFUND_CHUNK_USERS, p.users.length);
      for (let i = p.vcursor; i < last; i++) {
        const u = p.users[i]!;
        const s = p.ustake.get(u) ?? 0;
        if (s > 0) {
          if (creditOrHold(this.s, u, s, 'refund', p.ref)) { held += s; heldCount++; } else refunded += s;
          this.s.totals.refunds += s;
        }
      }
      p.vcursor = last;
      if (last >= p.users.length) {
        p.refunded = true;
        this.s.unfinished.delete(periodMember(period));
      } else await tick();
    }
    reportHeld(this.s.events, this.s.opts.instance, 'refund', period, held, heldCount);
    return { refunded, held };
  }
}
