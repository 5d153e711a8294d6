// When a broadcast has left the process: after app.publish a frame is either written to the
// kernel or queued in a socket's user-space buffer (backpressure). watchFlush reports the instant
// the last of those queues emptied — the "result sent" figure of bench:fanout (issue 18) and the
// fived_gateway_result_sent_seconds histogram. uWS may write a publish only at the end of the
// loop iteration, so the first scan of the sockets waits for the next iteration (a timer); then
// only the few still buffering are re-checked, every millisecond, for at most `limitMs`. The
// instant reported is an upper bound, to the millisecond.

export interface FlushWatch {
  cancel(): void;
}

export function watchFlush<S>(
  sockets: Iterable<S>,
  buffered: (s: S) => number,
  done: (flushedAt: number, stillPending: number) => void,
  limitMs = 10_000,
): FlushWatch {
  let pending: S[] = [];
  let timer: NodeJS.Timeout | null = null;
  const giveUpAt = performance.now() + limitMs;
  const check = () => {
    pending = pending.filter((s) => buffered(s) > 0);
    const now = performance.now();
    if (pending.length === 0 || now >= giveUpAt) {
      timer = null;
      done(now, pending.length);
      return;
    }
    timer = setTimeout(check, 1);
  };
  timer = setTimeout(() => {
    for (const s of sockets) if (buffered(s) > 0) pending.push(s);
    check();
  }, 0);
  return { cancel: () => { if (timer) clearTimeout(timer); timer = null; } };
}
