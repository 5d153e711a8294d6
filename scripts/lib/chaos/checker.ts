// The invariant checker of the chaos run (docs/design.md rules 2, 4, 5): reads the store (Redis, through
// RedisStore's own key builder) and what every client recorded, and counts violations per
// invariant. Every violation keeps a short line of evidence for the report.

import { periodAt, periodById } from '../../../src/core/clock.js';
import { resultMatches, drawMessage } from '../../../src/core/draw.js';
import { multiplierOf, netStake, patternIndex, patternWins } from '../../../src/core/rules.js';
import { DEFAULT_PAYTABLE, type ClockSpec, type Paytable, type PeriodRef, type PeriodWindow } from '../../../src/core/types.js';
import { parseEntry } from '../../../src/store/acks.js';
import type { RedisStore } from '../../../src/store/redis.js';
import { periodMember } from '../../../src/store/keys.js';
import { reconcileLedger } from '../../../src/runtime/ledger-check.js';
import type { StoredResult } from '../../../src/store/types.js';
import type { ClientBet, FleetRecord } from './fleet.js';

export const INVARIANTS = [
  'period_one_result', // every period: one result verifying against its commitment, or void with every bet refunded once
  'client_same_result', // every client that received a result got the same one (and the store's)
  'result_before_end', // no result / settled notice received before the period's end
  'ack_lost', // an acknowledged bet missing from the store (or different, or outside the snapshot)
  'bet_after_freeze', // a bet accepted after its period's freeze
  'settled_once', // every stored bet settled exactly once (payout as the paytable says) or refunded once
  'balances', // deposits + payouts + refunds = balances + stakes; none negative; each user's balance adds up
  'balance_in_freeze', // a balance change visible between a period's freeze and its end
  'ledger', // issue 14 (`fived reconcile`): every user's ledger entries add up to the balance from 0; every bet one stake, a period at most one payout/refund of what was owed
  'gateway_up', // gateways stayed up except where killed; ticks continued on survivors
] as const;
export type Invariant = (typeof INVARIANTS)[number];

export interface CheckInput {
  store: RedisStore;
  rec: FleetRecord;
  rooms: Array<{ name: string; duration: number }>;
  freezeMs: number;
  /** the window whose periods are counted: periods starting at or after `from` and ending by `to` */
  from: number;
  to: number;
  /** a bet sent this long after the freeze must not be accepted */
  freezeToleranceMs: number;
  unexpectedExits: Array<{ name: string; at: number; code: number | null; signal: string | null }>;
  /** tick gaps longer than this on one live connection count */
  maxTickGapMs?: number;
  paytable?: Paytable;
}

export interface PeriodRow {
  room: string;
  periodId: string;
  status: string;
  bets: number;
  digits: string;
  source: string;
}

export interface CheckReport {
  periods: PeriodRow[];
  violations: Record<Invariant, number>;
  evidence: Record<Invariant, string[]>;
  betsAcked: number;
  betsUnknown: number;
  betsRejected: number;
  resultsSeen: number;
  samples: number;
  wallet: Record<string, number>;
}

export async function check(inp: CheckInput): Promise<CheckReport> {
  const pay = inp.paytable ?? DEFAULT_PAYTABLE;
  const violations = Object.fromEntries(INVARIANTS.map((k) => [k, 0])) as Record<Invariant, number>;
  const evidence = Object.fromEntries(INVARIANTS.map((k) => [k, [] as string[]])) as Record<Invariant, string[]>;
  const flag = (k: Invariant, why: string) => {
    violations[k] += 1;
    if (evidence[k].length < 20) evidence[k].push(why);
  };
  const r = inp.store.client;
  const keys = inp.store.keys;
  const spec = (duration: number): ClockSpec => ({ duration, freezeMs: inp.freezeMs, dayStart: { minutes: 0, offsetMinutes: 0 } });
  const byDuration = new Map(inp.rooms.map((x) => [x.duration, x.name]));

  // ---- the periods: every period of the window, plus every period a bet went to ----
  interface P { ref: PeriodRef; room: string; meta: Record<string, string>; result: StoredResult | null; n: number; counted: boolean }
  const periods = new Map<string, P>();
  const load = async (duration: number, periodId: string, counted: boolean) => {
    const k = `${duration}:${periodId}`;
    const have = periods.get(k);
    if (have) { if (counted) have.counted = true; return have; }
    const ref = { duration, timeline: 'default', periodId };
    const pk = keys.period(ref);
    // the bet count as the store reports it (getPeriod), the journal flags from the meta hash
    const [meta, rec] = await Promise.all([r.hgetall(pk.meta), inp.store.getPeriod(ref)]);
    const p: P = { ref, room: byDuration.get(duration) ?? `fiveD_${duration}`, meta, result: rec.result, n: rec.betCount, counted };
    periods.set(k, p);
    return p;
  };
  for (const room of inp.rooms) {
    let w: PeriodWindow = periodAt(inp.from, spec(room.duration));
    if (w.startsAt < inp.from) w = periodAt(w.endsAt, spec(room.duration)); // the first period wholly inside
    while (w.endsAt <= inp.to) {
      await load(room.duration, w.periodId, true);
      w = periodAt(w.endsAt, spec(room.duration));
    }
  }
  for (const b of inp.rec.bets) await load(b.duration, b.periodId, false);

  const rows: PeriodRow[] = [];
  for (const p of periods.values()) {
    const m = p.meta;
    const isVoid = m.void !== undefined;
    const settled = m.settled !== undefined;
    const n = p.n;
    const label = `${p.room} ${p.ref.periodId}`;
    if (isVoid) {
      if (n > 0 && m.refunded === undefined) flag('period_one_result', `${label}: void with ${n} bets but the refund is not complete`);
      if (settled) flag('period_one_result', `${label}: both void and settled (paid and refunded)`);
    } else if (!p.result) {
      // a period nobody bet on and nobody recorded can only be missing when the store was down for it
      flag('period_one_result', `${label}: no result and not void (meta ${JSON.stringify({ commitment: !!m.commitment, frozen: !!m.frozen, bets: n, plan: !!m.plan })})`);
    } else {
      const res = p.result;
      const msg = drawMessage(p.ref);
      if (!resultMatches(res.seed, res.commitment, msg, res.digits)) flag('period_one_result', `${label}: stored result ${res.digits.join('')} does not verify against its commitment`);
      if (m.commitment && m.commitment !== res.commitment) flag('period_one_result', `${label}: result commitment ${res.commitment.slice(0, 12)} differs from the committed ${m.commitment.slice(0, 12)}`);
      if (n > 0 && !settled) {
        // what the journal shows, so a failure in CI says which step never happened
        const claim = await r.get(keys.period(p.ref).claim);
        const pending = (await r.zscore(keys.pending, periodMember(p.ref))) !== null;
        const t = res.tracking;
        flag('settled_once', `${label}: ${n} bets, result stored by ${t.instance} (${t.source}, epoch ${t.epoch ?? '-'}), never settled ` +
          `(plan ${m.plan ? 'saved' : 'none'}, cursor ${m.cursor ?? '-'}, pending ${pending}, claim ${claim ?? 'none'}, frozen ${m.frozen ? 'yes' : 'no'})`);
      }
    }
    if (p.counted) {
      rows.push({
        room: p.room, periodId: p.ref.periodId, status: isVoid ? 'void' : settled ? 'settled' : p.result ? 'resulted' : (m.frozen ? 'frozen' : 'none'), bets: n,
        digits: p.result && !isVoid ? p.result.digits.join('') : '-', source: p.result ? `${p.result.tracking.source}:${p.result.tracking.instance}` : (isVoid ? (m.reason ?? '').slice(0, 40) : '-'),
      });
    }
  }

  // ---- what clients received ----
  for (const s of inp.rec.results) {
    const p = periods.get(`${durationOf(s.room)}:${s.periodId}`) ?? (await load(durationOf(s.room), s.periodId, false));
    const label = `${s.client} via ${s.via} ${s.room} ${s.periodId} (${s.how})`;
    const w = periodById({ duration: durationOf(s.room), timeline: 'default', periodId: s.periodId }, spec(durationOf(s.room)));
    if (s.receivedAt < w.endsAt) flag('result_before_end', `${label}: result received ${w.endsAt - s.receivedAt} ms before the end`);
    if (p.meta.void !== undefined) flag('client_same_result', `${label}: received result ${s.digits.join('')} for a void period`);
    else if (!p.result) flag('client_same_result', `${label}: received result ${s.digits.join('')}, the store has none`);
    else if (p.result.seed !== s.seed || p.result.digits.join('') !== s.digits.join('')) flag('client_same_result', `${label}: received ${s.digits.join('')}, the store has ${p.result.digits.join('')}`);
  }
  for (const s of inp.rec.settled) {
    const d = durationOf(s.room);
    const w = periodById({ duration: d, timeline: 'default', periodId: s.periodId }, spec(d));
    if (s.receivedAt < w.endsAt) flag('result_before_end', `${s.client} via ${s.via}: settled notice for ${s.room} ${s.periodId} ${w.endsAt - s.receivedAt} ms before the end`);
  }

  // ---- bets: acknowledged ones in the store, in the snapshot, accepted before the freeze ----
  const perUser = new Map<string, { staked: number; paid: number; refunded: number }>();
  const foundPerPeriod = new Map<string, number>();
  let acked = 0, unknown = 0, rejected = 0;
  const entries = await Promise.all(inp.rec.bets.map((b) => r.hget(keys.period({ duration: b.duration, timeline: 'default', periodId: b.periodId }).idem, `${b.userId}\n${b.clientBetId}`)));
  for (let i = 0; i < inp.rec.bets.length; i++) {
    const b = inp.rec.bets[i]!;
    const label = `${b.userId}/${b.clientBetId} ${b.room} ${b.periodId}`;
    if (b.status === 'acked') acked += 1;
    else if (b.status === 'unknown' || b.status === 'pending') unknown += 1;
    else rejected += 1;
    for (const a of b.attempts) {
      if (a.outcome === 'ack' && !a.duplicate && a.sentAt >= b.freezeAt + inp.freezeToleranceMs) {
        flag('bet_after_freeze', `${label}: sent ${a.sentAt - b.freezeAt} ms after the freeze via ${a.via}, acknowledged as new`);
      }
    }
    const raw = entries[i];
    const p = periods.get(`${b.duration}:${b.periodId}`)!;
    if (!raw) {
      if (b.status === 'acked') flag('ack_lost', `${label}: acknowledged (${b.betId}) but not in the store`);
      continue;
    }
    const e = parseEntry(raw);
    if (!e) { flag('ack_lost', `${label}: unreadable store entry ${raw}`); continue; }
    const n = p.n;
    if (e.amount !== b.amount || e.pattern !== patternIndex(b.kind, b.pick)) flag('ack_lost', `${label}: stored ${e.amount}/${e.pattern} differs from the bet`);
    if (e.seq >= n) flag('ack_lost', `${label}: seq ${e.seq} outside the snapshot of ${n} bets`);
    if (b.status === 'acked' && b.betId !== `${b.periodId}:${e.seq}`) flag('ack_lost', `${label}: acknowledged as ${b.betId}, stored as seq ${e.seq}`);
    if (e.placedAt >= b.freezeAt) flag('bet_after_freeze', `${label}: stored placedAt ${e.placedAt - b.freezeAt} ms after the freeze`);
    const pk = `${b.duration}:${b.periodId}`;
    foundPerPeriod.set(pk, (foundPerPeriod.get(pk) ?? 0) + 1);
    const u = perUser.get(b.userId) ?? { staked: 0, paid: 0, refunded: 0 };
    perUser.set(b.userId, u);
    u.staked += e.amount;
    if (p.meta.void !== undefined) {
      if (p.meta.refunded !== undefined) u.refunded += e.amount;
    } else if (p.meta.settled !== undefined && p.result) {
      const buf = await r.getrangeBuffer(keys.period(p.ref).pay, e.seq * 8, e.seq * 8 + 7);
      const payout = buf.length === 8 ? buf.readDoubleLE(0) : NaN;
      const expected = patternWins(e.pattern, p.result.digits, p.result.sum) ? netStake(e.amount, pay.feeBps) * multiplierOf(e.pattern, pay) : 0;
      if (payout !== expected) flag('settled_once', `${label}: payout ${payout}, the paytable says ${expected} for ${p.result.digits.join('')}`);
      u.paid += expected;
    } else {
      flag('settled_once', `${label}: stored bet in a period neither settled nor void`);
    }
  }
  // nothing in a snapshot that no client placed (only this run's clients bet on this store)
  for (const [k, found] of foundPerPeriod) {
    const p = periods.get(k)!;
    const n = p.n;
    if (n !== found) flag('ack_lost', `${p.room} ${p.ref.periodId}: ${n} bets in the snapshot, ${found} found from the clients' records`);
  }

  // ---- money ----
  const totals = await inp.store.walletTotals();
  if (!totals.balanced) {
    flag('balances', `wallet: deposits ${totals.deposits} + payouts ${totals.payouts} + refunds ${totals.refunds} != balances ${totals.balances} + stakes ${totals.stakes} + held ${totals.held}`);
  }
  const all = await r.hgetall(keys.balances);
  for (const [user, v] of Object.entries(all)) if (Number(v) < 0) flag('balances', `${user}: negative balance ${v}`);
  let deposits = 0;
  for (const [user, dep] of inp.rec.deposits) {
    deposits += dep;
    const u = perUser.get(user) ?? { staked: 0, paid: 0, refunded: 0 };
    const expect = dep - u.staked + u.paid + u.refunded;
    const have = Number(all[user] ?? 0);
    if (have !== expect) flag('balances', `${user}: balance ${have}, expected ${expect} (deposit ${dep} - stakes ${u.staked} + payouts ${u.paid} + refunds ${u.refunded})`);
  }
  if (totals.deposits !== deposits) flag('balances', `wallet deposits ${totals.deposits} != ${deposits} credited by the driver`);

  // ---- the ledger: the same check as `fived reconcile --complete` (nothing expires during a run) ----
  const ledger = await reconcileLedger(inp.store, { complete: true });
  for (const p of ledger.problems) flag('ledger', p);
  if (!ledger.ok && ledger.problems.length === 0) flag('ledger', 'the ledger does not reconcile');

  // ---- balances seen between a period's freeze and its end (samplers) ----
  for (const s of inp.rec.samples) {
    if (s.sentAt < s.freezeAt || s.receivedAt >= s.endsAt) continue;
    const bets = inp.rec.samplerBets.get(s.userId) ?? [];
    if (bets.some((b) => b.status !== 'acked' && b.status !== 'rejected')) continue; // an attempt in doubt
    const p = periods.get(`${durationOf(s.room)}:${s.periodId}`);
    if (p?.meta.void !== undefined) continue; // a void period refunds at once: no result is revealed
    const expect = (inp.rec.deposits.get(s.userId) ?? 0) - bets.filter((b) => b.status === 'acked').reduce((a, b) => a + b.amount, 0);
    if (s.balance !== expect) flag('balance_in_freeze', `${s.userId} ${s.room} ${s.periodId}: balance ${s.balance} at freeze+${s.sentAt - s.freezeAt} ms (end in ${s.endsAt - s.receivedAt} ms), expected ${expect}`);
  }

  // ---- gateways ----
  for (const e of inp.unexpectedExits) flag('gateway_up', `${e.name} exited unexpectedly at ${new Date(e.at).toISOString()} (code ${e.code}, signal ${e.signal})`);
  const maxGap = inp.maxTickGapMs ?? 2500;
  for (const [name, ticks] of inp.rec.ticks) {
    if (ticks.length === 0) { flag('gateway_up', `${name}: no tick received at all`); continue; }
    for (let i = 1; i < ticks.length; i++) {
      const a = ticks[i - 1]!, b = ticks[i]!;
      if (a.conn === b.conn && b.at - a.at > maxGap) flag('gateway_up', `${name}: no tick for ${b.at - a.at} ms on a live connection (from ${new Date(a.at).toISOString()})`);
    }
  }

  return {
    periods: rows.sort((a, b) => (a.periodId < b.periodId ? -1 : a.periodId > b.periodId ? 1 : a.room < b.room ? -1 : 1)),
    violations, evidence, betsAcked: acked, betsUnknown: unknown, betsRejected: rejected, resultsSeen: inp.rec.results.length,
    samples: inp.rec.samples.filter((s) => s.sentAt >= s.freezeAt && s.receivedAt < s.endsAt).length,
    wallet: { deposits: totals.deposits, payouts: totals.payouts, refunds: totals.refunds, stakes: totals.stakes, balances: totals.balances, held: totals.held },
  };

  function durationOf(room: string): number {
    return Number(room.replace(/^fiveD_/, ''));
  }
}

/** Waits until no period with bets is left unsettled (bounded); returns the periods still open. */
export async function waitSettled(store: RedisStore, bets: ClientBet[], timeoutMs: number): Promise<number> {
  const refs = new Map<string, PeriodRef>();
  for (const b of bets) refs.set(`${b.duration}:${b.periodId}`, { duration: b.duration, timeline: 'default', periodId: b.periodId });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let open = 0;
    for (const ref of refs.values()) {
      const [m, rec] = await Promise.all([store.client.hmget(store.keys.period(ref).meta, 'settled', 'void', 'refunded'), store.getPeriod(ref)]);
      if (rec.betCount === 0) continue;
      if (m[0] === null && !(m[1] !== null && m[2] !== null)) open += 1;
    }
    if (open === 0 || Date.now() >= deadline) return open;
    await new Promise((res) => setTimeout(res, 500));
  }
}
