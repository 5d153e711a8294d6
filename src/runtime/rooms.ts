// The rooms of a configuration and their period windows, wrapping the core clock maths so the
// gateway and the scheduler derive periods the same way from the same config.

import { nextPeriod, periodAt, periodById } from '../core/clock.js';
import type { ClockSpec, PeriodWindow } from '../core/types.js';
import { ErrorCode, FivedError } from '../errors.js';
import { parseRoomName, roomName, type Config } from '../config.js';

export interface Room {
  name: string; // fiveD_60
  duration: number; // seconds
  timeline: string;
  spec: ClockSpec;
}

export function roomsOf(cfg: Pick<Config, 'durations' | 'freezeMs' | 'dayStart' | 'timeline'>): Room[] {
  return [...cfg.durations]
    .sort((a, b) => a - b)
    .map((duration) => ({
      name: roomName(duration),
      duration,
      timeline: cfg.timeline,
      spec: { duration, freezeMs: cfg.freezeMs, dayStart: cfg.dayStart },
    }));
}

/** The room with this name, or E_INVALID_ROOM. */
export function findRoom(rooms: readonly Room[], name: string): Room {
  const d = parseRoomName(name);
  const room = d === null ? undefined : rooms.find((r) => r.duration === d);
  if (!room) throw new FivedError(ErrorCode.INVALID_ROOM, `unknown room ${JSON.stringify(name)}; rooms: ${rooms.map((r) => r.name).join(', ')}`);
  return room;
}

export function roomByDuration(rooms: readonly Room[], duration: number): Room | undefined {
  return rooms.find((r) => r.duration === duration);
}

/** The window containing `now` (startsAt <= now < endsAt). */
export function windowAt(room: Room, now: number): PeriodWindow {
  const { phase: _phase, ...w } = periodAt(now, room.spec, room.timeline);
  return w;
}

export function nextWindow(room: Room, w: PeriodWindow): PeriodWindow {
  return nextPeriod(w, room.spec);
}

/** The window of a period id of this room (validates the id: E_INVALID_PERIOD). */
export function windowOf(room: Room, periodId: string): PeriodWindow {
  return periodById(periodId, room.spec, room.timeline);
}
