// Recovery: a client that resubscribes with the last period id it saw gets the results it missed,
// from the results this gateway delivered and the store's history stream (which also has the
// periods delivered by other gateways while this one was down). Only periods already ended.

import type { ResultPayload } from '../protocol.js';
import { windowOf, type Room } from '../runtime/rooms.js';
import type { GatewayContext } from './context.js';
import type { Periods } from './periods.js';

export const MAX_RECOVERY = 100;

export async function missedResults(ctx: GatewayContext, periods: Periods, room: Room, since: string): Promise<ResultPayload[]> {
  const now = ctx.clock.now();
  const byId = new Map<string, ResultPayload>();
  const history = await ctx.store.history(room.duration, room.timeline, { afterPeriodId: since, limit: MAX_RECOVERY });
  for (const h of history) {
    if (h.periodId <= since || h.duration !== room.duration) continue;
    const w = windowOf(room, h.periodId);
    byId.set(h.periodId, {
      room: room.name, duration: h.duration, timeline: h.timeline, periodId: h.periodId,
      digits: [...h.digits] as ResultPayload['digits'], sum: h.sum, seed: h.seed, commitment: h.commitment, endsAt: w.endsAt,
    });
  }
  for (const p of periods.recentAfter(room.name, since)) byId.set(p.periodId, p);
  return [...byId.values()]
    .filter((p) => p.endsAt <= now) // never a result before its end
    .sort((a, b) => (a.periodId < b.periodId ? -1 : a.periodId > b.periodId ? 1 : 0))
    .slice(-MAX_RECOVERY);
}
