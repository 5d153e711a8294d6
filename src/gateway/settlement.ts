// Settlement from the gateway side. With a scheduler running, it computed the plan at the freeze
// and applies it at the end; the gateway only tells its own bettors their outcomes when the
// `5d_precalc:settled` notice arrives. With no scheduler (no plan at the end), one gateway claims
// the period (NX), computes it in its pool — the worker reads the bets on its own connection —
// and applies it through the store's exactly-once path. Every period left unfinished past end +
// grace (a plan not applied, no plan, refunds not done — whoever crashed) is finished by the
// reconciler, which every gateway runs each second (each step is exactly-once in the store).

import { ErrorCode, FivedError } from '../errors.js';
import { ServerType, SETTLED_BETS_MAX, type BetOutcome } from '../protocol.js';
import { parseSettled } from '../runtime/bus.js';
import { computeInPool } from '../runtime/compute.js';
import { logTag, TAGS } from '../runtime/log.js';
import { CLAIM_TTL_MS, reconcile } from '../runtime/reconcile.js';
import { applyAtEnd } from '../runtime/settle.js';
import type { BetRecord } from '../store/types.js';
import { background, clockTrusted, resultDelayMs, untilBalanceGate, type GatewayContext } from './context.js';
import type { PeriodState, Periods } from './periods.js';

export function betOutcome(b: BetRecord): BetOutcome {
  return { betId: b.betId, clientBetId: b.clientBetId, kind: b.kind, pick: b.pick, amount: b.amount, payout: b.payout, state: b.state };
}

export class Settlement {
  private sweeping = false;

  constructor(private readonly ctx: GatewayContext, private readonly periods: Periods) {}

  /** After the result is out: settle it ourselves unless someone else has or will. */
  afterEnd(s: PeriodState): void {
    if (s.status === 'void') return;
    if (s.settled) {
      this.notify(s); // the settlement notice that arrived before the result went out
      return;
    }
    background(this.ctx, 'settle', () => this.settle(s));
  }

  private async settle(s: PeriodState): Promise<void> {
    const { store, cfg, clock, pool, storeOptions } = this.ctx;
    if (await store.isSettled(s.w)) {
      s.settled = true;
      this.notify(s);
      return;
    }
    if (await this.hasSavedPlan(s)) return;
    if (!(await store.claimSettlement(s.w, cfg.instance, CLAIM_TTL_MS))) return;
    // The scheduler may have applied (and so un-pended) its plan between the checks above and the
    // claim: look again before computing a settlement that already exists.
    if (await store.isSettled(s.w)) {
      s.settled = true;
      this.notify(s);
      return;
    }
    if (await this.hasSavedPlan(s)) return;
    const outcome = await computeInPool({ store, pool, cfg, storeOptions, paytableFor: (w) => this.ctx.settings.paytableOf(w) }, s.w);
    const applied = await applyAtEnd(store, s.w, clock.now(), undefined, cfg.instance);
    s.settled = true;
    if (applied.applied) this.ctx.metrics.settlements.inc({ how: 'fallback' });
    logTag(this.ctx.logger, 'info', TAGS.SETTLE, { room: s.room.name, periodId: s.w.periodId, bets: outcome.betCount, computeMs: outcome.computeMs, applied: applied.applied, credited: applied.credited },
      applied.applied ? 'settlement computed in this gateway and applied' : 'settlement computed in this gateway; it was already applied');
    this.notify(s);
  }

  /** A saved plan means the scheduler computed it; it applies it (or the sweep after the grace). */
  private async hasSavedPlan(s: PeriodState): Promise<boolean> {
    const pending = await this.ctx.store.pendingSettlements();
    return pending.some((p) => p.duration === s.w.duration && p.timeline === s.w.timeline && p.periodId === s.w.periodId);
  }

  /** Every second: finish every period left unfinished past end + grace (ours or anyone's). */
  sweep(now: number): void {
    // an untrusted clock cannot tell "after the end" (rule 4): the other gateways and the scheduler do it
    if (this.sweeping || this.ctx.draining || !clockTrusted(this.ctx)) return;
    this.sweeping = true;
    background(this.ctx, 'settle-sweep', async () => {
      try {
        const { store, cfg, pool, storeOptions, logger } = this.ctx;
        const who = { instance: cfg.instance, host: cfg.host, pid: process.pid, source: 'gateway' as const };
        const endedBy = now - cfg.settleGraceMs - resultDelayMs(this.ctx);
        const done = await reconcile({ store, pool, cfg, storeOptions, paytableFor: (w) => this.ctx.settings.paytableOf(w) }, { now: this.ctx.clock.now(), endedBy, who }, (w, err) => {
          if (err instanceof FivedError && err.code === ErrorCode.RESULT_MISMATCH) {
            this.ctx.metrics.resultMismatch.inc();
            logTag(logger, 'error', TAGS.RESULT_MISMATCH, { periodId: w.periodId, duration: w.duration, err, alert: true }, 'stored result does not verify against the commitment and the period could not be voided: operator action needed');
            return;
          }
          logTag(logger, 'warn', TAGS.SETTLE, { periodId: w.periodId, duration: w.duration, err: String(err) }, 'finishing a period left unfinished failed; retrying next second');
        });
        for (const d of done) {
          if (d.how === 'busy') continue;
          if (d.how === 'rejected') {
            this.ctx.metrics.resultMismatch.inc();
            logTag(logger, 'error', TAGS.RESULT_MISMATCH, { periodId: d.w.periodId, duration: d.w.duration }, 'stored result does not verify against the commitment: not served; period voided, bets refunded');
            continue;
          }
          if (d.how !== 'already') {
            this.ctx.metrics.settlements.inc({ how: 'reconciled' });
            logTag(logger, 'warn', TAGS.SETTLE, { periodId: d.w.periodId, duration: d.w.duration, how: d.how, credited: d.credited }, 'finished a period left unfinished past the grace');
          }
          const s = this.periods.get(d.w.duration, d.w.periodId);
          if (s && d.how !== 'void' && d.how !== 'refunded') {
            s.settled = true;
            this.notify(s);
          }
        }
      } finally {
        this.sweeping = false;
      }
    });
  }

  /** A `5d_precalc:settled` notice (from anyone, including ourselves). */
  onSettled(message: unknown): void {
    const m = parseSettled(message);
    if (!m || m.timeline !== this.ctx.cfg.timeline) return;
    const s = this.periods.get(m.duration, m.periodId);
    if (!s) return;
    s.settled = true;
    this.notify(s);
  }

  /** Tells each connected user who bet here on this period their outcomes and new balance (once). */
  notify(s: PeriodState): void {
    if (s.notified) return;
    // never before this gateway has sent the result (it is sent at the gate: context.revealed);
    // afterEnd calls again once it is out
    if (!s.delivered) return;
    s.notified = true;
    const { hub, store } = this.ctx;
    background(this.ctx, 'settled-notices', async () => {
      // the balance in a notice, like any balance read: nothing of another room's period this
      // gateway has not revealed (two rooms that end at the same instant), once for all the notices
      await untilBalanceGate(this.ctx);
      for (const userId of s.bettors) {
        if (!hub.hasUser(userId)) continue;
        background(this.ctx, 'settled-notice', async () => {
          // one more than carried: tells whether there are more
          const [bets, balance] = await Promise.all([store.userBets(userId, s.w, SETTLED_BETS_MAX + 1), store.balance(userId)]);
          const more = bets.length > SETTLED_BETS_MAX;
          const msg = { type: ServerType.SETTLED, room: s.room.name, periodId: s.w.periodId, bets: bets.slice(0, SETTLED_BETS_MAX).map(betOutcome), more, balance } as const;
          hub.toUser(userId, msg);
        });
      }
    });
  }
}

