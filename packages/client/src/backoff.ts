// Reconnect delays: exponential growth capped at maxMs, with jitter so that thousands of clients
// dropped by one gateway restart do not all come back in the same millisecond.

export interface BackoffOptions {
  initialMs: number; // first retry
  maxMs: number; // cap
  factor: number; // growth per attempt
  jitter: number; // 0..1: the delay is drawn from [base × (1 - jitter), base]
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({ initialMs: 250, maxMs: 15_000, factor: 2, jitter: 0.5 });

/** Delay before retry number `attempt` (0 = the first retry). `random` returns [0, 1). */
export function backoffDelay(attempt: number, opts: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const n = Math.max(0, Math.floor(attempt));
  // factor ** n overflows to Infinity for large n; min() keeps the cap
  const base = Math.min(opts.maxMs, opts.initialMs * opts.factor ** n);
  const jitter = Math.min(1, Math.max(0, opts.jitter));
  return Math.round(base * (1 - jitter * random()));
}
