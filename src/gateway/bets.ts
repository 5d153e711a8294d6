// One bet path for the WebSocket and the operator HTTP API: the fields are already validated
// (messages.ts); here the room and period are checked against the clock and what this gateway
// knows (void), then the store decides atomically (frozen flag, funds, limits, idempotency).

import { ErrorCode, FivedError, toFivedError } from '../errors.js';
import { findRoom, windowAt } from '../runtime/rooms.js';
import type { BetAck } from '../store/types.js';
import type { GatewayContext } from './context.js';
import type { BetFields } from './messages.js';
import type { Periods } from './periods.js';

export async function placeBet(ctx: GatewayContext, periods: Periods, userId: string, f: BetFields): Promise<BetAck> {
  try {
    const room = findRoom(ctx.rooms, f.room);
    const now = ctx.clock.now();
    const w = windowAt(room, now);
    if (f.periodId < w.periodId) throw new FivedError(ErrorCode.PERIOD_CLOSED, `period ${f.periodId} of ${room.name} is over; the current period is ${w.periodId}`);
    if (f.periodId > w.periodId) throw new FivedError(ErrorCode.PERIOD_NOT_OPEN, `period ${f.periodId} of ${room.name} has not started; the current period is ${w.periodId}`);
    if (now >= w.freezeAt) throw new FivedError(ErrorCode.PERIOD_FROZEN, `betting on ${room.name} period ${w.periodId} closed at the freeze`);
    const s = periods.get(room.duration, w.periodId);
    if (s?.status === 'void') throw new FivedError(ErrorCode.PERIOD_VOID, `period ${w.periodId} of ${room.name} is void: ${s.voidReason ?? ''}`);
    // no bet before the player could see the commitment (a period opened late at a cold start); the
    // store refuses one without a commitment anyway
    if (s?.status === 'pending') throw new FivedError(ErrorCode.NOT_COMMITTED, `period ${w.periodId} of ${room.name} has no published commitment yet: betting opens with it`);
    // the limits and paytable of the settings the period opened with (runtime/schedule.ts)
    const rules = ctx.settings.rulesOf(w);
    const ack = await ctx.store.placeBet(
      { period: w, userId, clientBetId: f.clientBetId, kind: f.kind, pick: f.pick, amount: f.amount },
      rules.limits,
      rules.paytable,
      ctx.clock.now(),
    );
    s?.bettors.add(userId);
    ctx.metrics.bets.inc({ outcome: 'accepted', code: '' });
    return ack;
  } catch (err) {
    const e = toFivedError(err);
    ctx.metrics.bets.inc({ outcome: 'rejected', code: e.code });
    throw e;
  }
}
