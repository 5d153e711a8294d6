// Recovery: a client that resubscribes with the last period id it saw gets the results it missed,
// from the results this gateway delivered and the store's history stream (which also has the
// periods delivered by other gateways while this one was down). Only periods past this gateway's
// gate (context.revealed), and only history entries that verify against their commitment.

import type { ResultPayload } from '../protocol.js';
import { windowOf, type Room } from '../runtime/rooms.js';
import { logTag, TAGS } from '../runtime/log.js';
import { storedResultVerifies } from '../store/validate.js';
import { revealed, type GatewayContext } from './context.js';
import type { Periods } from './periods.js';

export const MAX_RECOVERY = 100;

export async function missedResults(ctx: GatewayContext, periods: Periods, room: Room, since: string): Promise<ResultPayload[]> {
  const byId = new Map<string, ResultPayload>();
  const history = await ctx.store.history(room.duration, room.timeline, { afterPeriodId: since, limit: MAX_RECOVERY });
  const now = ctx.clock.now();
  for (const h of history) {
    if (h.periodId <= since || h.duration !== room.duration) continue;
    const w = windowOf(room, h.periodId);
    if (!revealed(ctx, w.endsAt, now)) continue; // never a result before this gateway's gate
    if (!storedResultVerifies(h)) {
      logTag(ctx.logger, 'error', TAGS.RESULT_MISMATCH, { room: room.name, periodId: h.periodId }, 'a history entry does not verify against its commitment: not served');
      continue;
    }
    byId.set(h.periodId, {
      room: room.name, duration: h.duration, timeline: h.timeline, periodId: h.periodId,
      digits: [...h.digits] as ResultPayload['digits'], sum: h.sum, seed: h.seed, commitment: h.commitment, endsAt: w.endsAt,
    });
  }
  for (const p of periods.recentAfter(room.name, since)) byId.set(p.periodId, p);
  return [...byId.values()]
    .filter((p) => revealed(ctx, p.endsAt, now)) // never a result before the gate (context.revealed)
    .sort((a, b) => (a.periodId < b.periodId ? -1 : a.periodId > b.periodId ? 1 : 0))
    .slice(-MAX_RECOVERY);
}
