// Voids of periods on this gateway: the operator's, one found at a period's end, one announced by
// another gateway, and all open periods after the store lost data. The store decides first (one
// result or void per period, never both); then the room is told and, for a void decided here,
// the other gateways through the bus.

import { CHANNELS } from '../runtime/bus.js';
import { logTag, TAGS } from '../runtime/log.js';
import type { Room } from '../runtime/rooms.js';
import { background, type GatewayContext } from './context.js';
import type { PeriodState, Periods } from './periods.js';
import { ServerType } from '../protocol.js';

export class Voids {
  constructor(
    private readonly ctx: GatewayContext,
    private readonly periods: Periods,
  ) {}

  /** Marks a period void here and in the store (idempotent), tells the room and the other gateways. */
  async voidPeriod(s: PeriodState, reason: string, announceOnBus = true): Promise<{ refunded: number }> {
    // the store decides first: it refuses a period that already has a result or a settlement
    // (one result or void, never both), and then nothing here may say "void"
    const r = announceOnBus ? await this.ctx.store.voidPeriod(s.w, reason) : { refunded: 0 };
    const first = s.status !== 'void';
    s.status = 'void';
    s.voidReason = reason;
    s.held = null;
    this.periods.wake(s);
    if (first && !s.delivered) {
      this.ctx.hub.broadcast(s.room.name, { type: ServerType.VOID, room: s.room.name, periodId: s.w.periodId, reason });
      logTag(this.ctx.logger, 'warn', TAGS.VOID, { room: s.room.name, periodId: s.w.periodId, reason }, 'period void');
    }
    if (!announceOnBus) return r;
    if (first) {
      await this.ctx.store.publish(CHANNELS.void, { room: s.room.name, duration: s.w.duration, timeline: s.w.timeline, periodId: s.w.periodId, reason, refunded: r.refunded });
    }
    return r;
  }

  /**
   * The store found Redis older or empty (a restore, a lost disk: StoreEvents 'inconsistent'): it
   * voids and refunds the periods it tracked; here every period still open is voided too (its
   * commitment or bets may be gone) and the players are told now, not at the end.
   */
  voidOpen(reason: string): void {
    const now = this.ctx.clock.now();
    for (const s of this.periods.all()) {
      if (s.status === 'void' || s.delivered || s.w.endsAt <= now) continue;
      background(this.ctx, 'void-after-data-loss', () => this.voidPeriod(s, reason));
    }
  }

  /** A void notice from another gateway (or the operator API elsewhere). */
  onVoidNotice(message: unknown): void {
    if (typeof message !== 'object' || message === null) return;
    const m = message as Record<string, unknown>;
    if (typeof m.duration !== 'number' || typeof m.periodId !== 'string' || m.timeline !== this.ctx.cfg.timeline) return;
    const s = this.periods.get(m.duration, m.periodId);
    if (!s || s.status === 'void' || s.delivered) return;
    background(this.ctx, 'void-notice', () => this.voidPeriod(s, typeof m.reason === 'string' ? m.reason.slice(0, 200) : 'voided', false));
  }

  /**
   * The operator's void (POST .../void): the period here when this gateway knows it, else in the
   * store directly, announced on the bus all the same.
   */
  async byOperator(room: Room, periodId: string, reason: string): Promise<{ refunded: number }> {
    const s = this.periods.get(room.duration, periodId);
    if (s) return this.voidPeriod(s, reason);
    const ref = { duration: room.duration, timeline: room.timeline, periodId };
    const r = await this.ctx.store.voidPeriod(ref, reason);
    await this.ctx.store.publish(CHANNELS.void, { room: room.name, ...ref, reason, refunded: r.refunded });
    return r;
  }

  /** The store voided the period (a result that did not verify): mark it void here, tell this gateway's clients. */
  async voidedInStore(room: Room, periodId: string, reason: string): Promise<void> {
    const s = this.periods.get(room.duration, periodId);
    if (s && s.status !== 'void') await this.voidPeriod(s, reason, false);
  }
}
