// Issue 18's hot-path pieces: the flush watch behind result_sent_ms (src/gateway/flush.ts), the
// open-fds gauge that no longer lists /proc/self/fd on every scrape (src/runtime/metrics.ts), the
// light client's result-frame filter and bench:scale's fd-limit preflight.
import { closeSync, openSync, readdirSync } from 'node:fs';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { watchFlush } from '../src/gateway/flush.js';
import { createRegistry } from '../src/runtime/metrics.js';
import { isResultFrame } from '../bench/lib/light-client.js';
import { Opcode } from '../bench/lib/frames.js';

describe('watchFlush', () => {
  it('reports on the next loop iteration when nothing is buffered', async () => {
    const t0 = performance.now();
    const r = await new Promise<{ at: number; left: number }>((resolve) => watchFlush([{ b: 0 }, { b: 0 }], (s) => s.b, (at, left) => resolve({ at, left })));
    expect(r.left).toBe(0);
    expect(r.at).toBeGreaterThanOrEqual(t0);
  });

  it('waits until the last buffered socket drained', async () => {
    const socks = [{ b: 10 }, { b: 0 }, { b: 5 }];
    const done = new Promise<{ at: number; left: number }>((resolve) => watchFlush(socks, (s) => s.b, (at, left) => resolve({ at, left })));
    const drainedAt = await new Promise<number>((resolve) => setTimeout(() => { socks[0]!.b = 0; setTimeout(() => { socks[2]!.b = 0; resolve(performance.now()); }, 20); }, 10));
    const r = await done;
    expect(r.left).toBe(0);
    expect(r.at).toBeGreaterThanOrEqual(drainedAt);
  });

  it('gives up after the limit and says how many never drained', async () => {
    const r = await new Promise<number>((resolve) => watchFlush([{ b: 1 }], (s) => s.b, (_at, left) => resolve(left), 30));
    expect(r).toBe(1);
  });
});

describe('process_open_fds', () => {
  it('counts open fds like a listing of /proc/self/fd', async () => {
    const registry = createRegistry();
    const fds = Array.from({ length: 200 }, () => openSync('/dev/null', 'r'));
    try {
      const text = await registry.getSingleMetricAsString('process_open_fds');
      const value = Number(/process_open_fds (\d+)/.exec(text)?.[1]);
      const listed = readdirSync('/proc/self/fd').length - 1;
      expect(value).toBeGreaterThanOrEqual(200);
      expect(Math.abs(value - listed)).toBeLessThanOrEqual(5);
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  });
});

describe('isResultFrame', () => {
  const packr = new Packr({ useRecords: false, variableMapSize: true });
  it('tells a result frame from a tick or period frame without decoding', () => {
    expect(isResultFrame(Opcode.BINARY, Buffer.from(packr.pack({ type: 'result', room: 'fiveD_60', periodId: '1', digits: [1, 2, 3, 4, 5] })))).toBe(true);
    expect(isResultFrame(Opcode.BINARY, Buffer.from(packr.pack({ type: 'tick', room: 'fiveD_60', periodId: '1', now: 1 })))).toBe(false);
    expect(isResultFrame(Opcode.BINARY, Buffer.from(packr.pack({ type: 'period', room: 'fiveD_60', periodId: '1' })))).toBe(false);
    expect(isResultFrame(Opcode.TEXT, Buffer.from(JSON.stringify({ type: 'result', room: 'fiveD_60' })))).toBe(true);
    expect(isResultFrame(Opcode.TEXT, Buffer.from(JSON.stringify({ type: 'tick', room: 'fiveD_60' })))).toBe(false);
  });
});
