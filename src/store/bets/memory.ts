// Bets in memory: the same checks, codes and layout (16-byte records, user list) as bet_batch.lua.
import { liabilityUpperBound } from '../../core/rules.js';
import { BET_RECORD_BYTES, PATTERN_COUNT, type BetSnapshot, type Paytable, type PeriodRef } from '../../core/types.js';
import { ErrorCode } from '../../errors.js';
import { buildAck, buildRecord, fastRecord, formatEntry, parseEntry, type BetEntry } from '../acks.js';
import type { MemPeriod, MemState } from '../base/memory.js';
import { parsePeriodMember, periodMember } from '../keys.js';
import { storeError } from '../scripts.js';
import type { BetAck, BetLimits, BetRecord, BetStore, PlaceBetInput } from '../types.js';
import { type CheckedBet, checkBet, validateRef, validateUserId } from '../validate.js';

export class MemBets implements BetStore {
  constructor(private readonly s: MemState) {}

  async placeBet(input: PlaceBetInput, limits: BetLimits, paytable: Paytable, now: number): Promise<BetAck> {
    const c = checkBet(input, limits, paytable, now);
    this.s.open();
    const ref = input.period;
    const fail = (code: ErrorCode): never => { throw storeError(code, { periodId: ref.periodId, clientBetId: input.clientBetId }); };
    const p = this.s.get(ref);
    const prev = p?.idem.get(`${input.userId}\n${input.clientBetId}`);
    if (prev !== undefined) {
      const e = parseEntry(prev)!;
      if (e.pattern !== c.pattern || e.amount !== c.amount) fail(ErrorCode.DUPLICATE_CONFLICT);
      return buildAck(ref, input.userId, input.clientBetId, e, true);
    }
    if (!p) return fail(ErrorCode.NOT_COMMITTED);
    const code = this.refusal(p, input.userId, c, limits, paytable);
    if (code) fail(code);
    const entry = this.write(p, input, c);
    return buildAck(ref, input.userId, input.clientBetId, entry, false);
  }

  /** Why this bet is refused in this period's state (as bet_batch.lua, in the same order), or null. */
  private refusal(p: MemPeriod, userId: string, c: CheckedBet, limits: BetLimits, paytable: Paytable): ErrorCode | null {
    if (p.void) return ErrorCode.PERIOD_VOID;
    if (!p.commitment || !p.window) return ErrorCode.NOT_COMMITTED;
    if (p.frozen) return ErrorCode.PERIOD_FROZEN;
    const w = p.window;
    if (c.now < w.startsAt) return ErrorCode.PERIOD_NOT_OPEN;
    if (c.now >= w.endsAt) return ErrorCode.PERIOD_CLOSED;
    // the store's own clock closes betting too, whatever the caller's says (as RedisStore's TIME)
    if (c.now >= w.freezeAt || this.s.storeNow() >= w.freezeAt) return ErrorCode.PERIOD_FROZEN;
    const maxBets = limits.maxBetsPerUserPerPeriod;
    if (maxBets > 0 && (p.ubets.get(userId)?.length ?? 0) >= maxBets) return ErrorCode.TOO_MANY_BETS;
    if ((p.ustake.get(userId) ?? 0) + c.amount > limits.maxUserStakePerPeriod) return ErrorCode.USER_LIMIT;
    if (limits.maxLiability > 0) {
      const net = Float64Array.from(p.net);
      net[c.pattern] = net[c.pattern]! + c.net;
      if (liabilityUpperBound(net, paytable) > limits.maxLiability) return ErrorCode.LIABILITY_LIMIT;
    }
    const balance = this.s.balances.get(userId) ?? 0;
    // as bets.lua: a balance beyond 2^53-1 is refused, never rounded
    if (balance > Number.MAX_SAFE_INTEGER) return ErrorCode.BALANCE_OUT_OF_RANGE;
    if (balance < c.amount) return ErrorCode.INSUFFICIENT_FUNDS;
    return null;
  }

  /** Appends the accepted bet: its record, the totals, the debit and its ledger entry, in one step. */
  private write(p: MemPeriod, input: PlaceBetInput, c: CheckedBet): BetEntry {
    const { userId } = input;
    const seq = p.n;
    let ui = p.uidx.get(userId);
    if (ui === undefined) {
      ui = p.users.length;
      p.users.push(userId);
      p.uidx.set(userId, ui);
    }
    appendRecord(p, seq, ui, c);
    const w = p.window!;
    const member = periodMember(p.ref);
    if (seq === 0) this.s.unfinished.set(member, { ...p.ref, startsAt: w.startsAt, freezeAt: w.freezeAt, endsAt: w.endsAt });
    p.gross[c.pattern] = p.gross[c.pattern]! + c.amount;
    p.net[c.pattern] = p.net[c.pattern]! + c.net;
    p.ustake.set(userId, (p.ustake.get(userId) ?? 0) + c.amount);
    const newBalance = (this.s.balances.get(userId) ?? 0) - c.amount;
    this.s.balances.set(userId, newBalance);
    this.s.totals.stakes += c.amount;
    this.s.ledger.add(userId, 'stake', -c.amount, newBalance, `${member}:${seq}`);
    const entry = { seq, pattern: c.pattern, amount: c.amount, placedAt: c.now, balance: newBalance };
    p.idem.set(`${userId}\n${input.clientBetId}`, formatEntry(entry));
    let list = p.ubets.get(userId);
    if (!list) p.ubets.set(userId, (list = []));
    list.push(input.clientBetId);
    let up = this.s.userPeriods.get(userId);
    if (!up) this.s.userPeriods.set(userId, (up = new Map()));
    up.set(member, w.endsAt);
    return entry;
  }

  async freeze(period: PeriodRef): Promise<{ betCount: number }> {
    validateRef(period);
    this.s.open();
    const p = this.s.getOrCreate(period);
    p.frozen = true;
    return { betCount: p.n };
  }

  async snapshot(period: PeriodRef): Promise<BetSnapshot> {
    const { betCount } = await this.freeze(period);
    const p = this.s.get(period)!;
    // a copy with an ArrayBuffer of its own: the caller may transfer it to a worker
    return { records: p.recs.slice(0, betCount * BET_RECORD_BYTES), users: [...p.users] };
  }

  async patternTotals(period: PeriodRef): Promise<Float64Array> {
    validateRef(period);
    const p = this.s.get(period);
    return p ? Float64Array.from(p.gross) : new Float64Array(PATTERN_COUNT);
  }

  async userBets(userId: string, period?: PeriodRef, limit = 50): Promise<BetRecord[]> {
    validateUserId(userId);
    if (period) validateRef(period);
    const max = Math.max(1, Math.min(Number.isSafeInteger(limit) ? limit : 50, 1000));
    let refs: PeriodRef[];
    if (period) refs = [period];
    else {
      const up = [...(this.s.userPeriods.get(userId) ?? new Map<string, number>())].sort((a, b) => b[1] - a[1] || (b[0] < a[0] ? -1 : 1));
      refs = up.slice(0, max).map(([m]) => parsePeriodMember(m)).filter((r): r is PeriodRef => r !== null);
    }
    const out: BetRecord[] = [];
    for (const ref of refs) {
      const p = this.s.get(ref);
      const ids = p?.ubets.get(userId);
      if (!p || !ids) continue;
      for (let i = ids.length - 1; i >= 0 && out.length < max; i--) {
        const e = parseEntry(p.idem.get(`${userId}\n${ids[i]}`) ?? '');
        if (e) out.push(buildRecord(ref, userId, ids[i]!, e, outcomeOf(p, e.seq)));
      }
      if (out.length >= max) break;
    }
    return out;
  }

  async periodPayouts(period: PeriodRef): Promise<Float64Array | null> {
    validateRef(period);
    const pay = this.s.get(period)?.plan?.pay;
    return pay ? Float64Array.from(pay) : null;
  }

  async periodBets(period: PeriodRef): Promise<BetRecord[]> {
    validateRef(period);
    const p = this.s.get(period);
    if (!p) return [];
    const out: BetRecord[] = [];
    for (const [key, entry] of p.idem) {
      const nl = key.indexOf('\n');
      const e = parseEntry(entry);
      if (nl < 0 || !e) continue;
      out.push(fastRecord(p.ref, key.slice(0, nl), key.slice(nl + 1), e, outcomeOf(p, e.seq)));
    }
    return out.sort((a, b) => a.seq - b.seq);
  }
}

/** A bet's outcome: its payout only once the whole settlement is applied. */
function outcomeOf(p: MemPeriod, seq: number): { void: boolean; settled: boolean; payout: number } {
  const payout = p.settled && p.plan ? p.plan.pay[seq] ?? 0 : 0;
  return { void: p.void, settled: p.settled, payout };
}

/** Writes one 16-byte record (user index, pattern, amount) at `seq`, growing the buffer as needed. */
function appendRecord(p: MemPeriod, seq: number, ui: number, c: CheckedBet): void {
  if ((seq + 1) * BET_RECORD_BYTES > p.recs.length) {
    const grown = new Uint8Array(p.recs.length * 2);
    grown.set(p.recs);
    p.recs = grown;
  }
  const view = new DataView(p.recs.buffer, seq * BET_RECORD_BYTES, BET_RECORD_BYTES);
  view.setUint32(0, ui, true);
  view.setUint8(4, c.pattern);
  view.setFloat64(8, c.amount, true);
  p.n = seq + 1;
}
