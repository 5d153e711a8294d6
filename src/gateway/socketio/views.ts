// A player's bets in the replaced system's item shape (docs/socketio.md "My bets"), for the
// `myBets` event and the my-bets REST routes. Outcomes, payouts and results of a period are shown
// only past this gateway's reveal gate (context.revealed, rule 4): before it a bet is `pending`
// with `result: null`, whatever the store holds.

import { netStake } from '../../core/rules.js';
import { roomByDuration, windowOf } from '../../runtime/rooms.js';
import { storedResultVerifies } from '../../store/validate.js';
import type { BetRecord } from '../../store/types.js';
import { revealed, type GatewayContext } from '../context.js';
import { hideUnrevealed } from '../ws.js';
import { betTypeOf, oddsOf } from './bets.js';
import { GAME_TYPE, iso, resultDigits } from './events.js';
import { minorToRupees } from './rupees.js';

export type Digits5 = ReturnType<typeof resultDigits>;

/** The revealed, verifying result of each period of these bets (key `${duration}:${periodId}`). */
export async function resultsOf(ctx: GatewayContext, bets: readonly BetRecord[], now: number): Promise<Map<string, Digits5>> {
  const keys = new Map<string, BetRecord>();
  for (const b of bets) keys.set(`${b.duration}:${b.periodId}`, b);
  const out = new Map<string, Digits5>();
  await Promise.all([...keys].map(async ([key, b]) => {
    const room = roomByDuration(ctx.rooms, b.duration);
    if (!room || !revealed(ctx, windowOf(room, b.periodId).endsAt, now)) return;
    const r = await ctx.store.getResult({ duration: b.duration, timeline: b.timeline, periodId: b.periodId });
    if (r && storedResultVerifies(r)) out.set(key, resultDigits(r));
  }));
  return out;
}

export function betItem(ctx: GatewayContext, raw: BetRecord, now: number, results: ReadonlyMap<string, Digits5>) {
  const b = hideUnrevealed(ctx, raw, now);
  const net = netStake(b.amount, ctx.cfg.paytable.feeBps);
  const win = b.state === 'won' ? b.payout : 0;
  const profitLoss = b.state === 'won' ? b.payout - b.amount : b.state === 'lost' ? -b.amount : 0;
  return {
    betId: b.betId, periodId: b.periodId, ...betTypeOf(b.kind, b.pick), betAmount: minorToRupees(b.amount), taxAmount: minorToRupees(b.amount - net),
    amountAfterTax: minorToRupees(net), odds: oddsOf(ctx.cfg.paytable, b.kind, b.pick), status: b.state,
    winAmount: minorToRupees(win), payout: minorToRupees(b.state === 'refunded' ? b.payout : win), profitLoss: minorToRupees(profitLoss),
    // fived keeps no per-bet balance snapshot: null rather than a made-up figure (docs/socketio.md)
    walletBalanceBefore: null, walletBalanceAfter: null,
    createdAt: iso(b.placedAt), updatedAt: iso(b.placedAt), gameType: GAME_TYPE, duration: b.duration,
    result: b.state === 'won' || b.state === 'lost' ? results.get(`${b.duration}:${b.periodId}`) ?? null : null,
  };
}

export type BetItem = ReturnType<typeof betItem>;

/** Items of a list of bets (newest first as the store gives them). */
export async function betItems(ctx: GatewayContext, bets: readonly BetRecord[]): Promise<BetItem[]> {
  const now = ctx.clock.now();
  const results = await resultsOf(ctx, bets, now);
  return bets.map((b) => betItem(ctx, b, now, results));
}

export function pagination(total: number, page: number, limit: number, offset: number) {
  return { total, page, limit, offset, hasMore: offset + limit < total, totalPages: Math.max(1, Math.ceil(total / limit)) };
}
