// Every Redis key and channel name of fived is built here, nowhere else.
//
// The runbook key of the replaced system is kept verbatim:
//   precalc_5d_result:fiveD:{duration}:{timeline}:{periodId}
// Every other per-period key carries the hash tag {precalc_5d_result:fiveD:{duration}:{timeline}:{periodId}},
// so with an empty prefix (production) they all land on the runbook key's Redis Cluster slot.
// Keys that are not per period (wallet, lease, generation, per-room history) are prefixed only.
// Tests give every store its own prefix; channels are prefixed the same way so tests never hear
// each other (production prefix '' leaves the `5d_precalc:` names untouched).

import { isPeriodId } from '../core/ids.js';
import type { PeriodRef } from '../core/types.js';

/** Pub/sub channels (at-most-once). Payloads are small msgpack maps. */
export const CHANNELS = {
  /** a result was stored: StoredResult-derived notice { duration, timeline, periodId, ... } */
  completed: '5d_precalc:completed',
  /** a settlement was applied: { duration, timeline, periodId } */
  settled: '5d_precalc:settled',
  /** a period was voided: { duration, timeline, periodId, reason } */
  void: '5d_precalc:void',
} as const;

export type ChannelName = (typeof CHANNELS)[keyof typeof CHANNELS];

/** `${duration}:${timeline}:${periodId}`: how a period is named inside sets and journals. */
export function periodMember(p: PeriodRef): string {
  return `${p.duration}:${p.timeline}:${p.periodId}`;
}

export function parsePeriodMember(member: string): PeriodRef | null {
  const m = /^(\d+):([A-Za-z0-9_-]+):([^:]+)$/.exec(member);
  return m && isPeriodId(m[3]) ? { duration: Number(m[1]), timeline: m[2]!, periodId: m[3] } : null;
}

/** The runbook name without prefix (also the hash tag's content). */
export function runbookName(p: PeriodRef): string {
  return `precalc_5d_result:fiveD:${p.duration}:${p.timeline}:${p.periodId}`;
}

/** Keys of one period. All but `result` share the hash tag of the runbook key. */
export interface PeriodKeys {
  /** msgpack StoredResult, SET … EX … NX */
  result: string;
  /** hash: commitment, seed, startsAt, freezeAt, endsAt, frozen, void, reason,
   *  plan, total, winners, cursor, settled (settlement journal), vcursor, refunded (void journal) */
  meta: string;
  /** string: packed 16-byte bet records appended in acceptance order (length / 16 = bet count) */
  recs: string;
  /** string: user ids by user index, each followed by '\n' (one GET for a snapshot) */
  users: string;
  /** hash: user id → user index */
  uidx: string;
  /** hash: pattern index → gross stake total */
  gross: string;
  /** hash: pattern index → net stake total */
  net: string;
  /** hash: user id → gross stake of the user in this period (user limit, refunds) */
  ustake: string;
  /** hash: `${userId}\n${clientBetId}` → compact ack entry (idempotency, userBets) */
  idem: string;
  /** string: settlement payouts by seq, packed f64 LE */
  pay: string;
  /** list: user ids of the settlement's winners, in apply order */
  wusers: string;
  /** string: payout per winner (same order as wusers), packed f64 LE */
  wamt: string;
  /** claim of the fallback settlement (SET NX PX) */
  claim: string;
  /** a stored result that failed verification, moved aside when the period was voided for it (never served) */
  rejected: string;
}

export class Keys {
  constructor(readonly prefix: string) {}

  period(p: PeriodRef): PeriodKeys {
    const name = runbookName(p);
    const t = `${this.prefix}{${name}}:`;
    return {
      result: this.prefix + name,
      meta: t + 'meta',
      recs: t + 'recs',
      users: t + 'users',
      uidx: t + 'uidx',
      gross: t + 'gross',
      net: t + 'net',
      ustake: t + 'ustake',
      idem: t + 'idem',
      pay: t + 'pay',
      wusers: t + 'wusers',
      wamt: t + 'wamt',
      claim: t + 'claim',
      rejected: t + 'rejected',
    };
  }

  /** list of clientBetIds of one user in one period (carries the period's hash tag) */
  userPeriodBets(p: PeriodRef, userId: string): string {
    return `${this.prefix}{${runbookName(p)}}:ub:${userId}`;
  }

  /** zset of periods a user bet on, scored by endsAt (userBets without a period) */
  userPeriods(userId: string): string {
    return `${this.prefix}user:${userId}:periods`;
  }

  /** hash user id → balance (minor units) */
  get balances(): string { return `${this.prefix}wallet:balances`; }
  /** hash deposits, payouts, refunds, stakes: the wallet invariant's counters */
  get totals(): string { return `${this.prefix}wallet:totals`; }
  /** hash user id → amount held: payouts and refunds that would have taken the balance above the
   *  maximum balance (never rounded, never lost; an operator pays them out, docs/operations.md) */
  get held(): string { return `${this.prefix}wallet:held`; }
  /** list of the latest held credits, newest first, capped at 1000: `${periodMember}|payout|refund|${userId}|${amount}` */
  get heldLog(): string { return `${this.prefix}wallet:heldlog`; }
  /** hash depositId → `${userId}:${amount}` (idempotent credit) */
  get deposits(): string { return `${this.prefix}wallet:deposits`; }
  /** hash withdrawalId → `${userId}\n${amount}\n${balance after}` (idempotent debit, issue 14) */
  get withdrawals(): string { return `${this.prefix}wallet:withdrawals`; }
  /** the last ledger entry number given (issue 14; lib/ledger.lua) */
  get ledgerSeq(): string { return `${this.prefix}ledger:seq`; }
  /** stream: one stream entry per script call, id `${last entry number}-0`, field e = the call's
   *  entries '\n'-separated; trimmed to the last LEDGER_FEED_KEEP entry numbers */
  get ledgerFeed(): string { return `${this.prefix}ledger:feed`; }
  /** hash userId → entries of settlements and void refunds not yet moved into the user's list
   *  ('\n'-separated, oldest first; lib/ledger.lua) */
  get ledgerPending(): string { return `${this.prefix}ledger:pending`; }
  /** list of one user's ledger entries' texts, oldest first (lib/ledger.lua) */
  ledgerUser(userId: string): string { return `${this.prefix}ledger:user:${userId}`; }
  /** zset of periods with a saved, unapplied settlement, scored by endsAt */
  get pending(): string { return `${this.prefix}settle:pending`; }
  /** zset of periods that accepted a bet and are not yet settled (or, void, refunded), scored by
   *  endsAt: what the reconciler walks, so no crash can leave an acknowledged bet unsettled */
  get unfinished(): string { return `${this.prefix}settle:unfinished`; }
  /** string `${holder}|${epoch}` with a PX ttl */
  get lease(): string { return `${this.prefix}scheduler:lease`; }
  /** integer that only grows (INCR on every acquisition) */
  get epoch(): string { return `${this.prefix}scheduler:epoch`; }
  /** random id written at first use; a Redis that lost its data no longer has it */
  get generation(): string { return `${this.prefix}store:generation`; }
  /** the game settings schedule: JSON {version, entries: [{from, settings, fingerprint, …}]}, no TTL */
  get settings(): string { return `${this.prefix}store:settings`; }
  /** capped stream of revealed results of one room; entry id `${periodId}-0` */
  history(duration: number, timeline: string): string {
    return `${this.prefix}history:fiveD:${duration}:${timeline}`;
  }
  channel(name: string): string { return this.prefix + name; }
}

/** Per-period keys (other than the result) live this long; results a day (plus the period). */
export const PERIOD_TTL_S = 2 * 86_400;
export const RESULT_TTL_S = 86_400;
/** Entries kept in each room's history stream (approximate trimming, at least this many). */
export const HISTORY_MAXLEN = 2000;

/** Ledger retention in Redis (issue 14, docs/redis.md): the hot window. The permanent record is the
 *  archive (FIVED_ARCHIVE_URL); without one, these entries are all that is kept. */
/** entry numbers kept in ledger:feed (approximate trimming: at least this many) */
export const LEDGER_FEED_KEEP = 5_000_000;
/** a user's ledger list lives this long after their last deposit, withdrawal or stake (> PERIOD_TTL_S:
 *  it outlives the bets it records) */
export const LEDGER_USER_TTL_S = 30 * 86_400;
/** entries kept per user, about (the oldest beyond are dropped by the user's deposits, withdrawals and stakes) */
export const LEDGER_USER_KEEP = 10_000;
