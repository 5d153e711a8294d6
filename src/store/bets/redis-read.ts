// The bet reads of the Redis store: freeze + snapshot (the compact records, read in large pieces
// after the freeze flag, so the read is consistent), pattern totals, a user's bets, and the
// archiver's reads of a whole period (issue 14).
import { PATTERN_COUNT, type BetSnapshot, type PeriodRef } from '../../core/types.js';
import { ErrorCode, FivedError } from '../../errors.js';
import { buildRecord, fastRecord, parseEntry, type BetEntry } from '../acks.js';
import type { RedisBase } from '../base/redis.js';
import { num } from '../connection.js';
import { PERIOD_TTL_S, parsePeriodMember } from '../keys.js';
import type { BetRecord } from '../types.js';
import { validateRef, validateUserId } from '../validate.js';

const SNAPSHOT_CHUNK = 4 * 1024 * 1024;

export class RedisBetReads {
  constructor(protected readonly b: RedisBase) {}

  async freeze(period: PeriodRef): Promise<{ betCount: number }> {
    validateRef(period);
    const k = this.b.keys.period(period);
    const reply = await this.b.op(() => this.b.script('fivedFreeze', [k.meta, k.users, k.recs], [PERIOD_TTL_S]));
    return { betCount: num((reply as unknown[])[0]) };
  }

  async snapshot(period: PeriodRef): Promise<BetSnapshot> {
    validateRef(period);
    const k = this.b.keys.period(period);
    const r = this.b.redis;
    return this.b.op(async () => {
      const reply = (await this.b.script('fivedFreeze', [k.meta, k.users, k.recs], [PERIOD_TTL_S])) as unknown[];
      const bytes = num(reply[0]) * 16;
      // after the flag no bet can be appended: reading in several large pieces is consistent
      const parts: Array<Promise<Buffer>> = [];
      for (let off = 0; off < bytes; off += SNAPSHOT_CHUNK) {
        parts.push(r.getrangeBuffer(k.recs, off, Math.min(off + SNAPSHOT_CHUNK, bytes) - 1));
      }
      const usersP = r.getBuffer(k.users);
      const records = new Uint8Array(bytes); // a fresh ArrayBuffer of its own: safe to transfer
      let at = 0;
      for (const part of await Promise.all(parts)) {
        records.set(part, at);
        at += part.length;
      }
      if (at !== bytes) throw new FivedError(ErrorCode.INTERNAL, `snapshot of ${period.periodId}: read ${at} of ${bytes} record bytes`);
      const ub = await usersP;
      const users = ub && ub.length > 0 ? ub.toString('utf8', 0, ub.length - 1).split('\n') : [];
      return { records, users };
    });
  }

  async patternTotals(period: PeriodRef): Promise<Float64Array> {
    validateRef(period);
    const h = await this.b.op(() => this.b.redis.hgetall(this.b.keys.period(period).gross));
    const out = new Float64Array(PATTERN_COUNT);
    for (const [f, v] of Object.entries(h)) {
      const i = Number(f);
      if (Number.isInteger(i) && i >= 0 && i < PATTERN_COUNT) out[i] = Number(v);
    }
    return out;
  }

  async userBets(userId: string, period?: PeriodRef, limit = 50): Promise<BetRecord[]> {
    validateUserId(userId);
    if (period) validateRef(period);
    const max = Math.max(1, Math.min(Number.isSafeInteger(limit) ? limit : 50, 1000));
    return this.b.op(async () => {
      let refs: PeriodRef[];
      if (period) refs = [period];
      else {
        const members = await this.b.redis.zrevrange(this.b.keys.userPeriods(userId), 0, max - 1);
        refs = members.map(parsePeriodMember).filter((r): r is PeriodRef => r !== null);
      }
      const out: BetRecord[] = [];
      for (const ref of refs) {
        if (out.length >= max) break;
        out.push(...(await this.userBetsIn(ref, userId, max - out.length)));
      }
      return out;
    });
  }

  /** A user's bets of one period, newest first, at most `room`. */
  private async userBetsIn(ref: PeriodRef, userId: string, room: number): Promise<BetRecord[]> {
    const r = this.b.redis;
    const k = this.b.keys.period(ref);
    const ids = await r.lrange(this.b.keys.userPeriodBets(ref, userId), 0, -1);
    if (ids.length === 0) return [];
    const [entries, meta] = await Promise.all([r.hmget(k.idem, ...ids.map((id) => `${userId}\n${id}`)), r.hmget(k.meta, 'void', 'settled')]);
    const isVoid = meta[0] !== null;
    const settled = meta[1] !== null;
    const rows: Array<{ id: string; e: BetEntry }> = [];
    for (let i = ids.length - 1; i >= 0 && rows.length < room; i--) {
      const e = parseEntry(entries[i] ?? '');
      if (e) rows.push({ id: ids[i]!, e });
    }
    // outcomes only once the whole settlement is applied (never before the period's end)
    const pays = settled && !isVoid ? await Promise.all(rows.map(({ e }) => r.getrangeBuffer(k.pay, e.seq * 8, e.seq * 8 + 7))) : [];
    return rows.map(({ id, e }, j) => {
      const b = pays[j];
      const payout = b && b.length === 8 ? b.readDoubleLE(0) : 0;
      return buildRecord(ref, userId, id, e, { void: isVoid, settled, payout });
    });
  }

  async periodPayouts(period: PeriodRef): Promise<Float64Array | null> {
    validateRef(period);
    const b = await this.b.op(() => this.b.redis.getBuffer(this.b.keys.period(period).pay));
    if (!b) return null;
    const out = new Float64Array(b.length >> 3);
    for (let i = 0; i < out.length; i++) out[i] = b.readDoubleLE(i * 8);
    return out;
  }

  async periodBets(period: PeriodRef): Promise<BetRecord[]> {
    validateRef(period);
    const k = this.b.keys.period(period);
    const r = this.b.redis;
    return this.b.op(async () => {
      const [meta, pay] = await Promise.all([r.hmget(k.meta, 'void', 'settled'), r.getBuffer(k.pay)]);
      const state = { void: meta[0] !== null, settled: meta[1] !== null };
      const out: BetRecord[] = [];
      // HSCAN, not HGETALL: a period of a million bets is read in pieces that never stall Redis
      let cursor = '0';
      do {
        const [next, kv] = await r.hscan(k.idem, cursor, 'COUNT', 5000);
        cursor = next;
        for (let i = 0; i + 1 < kv.length; i += 2) {
          const nl = kv[i]!.indexOf('\n');
          const e = parseEntry(kv[i + 1]!);
          if (nl < 0 || !e) continue;
          const payout = state.settled && !state.void && pay && pay.length >= e.seq * 8 + 8 ? pay.readDoubleLE(e.seq * 8) : 0;
          out.push(fastRecord(period, kv[i]!.slice(0, nl), kv[i]!.slice(nl + 1), e, { ...state, payout }));
        }
      } while (cursor !== '0');
      return out.sort((a, b) => a.seq - b.seq);
    });
  }
}
