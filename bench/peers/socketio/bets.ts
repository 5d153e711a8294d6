// How the peer keeps bets: one JSON document per bet in a Redis list per period, the way the seed
// guide's system stored them (its fallback read them back and JSON-parsed every one). The harness
// bulk-loads the same count as the gateway's 1,000,000-bet fallback period with loadPeerBets().

import type { Redis } from 'ioredis';
import type { PeriodRef } from '../../../src/core/types.js';

export interface PeerBet {
  userId: string;
  kind: string; // 'A'..'E' | 'SUM'
  pick: number | string; // 0-9 | big | small | odd | even
  amount: number; // minor units
  placedAt: number;
}

export function peerBetsKey(prefix: string, p: PeriodRef): string {
  return `${prefix}bench_peer_bets:fiveD:${p.duration}:${p.timeline}:${p.periodId}`;
}

const KINDS = ['A', 'B', 'C', 'D', 'E', 'SUM'] as const;
const SIDES = ['big', 'small', 'odd', 'even'] as const;

/** A deterministic spread of bets over every kind and pick (the same mix for every run). */
export function syntheticBet(i: number, users: number, now: number): PeerBet {
  const kind = KINDS[i % 6]!;
  const r = (i * 2654435761) >>> 0;
  const pick = kind === 'SUM' ? SIDES[r % 4]! : r % 14 < 10 ? r % 10 : SIDES[(r % 14) - 10]!;
  return { userId: `u${i % users}`, kind, pick, amount: 100 + (r % 50) * 10, placedAt: now };
}

/** RPUSHes `count` synthetic bets in pipelined chunks; resolves with the time it took (ms). */
export async function loadPeerBets(redis: Redis, prefix: string, p: PeriodRef, count: number, users = 50_000): Promise<number> {
  const t0 = Date.now();
  const key = peerBetsKey(prefix, p);
  const chunk = 5000;
  for (let i = 0; i < count; i += chunk) {
    const docs: string[] = [];
    for (let j = i; j < Math.min(count, i + chunk); j++) docs.push(JSON.stringify(syntheticBet(j, users, t0)));
    await redis.rpush(key, ...docs);
  }
  await redis.expire(key, 3600);
  return Date.now() - t0;
}
