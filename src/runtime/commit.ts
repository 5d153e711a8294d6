// Commit ahead: the commitment (SHA-256 of a fresh secret seed) of each room's next period exists
// before that period opens. Create-if-absent, so the scheduler and every gateway can all do it and
// the first writer wins. A current period without one (a cold start) is opened late, up to its
// freeze: bets need the commitment (the store refuses them without), so none can predate it
// (issue 13). Past the freeze it is void (E_COMMIT_TOO_LATE is expected).

import { randomBytes } from 'node:crypto';
import { isFivedError, ErrorCode } from '../errors.js';
import type { PeriodWindow } from '../core/types.js';
import type { Store } from '../store/types.js';
import type { Clock } from './clock.js';
import { nextWindow, windowAt, type Room } from './rooms.js';

export interface CommitOutcome {
  room: string;
  periodId: string;
  commitment: string | null; // null: too late, the period is void
  created: boolean;
}

/** A fresh 32-byte secret seed, hex. Only ever from the CSPRNG. */
export function freshSeed(): string {
  return randomBytes(32).toString('hex');
}

/** create-if-absent one period's commitment; null when the period is void (or reached its freeze without one). */
export async function commitPeriod(store: Store, w: PeriodWindow, now: number): Promise<{ commitment: string | null; created: boolean }> {
  try {
    return await store.commit(w, freshSeed(), now);
  } catch (err) {
    // too late (voided now) or voided already: nothing to commit
    if (isFivedError(err, ErrorCode.COMMIT_TOO_LATE) || isFivedError(err, ErrorCode.PERIOD_VOID)) return { commitment: null, created: false };
    throw err;
  }
}

/** The periods to commit for a room at `now`: the current one while before its freeze (opened late
 *  if it started uncommitted), and the next one. */
export function commitTargets(room: Room, now: number): PeriodWindow[] {
  const current = windowAt(room, now);
  const next = nextWindow(room, current);
  return now < current.freezeAt ? [current, next] : [next];
}

/** For every room: the next period, and the current one while before its freeze; `skip` leaves out
 *  periods the caller already knows committed (no store call for them). */
export async function commitAhead(store: Store, rooms: readonly Room[], clock: Clock, skip: (room: Room, w: PeriodWindow) => boolean = () => false): Promise<CommitOutcome[]> {
  const now = clock.now();
  const out: CommitOutcome[] = [];
  await Promise.all(
    rooms.map(async (room) => {
      for (const w of commitTargets(room, now)) {
        if (skip(room, w)) continue;
        const r = await commitPeriod(store, w, now);
        out.push({ room: room.name, periodId: w.periodId, ...r });
      }
    }),
  );
  return out;
}
