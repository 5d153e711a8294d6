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

/** What commit-ahead needs of the settings schedule (runtime/schedule.ts ScheduleView). */
export interface RoomsOverTime {
  roomAt(duration: number, t: number): Room | undefined;
  roomsBetween(from: number, to: number): Room[];
}

const DAY_MS = 86_400_000;

/**
 * The periods to commit at `now`, each under the settings in effect when it opens: for every room,
 * the current period while before its freeze (opened late when it started uncommitted: a cold
 * start, docs/operations.md) and the next one. A room added by a registered change gets its first
 * period committed ahead like any other, with its own freeze; a room removed at that instant gets
 * none after its last.
 */
export function commitTargets(rooms: RoomsOverTime, now: number): Array<{ room: Room; w: PeriodWindow }> {
  const out: Array<{ room: Room; w: PeriodWindow }> = [];
  for (const candidate of rooms.roomsBetween(now, now + DAY_MS)) {
    const current = windowAt(candidate, now);
    const open = rooms.roomAt(candidate.duration, current.startsAt);
    if (open) {
      const w = windowAt(open, now);
      if (now < w.freezeAt) out.push({ room: open, w });
    }
    const room = rooms.roomAt(candidate.duration, current.endsAt);
    if (room) out.push({ room, w: windowAt(room, current.endsAt) });
  }
  return out;
}

/** The next period of every room only (see commitTargets). */
export function nextTargets(rooms: RoomsOverTime, now: number): Array<{ room: Room; w: PeriodWindow }> {
  return commitTargets(rooms, now).filter(({ w }) => w.startsAt > now);
}

/** Rooms that never change (tests, tools). */
export function fixedRooms(rooms: readonly Room[]): RoomsOverTime {
  return { roomAt: (d) => rooms.find((r) => r.duration === d), roomsBetween: () => [...rooms] };
}

/** For every room: the periods of commitTargets; `skip` leaves out periods the caller already
 *  knows committed (no store call for them). */
export async function commitAhead(
  store: Store,
  rooms: RoomsOverTime | readonly Room[],
  clock: Clock,
  skip: (room: Room, w: PeriodWindow) => boolean = () => false,
): Promise<CommitOutcome[]> {
  const now = clock.now();
  const over = Array.isArray(rooms) ? fixedRooms(rooms as readonly Room[]) : (rooms as RoomsOverTime);
  const targets = commitTargets(over, now).filter(({ room, w }) => !skip(room, w));
  return Promise.all(
    targets.map(async ({ room, w }) => ({ room: room.name, duration: room.duration, periodId: w.periodId, ...(await commitPeriod(store, w, now)) })),
  );
}
