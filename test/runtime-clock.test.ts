// Runtime time helpers: `at` never fires before its instant (even on a clock that lags the timer
// base), cancels cleanly; `everySecond` fires on wall-clock second boundaries, without drift.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Writable } from 'node:stream';
import { at, elapsed, everySecond, sleep, systemClock, type Clock } from '../src/runtime/clock.js';
import { createLogger, logTag, TAGS } from '../src/runtime/log.js';
import { counter, createRegistry } from '../src/runtime/metrics.js';
import { findRoom, nextWindow, roomsOf, windowAt, windowOf } from '../src/runtime/rooms.js';
import { loadConfig } from '../src/config.js';

describe('at', () => {
  it('never fires before clock.now() reaches the instant (system clock, fractional instants)', async () => {
    const clock = systemClock();
    const fired: Array<{ epoch: number; now: number }> = [];
    const all: Promise<void>[] = [];
    for (let i = 0; i < 60; i++) {
      const epoch = clock.now() + 1 + Math.random() * 40;
      all.push(new Promise((resolve) => at(clock, epoch, () => { fired.push({ epoch, now: clock.now() }); resolve(); })));
    }
    await Promise.all(all);
    expect(fired).toHaveLength(60);
    for (const f of fired) expect(f.now).toBeGreaterThanOrEqual(f.epoch);
  });

  it('re-arms on a clock that lags the timer base, so it still never fires early', async () => {
    // a clock 7 ms behind Date.now(): the first setTimeout wakes 7 ms "early" by this clock
    const lagging = systemClock(-7);
    let wakeups = 0;
    const counting: Clock = { now: () => { wakeups++; return lagging.now(); } };
    const epoch = Date.now() + 20; // instant on the system timeline: the lagging clock reaches it 7 ms later
    const firedAt = await new Promise<number>((resolve) => at(counting, epoch, () => resolve(lagging.now())));
    expect(firedAt).toBeGreaterThanOrEqual(epoch);
    expect(wakeups).toBeGreaterThanOrEqual(2);
  });

  it('fires asynchronously when the instant has passed, and cancel prevents firing', async () => {
    const clock = systemClock();
    let sync = true;
    const past = new Promise<boolean>((resolve) => at(clock, clock.now() - 1000, () => resolve(sync)));
    sync = false;
    expect(await past).toBe(false);
    let fired = false;
    const cancel = at(clock, clock.now() + 20, () => { fired = true; });
    cancel();
    await sleep(60);
    expect(fired).toBe(false);
  });
});

// on fake timers (Date.now and setTimeout): the seconds pass at once, from an instant mid-second
describe('everySecond', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires once per wall-clock second boundary, never early, with small lateness', async () => {
    vi.useFakeTimers({ now: 1_753_920_000_437 });
    const clock = systemClock();
    const ticks: Array<{ boundary: number; now: number; lateness: number }> = [];
    const done = new Promise<void>((resolve) => {
      const cancel = everySecond(clock, (boundary, lateness) => {
        ticks.push({ boundary, now: clock.now(), lateness });
        if (ticks.length === 3) { cancel(); resolve(); }
      });
    });
    await vi.advanceTimersByTimeAsync(2_600);
    expect(ticks).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(5_000); // cancelled: no fourth tick
    await done;
    expect(ticks).toHaveLength(3);
    expect(ticks[0]!.boundary).toBe(1_753_920_001_000);
    for (const t of ticks) {
      expect(t.boundary % 1000).toBe(0);
      expect(t.now).toBeGreaterThanOrEqual(t.boundary);
      expect(t.lateness).toBeGreaterThanOrEqual(0);
      expect(t.lateness).toBeLessThan(100); // generous: the tight figure belongs in a benchmark
    }
    expect(ticks[1]!.boundary - ticks[0]!.boundary).toBe(1000);
    expect(ticks[2]!.boundary - ticks[1]!.boundary).toBe(1000);
  });

  it('skips the seconds a blocked loop missed and reports its lateness', async () => {
    vi.useFakeTimers({ now: 1_753_920_000_000 });
    const clock = systemClock();
    const ticks: Array<{ boundary: number; lateness: number }> = [];
    const cancel = everySecond(clock, (boundary, lateness) => {
      ticks.push({ boundary, lateness });
      if (ticks.length === 1) vi.setSystemTime(clock.now() + 2_250); // the loop was blocked 2.25 s
    });
    await vi.advanceTimersByTimeAsync(2_000);
    cancel();
    expect(ticks[0]).toEqual({ boundary: 1_753_920_001_000, lateness: 0 });
    expect(ticks[1]!.boundary).toBe(1_753_920_004_000); // 2 and 3 missed, not fired late in a burst
    expect(ticks.every((t) => t.boundary % 1000 === 0)).toBe(true);
  });

  it('follows the offset clock: boundaries are whole seconds of that clock', async () => {
    vi.useFakeTimers({ now: 1_753_920_000_000 });
    const clock = systemClock(333);
    const fired = new Promise<number>((resolve) => {
      const cancel = everySecond(clock, (b) => { cancel(); resolve(b); });
    });
    await vi.advanceTimersByTimeAsync(1_000);
    const boundary = await fired;
    expect(boundary % 1000).toBe(0);
    expect(boundary).toBe(1_753_920_001_000); // the offset clock's next second, 667 ms of system time later
    expect(clock.now()).toBeGreaterThanOrEqual(boundary);
  });
});

describe('elapsed and sleep', () => {
  it('elapsed is monotonic and sleep can be aborted', async () => {
    const a = elapsed();
    await sleep(5);
    expect(elapsed()).toBeGreaterThan(a);
    const ac = new AbortController();
    const p = sleep(10_000, ac.signal);
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
  });
});

describe('rooms', () => {
  it('derives consecutive windows and finds them by id', () => {
    const cfg = loadConfig({ FIVED_DURATIONS: '2,60', FIVED_FREEZE_MS: '1000' });
    const rooms = roomsOf(cfg);
    expect(rooms.map((r) => r.name)).toEqual(['fiveD_2', 'fiveD_60']);
    const room = findRoom(rooms, 'fiveD_2');
    const now = Date.UTC(2025, 6, 31, 0, 0, 10, 500);
    const w = windowAt(room, now);
    expect(w.startsAt).toBeLessThanOrEqual(now);
    expect(w.endsAt).toBeGreaterThan(now);
    expect(w.freezeAt).toBe(w.endsAt - 1000);
    expect(w.periodId).toBe('20250731000000006');
    const n = nextWindow(room, w);
    expect(n.startsAt).toBe(w.endsAt);
    expect(windowOf(room, n.periodId)).toEqual(n);
    expect(() => findRoom(rooms, 'fiveD_3')).toThrow(/unknown room/);
  });
});

describe('log and metrics', () => {
  it('puts the seed guide tag in a field and at the head of the message', async () => {
    const lines: string[] = [];
    const dest = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
    const log = createLogger({ logLevel: 'info', instance: 'sched-1' }, 'scheduler', { destination: dest });
    logTag(log, 'info', TAGS.PRECALC_EXEC, { room: 'fiveD_60', periodId: '20250731000000001' }, 'Starting pre-calculation for period 20250731000000001');
    await new Promise((r) => setImmediate(r));
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({ tag: '5D_PRECALC_EXEC', room: 'fiveD_60', periodId: '20250731000000001', component: 'scheduler', instance: 'sched-1', level: 'info' });
    expect(entry.msg).toBe('[5D_PRECALC_EXEC] Starting pre-calculation for period 20250731000000001');
  });

  it('registers a metric once per registry and returns it again', async () => {
    const reg = createRegistry({ defaultMetrics: false });
    const a = counter(reg, 'fived_test_total', 'test', ['x'] as const);
    const b = counter(reg, 'fived_test_total', 'test', ['x'] as const);
    expect(a).toBe(b);
    a.inc({ x: '1' });
    expect(await reg.metrics()).toContain('fived_test_total{x="1"} 1');
    const other = createRegistry({ defaultMetrics: false });
    expect(counter(other, 'fived_test_total', 'test')).not.toBe(a);
  });
});
