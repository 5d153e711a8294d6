// What this client learned of each room and period from the server's announcements (hello,
// subscribed, period), kept apart from anything a result claims about itself:
//  - per period, the FIRST announced commitment, duration and timeline (a later, different one is
//    refused: a commitment swapped after betting must not verify: docs/design.md rule 1);
//  - per room, its duration, timeline and the game day's start, so the end of any period of the
//    room follows from its id alone (a result's own `endsAt` is never trusted).

import { parsePeriodId } from '../../../src/core/clock.js';
import type { RoomInfo } from '../../../src/protocol.js';

const DAY_MS = 86_400_000;
const MAX_REMEMBERED = 512;

export interface AnnouncedInfo {
  commitment: string | null;
  duration: number;
  timeline: string;
  endsAt: number;
  /** a later announcement contradicted the first one: nothing of this period verifies */
  changed: boolean;
}

export interface RoomFacts {
  duration: number;
  timeline: string;
  /** the game day's start relative to UTC midnight of its date, in ms (as the announcements imply) */
  dayOffsetMs: number;
}

export class PeriodBook {
  readonly #periods = new Map<string, AnnouncedInfo>();
  readonly #rooms = new Map<string, RoomFacts>();

  /**
   * Records an announcement. Returns null, or why it contradicts an earlier announcement of the
   * same period (the first one stands; the period is marked `changed`).
   */
  learn(info: RoomInfo): string | null {
    const key = `${info.room}/${info.periodId}`;
    const commitment = typeof info.commitment === 'string' ? info.commitment.toLowerCase() : null;
    const prev = this.#periods.get(key);
    if (!prev) {
      this.#remember(key, { commitment, duration: info.duration, timeline: info.timeline, endsAt: info.endsAt, changed: false });
      this.#learnRoom(info);
      return null;
    }
    let why: string | null = null;
    if (prev.duration !== info.duration || prev.timeline !== info.timeline) why = 'duration/timeline changed after they were announced';
    else if (prev.commitment !== null && commitment !== null && commitment !== prev.commitment) why = 'commitment changed after it was announced';
    if (why !== null) prev.changed = true;
    else if (prev.commitment === null && commitment !== null) prev.commitment = commitment; // a late-opened period: its first commitment
    return why;
  }

  #learnRoom(info: RoomInfo): void {
    try {
      const { day, seq } = parsePeriodId(info.periodId, info.duration);
      // from the latest announcement: the ids of the room's other periods count from it
      const dayOffsetMs = info.endsAt - seq * info.duration * 1000 - day * DAY_MS;
      if (Number.isFinite(dayOffsetMs)) this.#rooms.set(info.room, { duration: info.duration, timeline: info.timeline, dayOffsetMs });
    } catch {
      // a period id that does not fit the duration: nothing learned of the room
    }
  }

  #remember(key: string, v: AnnouncedInfo): void {
    this.#periods.set(key, v);
    if (this.#periods.size > MAX_REMEMBERED) this.#periods.delete(this.#periods.keys().next().value as string);
  }

  announced(room: string, periodId: string): AnnouncedInfo | undefined {
    return this.#periods.get(`${room}/${periodId}`);
  }

  room(room: string): RoomFacts | undefined {
    return this.#rooms.get(room);
  }

  /** The window of a period of `room` from its id and the room's facts; null when unknown or malformed. */
  windowOf(room: string, periodId: unknown): { startsAt: number; endsAt: number } | null {
    const f = this.#rooms.get(room);
    if (!f) return null;
    try {
      const { day, seq } = parsePeriodId(periodId, f.duration);
      const endsAt = day * DAY_MS + f.dayOffsetMs + seq * f.duration * 1000;
      return { startsAt: endsAt - f.duration * 1000, endsAt };
    } catch {
      return null;
    }
  }
}
