// Results and the per-room history in memory: one result per period (set-if-absent), kept as
// msgpack as in Redis so every reader gets its own copy.
import type { PeriodRef } from '../../core/types.js';
import { ErrorCode } from '../../errors.js';
import type { MemState } from '../base/memory.js';
import { decode, encode } from '../codec.js';
import { HISTORY_MAXLEN } from '../keys.js';
import { storeError } from '../scripts.js';
import type { Fence, HistoryEntry, PeriodRecord, ResultStore, StoredResult } from '../types.js';
import { validateDrawn, validateFence, validateHistoryQuery, validateRef, validateResult } from '../validate.js';

export class MemResults implements ResultStore {
  private readonly historyByRoom = new Map<string, HistoryEntry[]>();

  constructor(private readonly s: MemState) {}

  async storeResult(result: StoredResult, fence?: Fence): Promise<{ result: StoredResult; stored: boolean }> {
    validateResult(result);
    const f = validateFence(fence);
    this.s.open();
    this.s.checkFence(f);
    const p = this.s.get(result);
    if (p?.result) return { result: decode<StoredResult>(p.result), stored: false };
    if (p?.void) throw storeError(ErrorCode.PERIOD_VOID, { periodId: result.periodId });
    if (!p?.commitment) throw storeError(ErrorCode.NOT_COMMITTED, { periodId: result.periodId });
    if (p.commitment !== result.commitment) throw storeError(ErrorCode.RESULT_MISMATCH, { periodId: result.periodId });
    p.result = encode(result);
    return { result: decode<StoredResult>(p.result), stored: true };
  }

  async getResult(period: PeriodRef): Promise<StoredResult | null> {
    validateRef(period);
    const r = this.s.get(period)?.result;
    return r ? decode<StoredResult>(r) : null;
  }

  async getPeriod(period: PeriodRef): Promise<PeriodRecord> {
    validateRef(period);
    const p = this.s.get(period);
    const result = p?.result ? decode<StoredResult>(p.result) : null;
    const status = !p ? 'unknown' : p.void ? 'void' : p.settled ? 'settled' : result ? 'resulted' : p.frozen ? 'frozen' : p.commitment ? 'open' : 'unknown';
    return {
      duration: period.duration, timeline: period.timeline, periodId: period.periodId, status,
      commitment: p?.commitment ?? null, result, voidReason: p?.void ? p.reason : null, betCount: p?.n ?? 0, settled: p?.settled ?? false,
    };
  }

  async appendHistory(entry: HistoryEntry): Promise<boolean> {
    validateDrawn(entry);
    this.s.open();
    const key = `${entry.duration}:${entry.timeline}`;
    let list = this.historyByRoom.get(key);
    if (!list) this.historyByRoom.set(key, (list = []));
    const last = list[list.length - 1];
    // ids are 17-digit strings: string order is numeric order (the Redis stream id rule)
    if (last && entry.periodId <= last.periodId) return false;
    list.push({ duration: entry.duration, timeline: entry.timeline, periodId: entry.periodId, digits: [...entry.digits] as HistoryEntry['digits'], sum: entry.sum, seed: entry.seed, commitment: entry.commitment });
    if (list.length > HISTORY_MAXLEN) list.splice(0, list.length - HISTORY_MAXLEN);
    return true;
  }

  async history(duration: number, timeline: string, opts: { afterPeriodId?: string; limit: number }): Promise<HistoryEntry[]> {
    const limit = validateHistoryQuery(duration, timeline, opts);
    const list = this.historyByRoom.get(`${duration}:${timeline}`) ?? [];
    const after = opts.afterPeriodId;
    const rows = after !== undefined ? list.filter((e) => e.periodId > after).slice(0, limit) : list.slice(-limit);
    return rows.map((e) => ({ ...e, digits: [...e.digits] as HistoryEntry['digits'] }));
  }
}
