// The compact per-bet entry kept for idempotency and bet history (`seq|pattern|amount|placedAt|balance`,
// the same text in Redis and in memory), and the acknowledgement / history records built from it.

import { patternOf } from '../core/rules.js';
import type { PeriodRef } from '../core/types.js';
import type { BetAck, BetOutcomeState, BetRecord } from './types.js';

export interface BetEntry {
  seq: number;
  pattern: number;
  amount: number;
  placedAt: number;
  balance: number;
}

export function formatEntry(e: BetEntry): string {
  return `${e.seq}|${e.pattern}|${e.amount}|${e.placedAt}|${e.balance}`;
}

export function parseEntry(s: string): BetEntry | null {
  const m = /^(\d+)\|(\d+)\|(\d+)\|(\d+)\|(-?\d+)$/.exec(s);
  if (!m) return null;
  return { seq: Number(m[1]), pattern: Number(m[2]), amount: Number(m[3]), placedAt: Number(m[4]), balance: Number(m[5]) };
}

export function buildAck(p: PeriodRef, userId: string, clientBetId: string, e: BetEntry, duplicate: boolean): BetAck {
  const { kind, pick } = patternOf(e.pattern);
  return {
    betId: `${p.periodId}:${e.seq}`,
    clientBetId,
    userId,
    duration: p.duration,
    timeline: p.timeline,
    periodId: p.periodId,
    seq: e.seq,
    kind,
    pick,
    amount: e.amount,
    placedAt: e.placedAt,
    balance: e.balance,
    duplicate,
  };
}

/** Outcome of a bet as a reader may see it: nothing before the settlement is fully applied. */
export function buildRecord(p: PeriodRef, userId: string, clientBetId: string, e: BetEntry, state: { void: boolean; settled: boolean; payout: number }): BetRecord {
  const { balance: _b, duplicate: _d, ...ack } = buildAck(p, userId, clientBetId, e, false);
  let s: BetOutcomeState = 'pending';
  let payout = 0;
  if (state.void) { s = 'refunded'; payout = e.amount; }
  else if (state.settled) { payout = state.payout; s = payout > 0 ? 'won' : 'lost'; }
  return { ...ack, state: s, payout };
}

const PATTERNS = Array.from({ length: 74 }, (_, i) => patternOf(i));

/** buildRecord for many bets at once (the archiver's read of a whole period): the same record,
 *  built directly (no intermediate ack, no spread), the pattern looked up in a table. */
export function fastRecord(p: PeriodRef, userId: string, clientBetId: string, e: BetEntry, state: { void: boolean; settled: boolean; payout: number }): BetRecord {
  const { kind, pick } = PATTERNS[e.pattern] ?? patternOf(e.pattern);
  let s: BetOutcomeState = 'pending';
  let payout = 0;
  if (state.void) { s = 'refunded'; payout = e.amount; }
  else if (state.settled) { payout = state.payout; s = payout > 0 ? 'won' : 'lost'; }
  return {
    betId: `${p.periodId}:${e.seq}`, clientBetId, userId, duration: p.duration, timeline: p.timeline, periodId: p.periodId,
    seq: e.seq, kind, pick, amount: e.amount, placedAt: e.placedAt, state: s, payout,
  };
}
