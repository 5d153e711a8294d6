// The Socket.IO peer (bench/peers/socketio) is a fair peer only if it sends what the gateway sends
// and computes what the gateway's worker computes: its payloads against the protocol and the
// gateway's own builder, its naive fallback against the core's exposure, and one real peer
// process delivering the result stored under the runbook key, read by the light client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { pack } from 'msgpackr';
import { aggregateBets, exposureSummary } from '../src/core/exposure.js';
import { nextPeriod, periodAt } from '../src/core/clock.js';
import { patternOf, patternWins } from '../src/core/rules.js';
import { DEFAULT_DAY_START, DEFAULT_PAYTABLE, type Bet, type BetKind, type Digits } from '../src/core/types.js';
import { resultPayload as gatewayResultPayload } from '../src/gateway/results.js';
import type { PeriodState } from '../src/gateway/periods.js';
import { Keys } from '../src/store/keys.js';
import type { StoredResult } from '../src/store/types.js';
import { periodPayload, resultPayload, tickPayload } from '../bench/peers/socketio/payloads.js';
import { exposureOf, patternsOf, wins } from '../bench/peers/socketio/fallback.js';
import { syntheticBet } from '../bench/peers/socketio/bets.js';
import { LightClient } from '../bench/lib/light-client.js';
import { startRedis, type TestRedis } from './support/redis.js';
import { freePort, waitForPort } from './support/ports.js';
import { startProcess, type Proc } from './support/procs.js';

const spec = { duration: 60, freezeMs: 5000, dayStart: DEFAULT_DAY_START };
const { phase: _p, ...w } = periodAt(Date.UTC(2025, 6, 31, 0, 1, 30), spec);

function stored(periodId: string, duration: number, digits: Digits): StoredResult {
  return {
    duration, timeline: 'default', periodId, digits, sum: digits.reduce((a, b) => a + b, 0), seed: 'a'.repeat(64), commitment: 'b'.repeat(64),
    tracking: { instance: 't', host: 'h', pid: 1, computedAt: 0, computeMs: 1, patternCount: 0, totalStake: 0, totalExposure: 0, maxLiability: 0, source: 'scheduler' },
  };
}

describe('peer payloads', () => {
  it('the result is the gateway\'s own result payload, with its type', () => {
    const r = stored(w.periodId, 60, [1, 2, 3, 4, 5]);
    const s = { room: { name: 'fiveD_60' }, w } as unknown as PeriodState;
    expect(resultPayload('fiveD_60', w, r)).toEqual({ type: 'result', ...gatewayResultPayload(s, r) });
  });

  it('ticks and period starts carry exactly the protocol fields', () => {
    const t = tickPayload('fiveD_60', w, w.startsAt + 56_000);
    expect(Object.keys(t).sort()).toEqual(['now', 'periodId', 'phase', 'remainingMs', 'room', 'type']);
    expect(t).toMatchObject({ type: 'tick', now: w.startsAt + 56_000, remainingMs: 4000, phase: 'frozen' });
    expect(tickPayload('fiveD_60', w, w.startsAt).phase).toBe('betting');
    expect(Object.keys(periodPayload('fiveD_60', w, null)).sort()).toEqual(
      ['commitment', 'duration', 'endsAt', 'freezeAt', 'periodId', 'room', 'startsAt', 'timeline', 'type'],
    );
  });
});

describe('peer fallback computes what the core computes', () => {
  it('its win test agrees with the core predicate for every pattern', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 5, maxLength: 5 }), (digits) => {
      const sum = digits.reduce((a, b) => a + b, 0);
      for (let i = 0; i < 74; i++) {
        const { kind, pick } = patternOf(i);
        expect(wins(kind, pick, digits, sum)).toBe(patternWins(i, digits, sum));
      }
    }), { numRuns: 40 });
  });

  it('its naive outcome loop finds the core\'s maximum liability', () => {
    const docs: string[] = [];
    const bets: Bet[] = [];
    for (let i = 0; i < 3000; i++) {
      const b = syntheticBet(i, 100, 0);
      docs.push(JSON.stringify(b));
      bets.push({ userId: b.userId, kind: b.kind as BetKind, pick: b.pick as Bet['pick'], amount: b.amount });
    }
    const { patterns } = patternsOf(docs);
    expect(exposureOf(patterns).max).toBe(exposureSummary(aggregateBets(bets, DEFAULT_PAYTABLE), DEFAULT_PAYTABLE).maxLiability);
  });
});

describe('a peer process', () => {
  let redis: TestRedis;
  let peer: Proc | null = null;
  let port = 0;
  const D = 2;
  const room = `fiveD_${D}`;

  beforeAll(async () => {
    redis = await startRedis();
    port = await freePort();
    peer = startProcess('peer', process.execPath, ['--import', 'tsx', 'bench/peers/socketio/server.ts'], {
      env: { ...process.env, PEER_PORT: String(port), FIVED_REDIS_URL: redis.url, FIVED_DURATIONS: String(D), FIVED_FREEZE_MS: '500' },
      quiet: true,
    });
    await waitForPort(port, '127.0.0.1', 30_000);
  });
  afterAll(async () => {
    await peer?.stop(60_000);
    await redis?.stop();
  });

  it('delivers the result stored under the runbook key to a Socket.IO client', async () => {
    const keys = new Keys('');
    const r = new Redis(redis.url);
    try {
      const got = await new Promise<Record<string, unknown>>((resolve, reject) => {
        let target: string | null = null;
        const c = new LightClient({
          host: '127.0.0.1', port, dialect: 'sio', format: 'text', rooms: [room],
          onMessage: (m) => {
            if (m.type === 'period' && target === null) {
              // store this period's result the way the scheduler does, before its end
              target = m.periodId as string;
              const ref = { duration: D, timeline: 'default', periodId: target };
              void r.set(keys.period(ref).result, pack(stored(target, D, [9, 8, 7, 6, 5])));
            }
            if (m.type === 'result' && m.periodId === target) { c.close(); resolve(m); }
          },
          onReady: () => undefined,
          onClose: (why) => reject(new Error(why)),
        });
      });
      expect(got).toMatchObject({ type: 'result', room, digits: [9, 8, 7, 6, 5], sum: 35, seed: 'a'.repeat(64) });
      expect(Date.now()).toBeGreaterThanOrEqual(got.endsAt as number);

      // the HTTP endpoint: same fields as the gateway's period view; nothing revealed before the end
      const res = await fetch(`http://127.0.0.1:${port}/api/rooms/${room}/periods/${got.periodId as string}`);
      const body = (await res.json()) as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(['betCount', 'commitment', 'endsAt', 'freezeAt', 'periodId', 'result', 'room', 'settled', 'startsAt', 'status', 'void', 'voidReason']);
      expect(body.result).toEqual({ digits: [9, 8, 7, 6, 5], sum: 35, seed: 'a'.repeat(64) });
      const future = nextPeriod(nextPeriod(periodAt(Date.now(), { duration: D, freezeMs: 500, dayStart: DEFAULT_DAY_START }), { duration: D, freezeMs: 500, dayStart: DEFAULT_DAY_START }), { duration: D, freezeMs: 500, dayStart: DEFAULT_DAY_START });
      await r.set(keys.period(future).result, pack(stored(future.periodId, D, [1, 1, 1, 1, 1])));
      const early = (await (await fetch(`http://127.0.0.1:${port}/api/rooms/${room}/periods/${future.periodId}`)).json()) as Record<string, unknown>;
      expect(early.result).toBeNull();
      expect(early).not.toHaveProperty('tracking');
      const rooms = (await (await fetch(`http://127.0.0.1:${port}/api/rooms`)).json()) as Array<Record<string, unknown>>;
      expect(rooms.map((x) => x.room)).toEqual([room]);
      expect((await fetch(`http://127.0.0.1:${port}/api/rooms/nope/periods/1`)).status).toBe(404);
    } finally {
      r.disconnect();
    }
  });
});
