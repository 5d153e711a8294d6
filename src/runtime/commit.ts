// Commit ahead: the commitment (SHA-256 of a fresh secret seed) of each room's next period exists
// before that period opens. Create-if-absent, so the scheduler and every gateway can all do it and
// the first writer wins; a period that opened uncommitted is void (E_COMMIT_TOO_LATE is expected).

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

/** create-if-absent one period's commitment; null when the period already opened without one. */
export async function commitPeriod(store: Store, w: PeriodWindow, now: number): Promise<{ commitment: string | null; created: boolean }> {
  try {
    return await store.commit(w, freshSeed(), now);
  } catch (err) {
    if (isFivedError(err, ErrorCode.COMMIT_TOO_LATE)) return { commitment: null, created: false };
    throw err;
  }
}

/** For every room: the next period, and the current one only if it has not started yet. */
export async function commitAhead(store: Store, rooms: readonly Room[], clock: Clock): Promise<CommitOutcome[]> {
  const now = clock.now();
  const out: CommitOutcome[] = [];
  await Promise.all(
    rooms.map(async (room) => {
      const current = windowAt(room, now);
      const targets = now < current.startsAt ? [current, nextWindow(room, current)] : [nextWindow(room, current)];
      for (const w of targets) {
        const r = await commitPeriod(store, w, now);
        out.push({ room: room.name, periodId: w.periodId, ...r });
      }
    }),
  );
  return out;
}
