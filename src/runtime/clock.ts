// Time for the runtimes: an injectable wall clock (offset for chaos tests of skewed instances),
// timers that never fire before their instant, a self-correcting per-second ticker, and a
// monotonic clock for durations (lease timing must not follow wall-clock steps).

import { performance } from 'node:perf_hooks';

export interface Clock {
  /** epoch ms */
  now(): number;
}

export type Cancel = () => void;

/** Date.now() + offsetMs. The offset exists only to test instances with skewed clocks. */
export function systemClock(offsetMs = 0): Clock {
  if (offsetMs === 0) return { now: () => Date.now() };
  return { now: () => Date.now() + offsetMs };
}

/** Monotonic milliseconds (performance.now): for measuring durations and lease deadlines. */
export function elapsed(): number {
  return performance.now();
}

// setTimeout takes a signed 32-bit delay; longer waits are chained.
const MAX_DELAY = 2_147_483_647;

/**
 * Calls fn once clock.now() >= epochMs. Node timers can fire a millisecond early (and the clock
 * may have an offset): on an early wake-up it re-arms for the rest, so fn never runs early.
 */
export function at(clock: Clock, epochMs: number, fn: () => void): Cancel {
  let timer: NodeJS.Timeout | null = null;
  let cancelled = false;
  const arm = () => {
    if (cancelled) return;
    const wait = epochMs - clock.now();
    if (wait <= 0) {
      timer = null;
      fn();
      return;
    }
    // ceil: a fractional remainder must not round down to an early fire
    timer = setTimeout(arm, Math.min(Math.ceil(wait), MAX_DELAY));
  };
  // always asynchronous, even when the instant has passed: callers may still be setting up
  timer = setTimeout(arm, Math.max(0, Math.min(Math.ceil(epochMs - clock.now()), MAX_DELAY)));
  return () => {
    cancelled = true;
    if (timer) clearTimeout(timer);
    timer = null;
  };
}

/**
 * Calls fn(boundaryMs, latenessMs) on every wall-clock second boundary of `clock`. Each tick
 * schedules the next boundary from the clock (no drifting setInterval); a tick delayed past the
 * next boundary (a blocked loop) skips the missed seconds and reports its lateness.
 */
export function everySecond(clock: Clock, fn: (boundaryMs: number, latenessMs: number) => void): Cancel {
  let cancel: Cancel | null = null;
  let stopped = false;
  const schedule = (boundary: number) => {
    cancel = at(clock, boundary, () => {
      const now = clock.now();
      if (!stopped) {
        try {
          fn(boundary, now - boundary);
        } finally {
          if (!stopped) schedule(Math.floor(clock.now() / 1000) * 1000 + 1000);
        }
      }
    });
  };
  schedule(Math.floor(clock.now() / 1000) * 1000 + 1000);
  return () => {
    stopped = true;
    cancel?.();
  };
}

/** Resolves after ms (monotonic setTimeout), or rejects with the signal's reason when aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
