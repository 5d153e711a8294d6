// Admission of WebSocket upgrades, a bounded slice per event-loop turn. uWS hands every ready
// socket of one poll to its callbacks in that same phase, so a burst of handshakes (10,000
// players connecting, a reconnect storm after a gateway restart) would be upgraded — each with
// its HELLO — in one long turn, and the second's tick would wait behind it (docs/design.md rule 3).
// The upgrade callback only checks and copies the handshake; the upgrade itself waits here, in
// arrival order, and runs in setImmediate turns of at most `budgetMs` each. The timers phase
// (ticks, freezes, ends) runs between two turns.

import { performance } from 'node:perf_hooks';

export class Admission {
  private queue: Array<() => void> = [];
  private head = 0;
  private scheduled = false;

  constructor(private readonly budgetMs = 4) {}

  /** Runs `job` in a later turn (never inline: the caller is inside uWS's poll phase). */
  admit(job: () => void): void {
    this.queue.push(job);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.drain);
    }
  }

  /** upgrades waiting (a metric, and for tests) */
  get waiting(): number {
    return this.queue.length - this.head;
  }

  private readonly drain = (): void => {
    const t0 = performance.now();
    // at least one per turn, so progress never depends on the budget
    do {
      const job = this.queue[this.head]!;
      this.queue[this.head] = noop; // let the closure (and its uWS response) be collected
      this.head += 1;
      try {
        job();
      } catch {
        // the handshake was aborted meanwhile (the job checks, but uWS may still refuse): nothing to undo
      }
    } while (this.head < this.queue.length && performance.now() - t0 < this.budgetMs);
    if (this.head >= this.queue.length) {
      this.queue = [];
      this.head = 0;
      this.scheduled = false;
    } else {
      if (this.head > 1024) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      setImmediate(this.drain);
    }
  };
}

const noop = (): void => undefined;
