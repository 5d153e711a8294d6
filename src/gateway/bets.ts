// One bet path for the WebSocket, the operator HTTP API and the Socket.IO layer: the fields are
// already validated (messages.ts); here the room and period are checked against the clock and what
// this gateway knows (void), then the store decides atomically (frozen flag, its own clock, funds,
// limits, idempotency).

import type { PeriodWindow } from '../core/types.js';
import { ErrorCode, FivedError, toFivedError } from '../errors.js';
import { findRoom, windowAt, type Room } from '../runtime/rooms.js';
import type { BetAck } from '../store/types.js';
import { resultDelayMs, untilBalanceGate, type GatewayContext } from './context.js';
import type { BetFields } from './messages.js';
import type { Periods } from './periods.js';

export async function placeBet(ctx: GatewayContext, periods: Periods, userId: string, f: BetFields): Promise<BetAck> {
  try {
    const room = findRoom(ctx.rooms, f.room);
    const w = windowAt(room, ctx.clock.now());
    const refusal = refusalOf(room, w, f.periodId, betTime(ctx, w));
    if (refusal) return await retryOrRefuse(ctx, userId, f, room, w, refusal);
    const s = periods.get(room.duration, w.periodId);
    if (s?.status === 'void') throw new FivedError(ErrorCode.PERIOD_VOID, `period ${w.periodId} of ${room.name} is void: ${s.voidReason ?? ''}`);
    // no bet before the player could see the commitment (a period opened late at a cold start); the
    // store refuses one without a commitment anyway
    if (s?.status === 'pending') throw new FivedError(ErrorCode.NOT_COMMITTED, `period ${w.periodId} of ${room.name} has no published commitment yet: betting opens with it`);
    const ack = await store(ctx, userId, f, w);
    s?.bettors.add(userId);
    ctx.metrics.bets.inc({ outcome: 'accepted', code: '' });
    return ack;
  } catch (err) {
    const e = toFivedError(err);
    ctx.metrics.bets.inc({ outcome: 'rejected', code: e.code });
    throw e;
  }
}

/**
 * The time a bet is judged by. The freeze is the store's (docs/design.md rule 4): this clock minus
 * its measured lead is never ahead of the store's, so a gateway whose clock runs ahead does not
 * close betting early. The start is this gateway's: the period it announced (`w`) takes bets from
 * its `period` frame on — its commitment is out, and opening a lead's few ms early changes nothing.
 */
function betTime(ctx: GatewayContext, w: PeriodWindow): number {
  return Math.max(ctx.clock.now() - resultDelayMs(ctx), w.startsAt);
}

/** Why this clock refuses a bet on `periodId` now (`w`: the room's period now), or null. */
function refusalOf(room: Room, w: PeriodWindow, periodId: string, now: number): FivedError | null {
  if (periodId < w.periodId) return new FivedError(ErrorCode.PERIOD_CLOSED, `period ${periodId} of ${room.name} is over; the current period is ${w.periodId}`);
  if (periodId > w.periodId) return new FivedError(ErrorCode.PERIOD_NOT_OPEN, `period ${periodId} of ${room.name} has not started; the current period is ${w.periodId}`);
  if (now >= w.freezeAt) return new FivedError(ErrorCode.PERIOD_FROZEN, `betting on ${room.name} period ${w.periodId} closed at the freeze`);
  return null;
}

/**
 * A bet refused by this clock as frozen or over may be the retry of one that stood (its reply was
 * lost just before the freeze): the store answers a known clientBetId with its first ack
 * (duplicate: true) before any other check, and refuses anything new after the freeze by its
 * frozen flag and its own clock. Only the current and the previous period are asked; the refusal
 * stands for anything the store does not know.
 */
async function retryOrRefuse(ctx: GatewayContext, userId: string, f: BetFields, room: Room, w: PeriodWindow, refusal: FivedError): Promise<BetAck> {
  const previous = windowAt(room, w.startsAt - 1);
  const asked = refusal.code === ErrorCode.PERIOD_FROZEN ? w : refusal.code === ErrorCode.PERIOD_CLOSED && f.periodId === previous.periodId ? previous : null;
  if (!asked) throw refusal;
  let ack: BetAck;
  try {
    ack = await store(ctx, userId, f, asked);
  } catch (err) {
    if (err instanceof FivedError && (err.code === ErrorCode.STORE_UNAVAILABLE || err.code === ErrorCode.STORE_INCONSISTENT || err.code === ErrorCode.TIMEOUT)) throw err;
    throw refusal;
  }
  if (!ack.duplicate) ctx.logger.warn({ room: room.name, periodId: asked.periodId }, 'the store took a bet this clock had refused (its clock says betting is open)');
  return ack;
}

/**
 * The store's placement, after the balance gate: an ack carries the balance, which must not show a
 * payout this gateway has not revealed. The caller's time is taken after that wait (the memory
 * store has no clock of its own).
 */
async function store(ctx: GatewayContext, userId: string, f: BetFields, w: PeriodWindow): Promise<BetAck> {
  await untilBalanceGate(ctx);
  // the limits and paytable of the settings the period opened with (runtime/schedule.ts)
  const rules = ctx.settings.rulesOf(w);
  const now = betTime(ctx, w);
  return ctx.store.placeBet({ period: w, userId, clientBetId: f.clientBetId, kind: f.kind, pick: f.pick, amount: f.amount }, rules.limits, rules.paytable, now);
}
