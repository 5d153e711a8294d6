// Recovery: a client that resubscribes with the last period id it saw gets the results it missed,
// from the results this gateway delivered and the store's history stream (which also has the
// periods delivered by other gateways while this one was down). Only periods past this gateway's
// gate (context.revealed), and only history entries that verify against their commitment.
// A signed-in player also gets a `settled` (flagged `recovered`) for each of those periods it
// bet on whose settlement is applied: the live notice went to the gateway it was connected to
// then, or to nobody while it was away.

import { SETTLED_BETS_MAX, ServerType, type ResultPayload, type SettledMsg } from '../protocol.js';
import type { BetRecord } from '../store/types.js';
import { betOutcome } from './settlement.js';
import { windowOf, type Room } from '../runtime/rooms.js';
import { logTag, TAGS } from '../runtime/log.js';
import { storedResultVerifies } from '../store/validate.js';
import { revealed, untilBalanceGate, type GatewayContext } from './context.js';
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

const settledBets = (bets: BetRecord[]) => bets.length > 0 && bets.every((b) => b.state === 'won' || b.state === 'lost');

/**
 * The `settled` messages a player missed in a room: one per period among `results` (the recovery's
 * periods: after `since`, past the gate, verified) where it has bets and the settlement is applied,
 * oldest first, with the same fields as the live notice (at most SETTLED_BETS_MAX outcomes, `more`)
 * plus `recovered: true`. The periods of the room not settled yet (still pending, or not yet past
 * the gate, the current one included) get the player added to their bettors here, so the live
 * notice reaches it when their settlement lands.
 */
export async function missedSettlements(ctx: GatewayContext, periods: Periods, room: Room, userId: string, since: string, results: readonly ResultPayload[]): Promise<SettledMsg[]> {
  const revealedIds = new Set(results.map((r) => r.periodId));
  const ids = new Set(revealedIds);
  for (const s of periods.ofRoom(room.name)) if (s.w.periodId > since && s.status !== 'void' && !s.notified) ids.add(s.w.periodId);
  const ref = (periodId: string) => ({ duration: room.duration, timeline: room.timeline, periodId });
  // one more than carried: tells whether there are more; issued together (pipelined by the store)
  const read = (periodId: string) => ctx.store.userBets(userId, ref(periodId), SETTLED_BETS_MAX + 1);
  const sorted = [...ids].sort();
  const reads = await Promise.all(sorted.map(read));
  const found: Array<{ periodId: string; bets: BetRecord[] }> = [];
  for (let i = 0; i < sorted.length; i++) {
    const periodId = sorted[i]!;
    let bets = reads[i]!;
    if (bets.length === 0) continue;
    const s = periods.get(room.duration, periodId);
    if (revealedIds.has(periodId) && !settledBets(bets) && s?.notified) bets = await read(periodId); // settled (and notified, without us) meanwhile
    if (revealedIds.has(periodId) && settledBets(bets)) found.push({ periodId, bets });
    else if (s && !s.notified) s.bettors.add(userId); // not settled or not revealed yet: the live notice will come
  }
  if (found.length === 0) return [];
  // the balance must not show a payout of a period this gateway has not revealed yet
  await untilBalanceGate(ctx);
  const balance = await ctx.store.balance(userId);
  return found.map(({ periodId, bets }) => ({
    type: ServerType.SETTLED, room: room.name, periodId, bets: bets.slice(0, SETTLED_BETS_MAX).map(betOutcome), more: bets.length > SETTLED_BETS_MAX, balance, recovered: true,
  }));
}
