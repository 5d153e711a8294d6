// The end of a period, for whoever applies it (the scheduler, or the gateway that claimed it):
// reveal to the history stream, apply the saved settlement through the store's exactly-once path
// (refused before the end by the store's own clock: E_TOO_EARLY), announce it. A stored result that
// does not verify against the commitment is neither revealed nor paid (E_RESULT_MISMATCH). Every step is idempotent, so a retry after
// a crash between steps completes the rest and changes nothing twice.

import { roomName } from '../config.js';
import type { PeriodWindow } from '../core/types.js';
import { ErrorCode, FivedError } from '../errors.js';
import type { Fence, Store } from '../store/types.js';
import { CHANNELS, type SettledMessage } from './bus.js';
import { assertResultVerifies } from './compute.js';

export interface ApplyOutcome {
  applied: boolean; // false: already applied before (by anyone)
  credited: number;
  historyAppended: boolean;
}

export async function applyAtEnd(store: Store, w: PeriodWindow, now: number, fence?: Fence, by = ''): Promise<ApplyOutcome> {
  if (now < w.endsAt) throw new FivedError(ErrorCode.TOO_EARLY, `period ${w.periodId} ends at ${w.endsAt}; not applying at ${now}`);
  const result = await store.getResult(w);
  let historyAppended = false;
  if (result) {
    // never reveal (history) nor pay on a result that does not verify: the caller voids it (finish)
    const commitment = await store.getCommitment(w);
    assertResultVerifies(result, commitment);
    historyAppended = await store.appendHistory({
      duration: result.duration,
      timeline: result.timeline,
      periodId: result.periodId,
      digits: result.digits,
      sum: result.sum,
      seed: result.seed,
      commitment: result.commitment,
    });
  }
  const { applied, credited } = await store.applySettlement(w, now, fence);
  if (applied) {
    const msg: SettledMessage = { room: roomName(w.duration), duration: w.duration, timeline: w.timeline, periodId: w.periodId, credited, by };
    await store.publish(CHANNELS.settled, msg);
  }
  return { applied, credited, historyAppended };
}
