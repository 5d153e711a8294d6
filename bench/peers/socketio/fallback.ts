// The peer's fallback, computed on its own event loop the way the seed guide's system did when no
// pre-calculated result was in Redis at t=0 ("Fallback to real-time calculation"): read every bet,
// JSON.parse each one, group them into bet patterns, then walk all 100,000 outcomes × every
// pattern to get the exposure of each outcome, and settle every bet. That system then picked the
// outcome from this table; the peer only reports it (the result is drawn from the committed seed,
// see server.ts) — the cost on the event loop is the same, which is what the benchmark compares.

import type { PeerBet } from './bets.js';

export interface PatternTotal { kind: string; pick: number | string; net: number; count: number }

export interface FallbackReport {
  bets: number;
  patterns: number;
  maxExposure: number;
  minExposure: number;
  totalPayout: number;
  winners: number;
  parseMs: number;
  exposureMs: number;
  settleMs: number;
}

const FEE_BPS = 200;

function multiplier(kind: string, pick: number | string): number {
  if (kind !== 'SUM' && typeof pick === 'number') return 9;
  return 2;
}

export function wins(kind: string, pick: number | string, digits: number[], sum: number): boolean {
  if (kind === 'SUM') {
    if (pick === 'big') return sum >= 23;
    if (pick === 'small') return sum <= 22;
    if (pick === 'odd') return sum % 2 === 1;
    return sum % 2 === 0;
  }
  const d = digits['ABCDE'.indexOf(kind)]!;
  if (typeof pick === 'number') return d === pick;
  if (pick === 'big') return d >= 5;
  if (pick === 'small') return d <= 4;
  if (pick === 'odd') return d % 2 === 1;
  return d % 2 === 0;
}

/** Parses the bet documents and groups them by pattern ("A:7", "SUM:big"). */
export function patternsOf(docs: string[]): { bets: PeerBet[]; patterns: Map<string, PatternTotal> } {
  const bets: PeerBet[] = [];
  const patterns = new Map<string, PatternTotal>();
  for (const doc of docs) {
    const b = JSON.parse(doc) as PeerBet;
    bets.push(b);
    const key = `${b.kind}:${b.pick}`;
    let p = patterns.get(key);
    if (!p) patterns.set(key, (p = { kind: b.kind, pick: b.pick, net: 0, count: 0 }));
    p.net += Math.floor((b.amount * (10_000 - FEE_BPS)) / 10_000);
    p.count++;
  }
  return { bets, patterns };
}

/** The seed system's exposure table: every outcome 00000..99999 × every pattern. */
export function exposureOf(patterns: Map<string, PatternTotal>): { max: number; min: number } {
  const list = [...patterns.values()];
  let max = -Infinity;
  let min = Infinity;
  for (let o = 0; o < 100_000; o++) {
    const digits = String(o).padStart(5, '0').split('').map(Number);
    const sum = digits.reduce((a, b) => a + b, 0);
    let payout = 0;
    for (const p of list) if (wins(p.kind, p.pick, digits, sum)) payout += p.net * multiplier(p.kind, p.pick);
    if (payout > max) max = payout;
    if (payout < min) min = payout;
  }
  return { max, min };
}

/** Settles every bet against the result: payout per bet and per user. */
export function settle(bets: PeerBet[], digits: number[]): { totalPayout: number; winners: number; perUser: Map<string, number> } {
  const sum = digits.reduce((a, b) => a + b, 0);
  const perUser = new Map<string, number>();
  let totalPayout = 0;
  let winners = 0;
  for (const b of bets) {
    if (!wins(b.kind, b.pick, digits, sum)) continue;
    const pay = Math.floor((b.amount * (10_000 - FEE_BPS)) / 10_000) * multiplier(b.kind, b.pick);
    totalPayout += pay;
    winners++;
    perUser.set(b.userId, (perUser.get(b.userId) ?? 0) + pay);
  }
  return { totalPayout, winners, perUser };
}

/** The whole fallback on the calling thread (blocking it, as the seed system did). */
export function runFallback(docs: string[], digits: number[]): FallbackReport {
  const t0 = performance.now();
  const { bets, patterns } = patternsOf(docs);
  const t1 = performance.now();
  const { max, min } = exposureOf(patterns);
  const t2 = performance.now();
  const s = settle(bets, digits);
  const t3 = performance.now();
  return {
    bets: bets.length, patterns: patterns.size, maxExposure: max, minExposure: min, totalPayout: s.totalPayout, winners: s.winners,
    parseMs: t1 - t0, exposureMs: t2 - t1, settleMs: t3 - t2,
  };
}
