// The shared runtime steps on the in-memory store with the real worker pool: commit ahead,
// compute at the freeze (buffer source), store once, the gateways' fallback returns the same
// result, settlement applied once and never before the end, and a tampered result is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { drawDigits, drawMessage } from '../src/core/draw.js';
import { MemoryStore } from '../src/store/memory.js';
import { ComputePool } from '../src/worker/pool.js';
import type { BetAck, StoredResult } from '../src/store/types.js';
import { commitAhead, commitPeriod } from '../src/runtime/commit.js';
import { assertResultVerifies, buildResult, computeInPool, deriveResultAtEnd, readCommitted } from '../src/runtime/compute.js';
import { applyAtEnd } from '../src/runtime/settle.js';
import { nextWindow, roomsOf, windowAt } from '../src/runtime/rooms.js';
import { CHANNELS } from '../src/runtime/bus.js';
import type { Clock } from '../src/runtime/clock.js';
import { expectedPayout, requireBuild } from './support/scheduler.js';

let pool: ComputePool;
beforeAll(() => {
  requireBuild();
  pool = new ComputePool({ threads: 1 });
});
afterAll(async () => { await pool?.close(); });

const cfg = loadConfig({ FIVED_DURATIONS: '60', FIVED_FREEZE_MS: '5000' });
const room = roomsOf(cfg)[0]!;
const tracking = { instance: 't', host: 'h', pid: 1, computedAt: 0, computeMs: 0, patternCount: 0, totalStake: 0, totalExposure: 0, maxLiability: 0, source: 'scheduler' as const };

describe('runtime compute and settle (memory store)', () => {
  it('commits ahead, computes at the freeze, stores once, settles once at the end', async () => {
    // a fixed clock we move by hand, shared by the callers and the store's own clock
    let t = Date.UTC(2025, 6, 31, 10, 0, 30);
    const clock: Clock = { now: () => t };
    const store = new MemoryStore({}, () => t);
    await store.init();
    const cur = windowAt(room, t);
    const outcomes = await commitAhead(store, [room], clock);
    const w = nextWindow(room, cur);
    // the current period, before its freeze, is opened late (issue 13); the next one ahead
    expect(outcomes).toEqual([
      { room: 'fiveD_60', duration: 60, periodId: cur.periodId, commitment: expect.stringMatching(/^[0-9a-f]{64}$/), created: true },
      { room: 'fiveD_60', duration: 60, periodId: w.periodId, commitment: expect.stringMatching(/^[0-9a-f]{64}$/), created: true },
    ]);
    // a second commit keeps the first (create-if-absent)
    expect((await commitAhead(store, [room], clock)).map((o) => o.created)).toEqual([false, false]);
    // a period that reached its freeze uncommitted is too late: void
    const later = nextWindow(room, w);
    t = later.freezeAt;
    expect((await commitPeriod(store, later, t)).commitment).toBeNull();
    expect((await store.getPeriod(later)).status).toBe('void');
    t = Date.UTC(2025, 6, 31, 10, 0, 30);

    await store.credit('u1', 100_000, 'd1');
    t = w.startsAt + 1000;
    const acks: BetAck[] = [];
    acks.push(await store.placeBet({ period: w, userId: 'u1', clientBetId: 'a', kind: 'A', pick: 3, amount: 1000 }, cfg.limits, cfg.paytable, t));
    acks.push(await store.placeBet({ period: w, userId: 'u1', clientBetId: 'b', kind: 'SUM', pick: 'big', amount: 2000 }, cfg.limits, cfg.paytable, t));

    t = w.freezeAt;
    const out = await computeInPool({ store, pool, cfg, storeOptions: {} }, w);
    expect(out.betCount).toBe(2);
    expect(out.totalStake).toBe(3000);
    expect(out.draw).toEqual(drawDigits(out.seed, drawMessage(w))); // the draw is the seed's, nothing else
    const stored = await store.storeResult(buildResult(w, out.draw, out.seed, out.commitment, { ...tracking, instance: 'first' }));
    expect(stored.stored).toBe(true);
    // a second store (another instance) keeps the first
    const again = await store.storeResult(buildResult(w, out.draw, out.seed, out.commitment, { ...tracking, instance: 'second' }));
    expect(again).toMatchObject({ stored: false, result: { tracking: { instance: 'first' } } });

    // before the end nothing is applied
    await expect(applyAtEnd(store, w, w.endsAt - 1)).rejects.toMatchObject({ code: 'E_TOO_EARLY' });
    expect(await store.balance('u1')).toBe(97_000);

    // the gateways' fallback at the end returns the stored result
    t = w.endsAt;
    const fb = await deriveResultAtEnd(store, w, { instance: 'gw', host: 'h', pid: 2, source: 'gateway' }, t);
    expect(fb).toMatchObject({ stored: false, result: { tracking: { instance: 'first' }, digits: out.draw.digits } });

    const settledMsgs: unknown[] = [];
    await store.subscribe(CHANNELS.settled, (_c, m) => settledMsgs.push(m));
    const first = await applyAtEnd(store, w, t, undefined, 'me');
    const second = await applyAtEnd(store, w, t + 10, undefined, 'me');
    expect(first.applied).toBe(true);
    expect(second.applied).toBe(false);
    const paid = acks.reduce((a, b) => a + expectedPayout(b, out.draw.digits, cfg.paytable), 0);
    expect(first.credited).toBe(paid);
    expect(await store.balance('u1')).toBe(97_000 + paid);
    await new Promise((r) => setImmediate(r));
    expect(settledMsgs).toHaveLength(1);
    expect(settledMsgs[0]).toMatchObject({ periodId: w.periodId, duration: 60, room: 'fiveD_60' });
    const hist = await store.history(60, 'default', { limit: 5 });
    expect(hist.map((h) => h.periodId)).toContain(w.periodId);
    await store.close();
  });

  it('derives the result from the seed when none is stored; void without a commitment; refuses a tampered result', async () => {
    const store = new MemoryStore({});
    await store.init();
    const t0 = Date.UTC(2025, 6, 31, 11, 0, 30);
    const w = nextWindow(room, windowAt(room, t0));
    await commitPeriod(store, w, t0);
    const derived = await deriveResultAtEnd(store, w, { instance: 'gw1', host: 'h', pid: 3, source: 'gateway' }, w.endsAt);
    expect(derived!.stored).toBe(true);
    const { seed, commitment } = await readCommitted(store, w);
    expect(derived!.result.digits).toEqual(drawDigits(seed, drawMessage(w)).digits);
    expect(derived!.result.commitment).toBe(commitment);
    // a second gateway gets the same
    const other = await deriveResultAtEnd(store, w, { instance: 'gw2', host: 'h', pid: 4, source: 'gateway' }, w.endsAt);
    expect(other).toMatchObject({ stored: false, result: { digits: derived!.result.digits, tracking: { instance: 'gw1' } } });

    // a period that was never committed has no result
    const uncommitted = nextWindow(room, w);
    expect(await deriveResultAtEnd(store, uncommitted, { instance: 'gw1', host: 'h', pid: 3, source: 'gateway' }, uncommitted.endsAt)).toBeNull();

    const bad: StoredResult = { ...derived!.result, digits: [...derived!.result.digits] as StoredResult['digits'] };
    bad.digits[0] = (bad.digits[0] + 1) % 10;
    bad.sum = bad.digits.reduce((a, b) => a + b, 0);
    expect(() => assertResultVerifies(bad)).toThrow(expect.objectContaining({ code: 'E_RESULT_MISMATCH' }));
    expect(() => assertResultVerifies(derived!.result, '0'.repeat(64))).toThrow(expect.objectContaining({ code: 'E_RESULT_MISMATCH' }));
    expect(assertResultVerifies(derived!.result, commitment)).toBe(derived!.result);
    await store.close();
  });
});
