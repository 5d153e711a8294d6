// Results (result.lua: SET NX on the runbook key, checked against the commitment and the fence)
// and the per-room history (a capped stream whose ids are the period ids).
import type { PeriodRef } from '../../core/types.js';
import { ErrorCode, isFivedError } from '../../errors.js';
import type { RedisBase } from '../base/redis.js';
import { decode, encode } from '../codec.js';
import { HISTORY_MAXLEN, RESULT_TTL_S } from '../keys.js';
import { checkReply } from '../scripts.js';
import type { Fence, HistoryEntry, PeriodRecord, ResultStore, StoredResult } from '../types.js';
import { validateDrawn, validateFence, validateHistoryQuery, validateRef, validateResult } from '../validate.js';

export class RedisResults implements ResultStore {
  constructor(private readonly b: RedisBase) {}

  async storeResult(result: StoredResult, fence?: Fence): Promise<{ result: StoredResult; stored: boolean }> {
    validateResult(result);
    const f = validateFence(fence);
    const k = this.b.keys.period(result);
    const ttl = RESULT_TTL_S + result.duration;
    const reply = await this.b.op(() => this.b.script('fivedResult', [k.result, k.meta, this.b.keys.epoch], [encode(result), ttl, f, result.commitment], true));
    const [status, value] = checkReply<[number, Buffer]>(reply, { periodId: result.periodId });
    return { result: decode<StoredResult>(value), stored: status === 1 };
  }

  async getResult(period: PeriodRef): Promise<StoredResult | null> {
    validateRef(period);
    const b = await this.b.op(() => this.b.redis.getBuffer(this.b.keys.period(period).result));
    return b ? decode<StoredResult>(b) : null;
  }

  async getPeriod(period: PeriodRef): Promise<PeriodRecord> {
    validateRef(period);
    const k = this.b.keys.period(period);
    const r = this.b.redis;
    const [m, raw, recBytes] = await this.b.op(() => Promise.all([r.hgetall(k.meta), r.getBuffer(k.result), r.strlen(k.recs)]));
    const result = raw ? decode<StoredResult>(raw) : null;
    const isVoid = m.void !== undefined;
    const settled = m.settled !== undefined;
    const status = isVoid ? 'void' : settled ? 'settled' : result ? 'resulted' : m.frozen ? 'frozen' : m.commitment ? 'open' : 'unknown';
    return {
      duration: period.duration, timeline: period.timeline, periodId: period.periodId, status,
      commitment: m.commitment ?? null, result, voidReason: isVoid ? (m.reason ?? '') : null, betCount: recBytes / 16, settled,
    };
  }

  async appendHistory(entry: HistoryEntry): Promise<boolean> {
    validateDrawn(entry);
    const key = this.b.keys.history(entry.duration, entry.timeline);
    try {
      await this.b.op(() => this.b.redis.xadd(
        key, 'MAXLEN', '~', HISTORY_MAXLEN, `${entry.periodId}-0`,
        'periodId', entry.periodId, 'digits', entry.digits.join(','), 'sum', entry.sum, 'seed', entry.seed, 'commitment', entry.commitment,
      ));
      return true;
    } catch (err) {
      // the explicit id is the period: a second append (or an older period after a newer one) fails
      if (isFivedError(err, ErrorCode.INTERNAL) && /equal or smaller/.test(err.message)) return false;
      throw err;
    }
  }

  async history(duration: number, timeline: string, opts: { afterPeriodId?: string; limit: number }): Promise<HistoryEntry[]> {
    const limit = validateHistoryQuery(duration, timeline, opts);
    const key = this.b.keys.history(duration, timeline);
    const r = this.b.redis;
    const rows = await this.b.op(async () => opts.afterPeriodId
      ? r.xrange(key, `(${opts.afterPeriodId}-0`, '+', 'COUNT', limit)
      : (await r.xrevrange(key, '+', '-', 'COUNT', limit)).reverse());
    return rows.map(([, fields]) => {
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
      const digits = (f.digits ?? '').split(',').map(Number) as HistoryEntry['digits'];
      return { duration, timeline, periodId: f.periodId ?? '', digits, sum: Number(f.sum), seed: f.seed ?? '', commitment: f.commitment ?? '' };
    });
  }
}
