// Upgrade admission (docs/design.md rule 3): a burst of handshakes is upgraded in arrival order over
// several event-loop turns, never inline in the uWS callback, so a timer due meanwhile (the
// second's tick) runs between two turns instead of after the whole burst.
import { describe, expect, it } from 'vitest';
import { Admission } from '../src/gateway/admission.js';

const busy = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* the cost of one upgrade + HELLO under load */ }
};

describe('upgrade admission', () => {
  it('runs a burst in order, in bounded turns, with a due timer between them', async () => {
    const admission = new Admission(4);
    const done: number[] = [];
    let doneWhenTimerRan = -1;
    let timerSet: () => void = () => undefined;
    const timer = new Promise<void>((resolve) => { timerSet = resolve; });
    const all = new Promise<void>((resolve) => {
      for (let i = 0; i < 1000; i++) {
        admission.admit(() => {
          // a timer that falls due during the first turn (as a tick would)
          if (i === 0) setTimeout(() => { doneWhenTimerRan = done.length; timerSet(); }, 0);
          busy(0.1);
          done.push(i);
          if (done.length === 1000) resolve();
        });
      }
    });
    expect(done).toEqual([]); // nothing inline: the caller is inside uWS's poll phase
    expect(admission.waiting).toBe(1000);
    await Promise.all([timer, all]);
    expect(done).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    // 100 ms of work with a 4 ms budget: the timer ran long before the burst was through
    expect(doneWhenTimerRan).toBeGreaterThanOrEqual(1);
    expect(doneWhenTimerRan).toBeLessThan(1000);
    expect(admission.waiting).toBe(0);
  });

  it('a job that throws does not stop the ones behind it', async () => {
    const admission = new Admission(4);
    const ran: string[] = [];
    await new Promise<void>((resolve) => {
      admission.admit(() => { ran.push('a'); });
      admission.admit(() => { throw new Error('aborted handshake'); });
      admission.admit(() => { ran.push('c'); resolve(); });
    });
    expect(ran).toEqual(['a', 'c']);
    // and it keeps working afterwards
    await new Promise<void>((resolve) => admission.admit(() => resolve()));
    expect(admission.waiting).toBe(0);
  });
});
