// Commit ahead: the commitment (SHA-256 of a fresh secret seed) of each room's next period exists
// before that period opens. Create-if-absent, so the scheduler and every gateway can all do it and
// the first writer wins; a period that opened uncommitted is void (E_COMMIT_TOO_LATE is expected).

import { randomBytes } from 'node:crypto';
import { isFivedError, ErrorCode } from '../errors.js';
import type { PeriodWindow } from '../core/types.js';
import type { Store } from '../store/types.js';
import type { Clock } from './clock.js';
import { windowAt, type Room } from './rooms.js';

export interface CommitOutcome {
  room: string;
  duration: number;
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

/** What commit-ahead needs of the settings schedule (runtime/schedule.ts ScheduleView). */
export interface RoomsOverTime {
  roomAt(duration: number, t: number): Room | undefined;
  roomsBetween(from: number, to: number): Room[];
}

const DAY_MS = 86_400_000;

/**
 * The period each room opens next, under the settings in effect when it opens: a room added by a
 * registered change gets its first period committed ahead like any other, with its own freeze; a
 * room removed at that instant gets none.
 */
export function nextTargets(rooms: RoomsOverTime, now: number): Array<{ room: Room; w: PeriodWindow }> {
  const out: Array<{ room: Room; w: PeriodWindow }> = [];
  for (const candidate of rooms.roomsBetween(now, now + DAY_MS)) {
    const startsAt = windowAt(candidate, now).endsAt;
    const room = rooms.roomAt(candidate.duration, startsAt);
    if (room) out.push({ room, w: windowAt(room, startsAt) });
  }
  return out;
}

/** Rooms that never change (tests, tools). */
export function fixedRooms(rooms: readonly Room[]): RoomsOverTime {
  return { roomAt: (d) => rooms.find((r) => r.duration === d), roomsBetween: () => [...rooms] };
}

/** For every room: the next period (see nextTargets). */
export async function commitAhead(store: Store, rooms: RoomsOverTime | readonly Room[], clock: Clock): Promise<CommitOutcome[]> {
  const now = clock.now();
  const over = Array.isArray(rooms) ? fixedRooms(rooms as readonly Room[]) : (rooms as RoomsOverTime);
  return Promise.all(
    nextTargets(over, now).map(async ({ room, w }) => ({ room: room.name, duration: room.duration, periodId: w.periodId, ...(await commitPeriod(store, w, now)) })),
  );
}
