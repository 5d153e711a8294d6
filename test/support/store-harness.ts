// Shared by the store tests: periods with windows relative to now, limits, and a digest of
// everything a store holds (to prove that refused input wrote nothing).
import { drawDigits, drawMessage } from '../../src/core/draw.js';
import { DEFAULT_PAYTABLE, type PeriodWindow } from '../../src/core/types.js';
import { commitmentOf } from '../../src/core/draw.js';
import { settleSnapshot } from '../../src/core/settlement.js';
import { MemoryStore } from '../../src/store/memory.js';
import { RedisStore } from '../../src/store/redis.js';
import type { BetLimits, SettlementPlan, Store, StoredResult } from '../../src/store/types.js';

export const LIMITS: BetLimits = { minStake: 2, maxStake: 1_000_000, maxUserStakePerPeriod: 5_000_000, maxLiability: 0, maxBetsPerUserPerPeriod: 0 }; // no bet count cap: tests place many bets per user
export const PAY = DEFAULT_PAYTABLE;

let periodCounter = 0;
/** A distinct 60 s period whose window is placed relative to `now` (ms offsets). */
export function windowAt(now: number, o: { start?: number; freeze?: number; end?: number } = {}): PeriodWindow {
  periodCounter += 1;
  return {
    duration: 60,
    timeline: 'default',
    periodId: `20250101${String(periodCounter).padStart(9, '0')}`,
    startsAt: now + (o.start ?? -1000),
    freezeAt: now + (o.freeze ?? 60_000),
    endsAt: now + (o.end ?? 65_000),
  };
}

export function seedOf(n: number): string {
  return n.toString(16).padStart(64, '0');
}

/** A committed, open period (betting now). */
export async function openPeriod(store: Store, o: { start?: number; freeze?: number; end?: number } = {}, seed = seedOf(7)): Promise<PeriodWindow> {
  const now = Date.now();
  const w = windowAt(now, o);
  await store.commit(w, seed, w.startsAt - 1);
  return w;
}

export function resultOf(w: PeriodWindow, seed = seedOf(7)): StoredResult {
  const d = drawDigits(seed, drawMessage(w));
  return {
    duration: w.duration, timeline: w.timeline, periodId: w.periodId, digits: d.digits, sum: d.sum, seed, commitment: commitmentOf(seed),
    tracking: { instance: 'test', host: 'h', pid: 1, computedAt: 1, computeMs: 1, patternCount: 0, totalStake: 0, totalExposure: 0, maxLiability: 0, source: 'scheduler' },
  };
}

/** Snapshot + settle with the real core, as the worker does: the plan to save. */
export async function planFor(store: Store, w: PeriodWindow, seed = seedOf(7)): Promise<SettlementPlan> {
  const snap = await store.snapshot(w);
  const d = drawDigits(seed, drawMessage(w));
  const s = settleSnapshot(d, snap, PAY);
  return { period: w, betCount: s.betCount, payouts: s.payouts, users: snap.users, userPayouts: s.userPayouts, totalPayout: s.totalPayout };
}

/** Everything the store holds, as one string. */
export async function digest(store: Store): Promise<string> {
  if (store instanceof RedisStore) {
    const r = store.client;
    const keys = (await r.keys(`${store.keys.prefix}*`)).sort();
    const parts: string[] = [];
    for (const k of keys) {
      const d = await r.dumpBuffer(k);
      parts.push(`${k}=${d ? d.toString('hex') : 'nil'}`);
    }
    return parts.join('\n');
  }
  if (store instanceof MemoryStore) {
    // the private state, serialised (typed arrays and maps included)
    return JSON.stringify(store, (_k, v: unknown) => {
      if (v instanceof Map) return [...v.entries()];
      if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
      if (v && typeof v === 'object' && 'emit' in v) return undefined;
      return v;
    });
  }
  throw new Error('unknown store');
}

/** deposits + payouts + refunds = balances + stakes + withdrawals + held (held: credits that would pass the maximum balance) */
export async function invariant(store: Store): Promise<{ left: number; right: number }> {
  const t = await store.walletTotals!();
  return { left: t.deposits + t.payouts + t.refunds, right: t.balances + t.stakes + t.withdrawals + t.held };
}

/**
 * Everything a store holds, as readable text: RedisStore's keys read value by value by type (a DUMP
 * may be LZF-compressed and hide a value in clear), MemoryStore's private state serialised.
 */
export async function atRest(store: Store): Promise<string> {
  if (!(store instanceof RedisStore)) return digest(store);
  const r = store.client;
  const parts: string[] = [];
  for (const k of (await r.keys(`${store.keys.prefix}*`)).sort()) {
    const type = await r.type(k);
    let v: unknown;
    if (type === 'string') v = (await r.getBuffer(k))?.toString('latin1');
    else if (type === 'hash') v = await r.hgetall(k);
    else if (type === 'list') v = await r.lrange(k, 0, -1);
    else if (type === 'set') v = await r.smembers(k);
    else if (type === 'zset') v = await r.zrange(k, 0, -1, 'WITHSCORES');
    else if (type === 'stream') v = await r.xrange(k, '-', '+');
    parts.push(`${k}=${JSON.stringify(v)}`);
  }
  return parts.join('\n');
}
