// THE view of a period, for the public lookup, the history and the operator variant, and the
// reads behind it: a period's record (from the store, else the archive), a revealed result that
// does not verify voiding the period first, and the views that can no longer change kept in memory.

import { ErrorCode, FivedError } from '../../errors.js';
import { MISMATCH_REASON } from '../../runtime/reconcile.js';
import { windowOf, type Room } from '../../runtime/rooms.js';
import type { HistoryEntry, PeriodRecord, PeriodStatus, ResultTracking, StoredResult } from '../../store/types.js';
import { storedResultVerifies } from '../../store/validate.js';
import { archivedPeriod } from '../archive.js';
import { revealed, type GatewayContext } from '../context.js';
import { FinalPeriods } from '../final-periods.js';
import { rejectStoredResult } from '../results.js';
import { notFound, type ApiHooks } from './shared.js';

/** A period as the public API shows it: the lookup, and each item of the history. */
export interface PeriodView {
  room: string;
  periodId: string;
  startsAt: number;
  freezeAt: number;
  endsAt: number;
  commitment: string | null;
  /** null until this gateway's gate (context.revealed), and for a result that does not verify */
  result: { digits: number[]; sum: number; seed: string } | null;
  status: PeriodStatus;
  void: boolean;
  voidReason: string | null;
  settled: boolean;
  /** null before the freeze */
  betCount: number | null;
}

/** A period record whose stored result may be the history stream's copy (no tracking). */
type ViewRecord = Omit<PeriodRecord, 'result'> & { result: (Omit<StoredResult, 'tracking'> & { tracking?: ResultTracking }) | null };

/** The result shown (past the gate, not void, verifying against the commitment), or null. */
function shownResult(ctx: GatewayContext, room: Room, rec: ViewRecord, now: number): ViewRecord['result'] {
  const ended = revealed(ctx, windowOf(room, rec.periodId).endsAt, now);
  return ended && rec.status !== 'void' && rec.result && storedResultVerifies(rec.result, rec.commitment) ? rec.result : null;
}

/**
 * THE one view of a period, for the public lookup, the history and the operator variant.
 * Everything of the result (digits, seed, settled state) waits for this gateway's gate
 * (context.revealed: the same instant its WebSocket result goes out), and only a result that
 * verifies against the commitment is ever shown. `tracking` is added by the operator route only.
 */
export function periodView(ctx: GatewayContext, room: Room, rec: ViewRecord, now: number): PeriodView {
  const w = windowOf(room, rec.periodId);
  const ended = revealed(ctx, w.endsAt, now);
  const isVoid = rec.status === 'void';
  const shown = shownResult(ctx, room, rec, now);
  return {
    room: room.name, periodId: rec.periodId, startsAt: w.startsAt, freezeAt: w.freezeAt, endsAt: w.endsAt, commitment: rec.commitment,
    result: shown ? { digits: [...shown.digits], sum: shown.sum, seed: shown.seed } : null,
    status: ended ? rec.status : isVoid ? 'void' : now >= w.freezeAt ? 'frozen' : 'open',
    void: isVoid, voidReason: isVoid ? rec.voidReason : null,
    settled: ended ? rec.settled : false,
    betCount: now >= w.freezeAt ? rec.betCount : null,
  };
}

export function trackingOf(ctx: GatewayContext, room: Room, rec: ViewRecord, now: number): ResultTracking | null {
  return shownResult(ctx, room, rec, now)?.tracking ?? null;
}

function historyResult(h: HistoryEntry): ViewRecord['result'] {
  return { duration: h.duration, timeline: h.timeline, periodId: h.periodId, digits: h.digits, sum: h.sum, seed: h.seed, commitment: h.commitment };
}

/**
 * A history entry whose period record has expired (PERIOD_TTL_S, 2 days): the result is the
 * stream's (verified by the caller); whether it was settled and how many bets it had are gone.
 */
function expiredRecord(h: HistoryEntry): ViewRecord {
  return { duration: h.duration, timeline: h.timeline, periodId: h.periodId, status: 'resulted', commitment: h.commitment, result: historyResult(h), voidReason: null, betCount: 0, settled: false };
}

/** The reads of periods for the routes: records and views. */
export class PeriodReader {
  // Views of periods that can no longer change (past the gate and settled, or void): served from
  // memory, so a lookup or a history page of them costs no store round trip.
  private readonly finalPeriods = new FinalPeriods<PeriodView>();

  constructor(private readonly ctx: GatewayContext, private readonly hooks: Pick<ApiHooks, 'voided'>) {}

  /** The period's record; a revealed result that does not verify voids the period first (row 10).
   *  No record at all: 404, or null when not `throwIfNone`. */
  async lookup(room: Room, periodId: string): Promise<{ rec: PeriodRecord; now: number }>;
  async lookup(room: Room, periodId: string, throwIfNone: boolean): Promise<{ rec: PeriodRecord; now: number } | null>;
  async lookup(room: Room, periodId: string, throwIfNone = true): Promise<{ rec: PeriodRecord; now: number } | null> {
    const { ctx } = this;
    const ref = { duration: room.duration, timeline: room.timeline, periodId };
    let rec = await ctx.store.getPeriod(ref);
    if (rec.status === 'unknown' && rec.commitment === null && rec.result === null) {
      // expired from Redis: the archive's record (FIVED_ARCHIVE_URL), when it has one
      const archived = await archivedPeriod(ctx, room, periodId);
      if (archived) return { rec: archived, now: ctx.clock.now() };
      if (!throwIfNone) return null;
      notFound(`no record of period ${periodId} in ${room.name}`);
    }
    const w = windowOf(room, periodId);
    let now = ctx.clock.now();
    if (rec.result && rec.status !== 'void' && revealed(ctx, w.endsAt, now) && !storedResultVerifies(rec.result, rec.commitment)) {
      const err = new FivedError(ErrorCode.RESULT_MISMATCH, `stored result of period ${periodId} does not verify against its commitment`, { periodId });
      if (await rejectStoredResult(ctx, w, err)) await this.hooks.voided(room, periodId, MISMATCH_REASON);
      rec = await ctx.store.getPeriod(ref);
      now = ctx.clock.now();
    }
    return { rec, now };
  }

  /**
   * The public view of one period: from the cache when final, else read (and remembered when it
   * turned final). `fallback`: the period's history entry, for a record whose stored result has
   * expired (RESULT_TTL_S) — the entry was verified against its own commitment by the caller.
   * Returns null for a period with no record at all.
   */
  async publicView(room: Room, periodId: string, fallback?: HistoryEntry): Promise<PeriodView | null> {
    const { ctx } = this;
    const cached = this.finalPeriods.get(room.name, periodId);
    if (cached) return cached;
    const found = await this.lookup(room, periodId, fallback === undefined);
    if (!found) {
      if (!fallback) return null;
      return periodView(ctx, room, expiredRecord(fallback), ctx.clock.now());
    }
    const { now } = found;
    let rec: ViewRecord = found.rec;
    if (fallback && rec.result === null && rec.status !== 'void') rec = { ...rec, result: historyResult(fallback) };
    const view = periodView(ctx, room, rec, now);
    // past the gate and settled or void: immutable from now on (the check uses the same `now` as the view)
    if (revealed(ctx, windowOf(room, periodId).endsAt, now) && (rec.settled || rec.status === 'void')) this.finalPeriods.remember(room.name, periodId, view);
    return view;
  }
}
