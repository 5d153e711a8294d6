// The settings schedule the store holds (docs/operations.md, "Changing game settings"): the
// settings in effect since some instant, and at most one pending change {at, settings}. Every
// instance derives the settings of a moment from it, so all of them switch at the same instant
// without a restart; a period is governed by the settings in effect when it opens (its rooms,
// freeze, paytable and limits), so a period open at the switch finishes under its own rules.

import { ErrorCode, FivedError } from '../errors.js';
import { roomsOf, windowAt, nextWindow, type Room } from './rooms.js';
import { settingsFingerprint, settingsOf, type GameSettings } from './settings.js';

export interface ScheduleEntry {
  /** epoch ms from which these settings govern every period that opens (0: since the first start) */
  from: number;
  settings: GameSettings;
  fingerprint: string;
  /** when and by whom it was registered */
  registeredAt: number;
  by: string;
}

export interface SettingsSchedule {
  version: number;
  /** ascending by `from`; the first one has from 0 */
  entries: ScheduleEntry[];
}

/** A change must be registered at least this long before it takes effect: every instance reads the
 *  schedule every second, and the scheduler commits the new rooms' first periods ahead. */
export const MIN_LEAD_MS = 5000;
/** Superseded settings are kept this long: a period settled late (reconcile) still finds its paytable. */
export const HISTORY_MS = 7 * 86_400_000;
const DAY_MS = 86_400_000;

export function initialSchedule(settings: GameSettings, now: number, by: string): SettingsSchedule {
  const s = settingsOf(settings);
  return { version: 1, entries: [{ from: 0, settings: s, fingerprint: settingsFingerprint(s), registeredAt: now, by }] };
}

/** Parses the stored JSON; E_CONFIG_INVALID when it is not a schedule. */
export function parseSchedule(raw: string): SettingsSchedule {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new FivedError(ErrorCode.CONFIG_INVALID, 'the settings schedule in the store is not JSON');
  }
  const s = v as SettingsSchedule;
  const ok = typeof s === 'object' && s !== null && Number.isSafeInteger(s.version) && Array.isArray(s.entries) && s.entries.length > 0
    && s.entries.every((e) => typeof e === 'object' && e !== null && Number.isSafeInteger(e.from) && typeof e.settings === 'object' && e.settings !== null
      && Array.isArray(e.settings.durations) && e.settings.durations.length > 0 && typeof e.fingerprint === 'string');
  if (!ok) throw new FivedError(ErrorCode.CONFIG_INVALID, 'the settings schedule in the store is malformed');
  return s;
}

/** The entry in effect at `t` (the last one whose `from` is <= t). */
export function entryAt(s: SettingsSchedule, t: number): ScheduleEntry {
  let e = s.entries[0]!;
  for (const x of s.entries) if (x.from <= t) e = x;
  return e;
}

/** The change registered to take effect after `now`, if any. */
export function pendingAt(s: SettingsSchedule, now: number): ScheduleEntry | null {
  return s.entries.find((e) => e.from > now) ?? null;
}

/** The instants at which every room of both settings starts a period (the game-day start qualifies). */
function boundaryStep(a: GameSettings, b: GameSettings): number {
  const gcd = (x: number, y: number): number => (y === 0 ? x : gcd(y, x % y));
  const lcm = [...a.durations, ...b.durations].reduce((m, d) => (m * d) / gcd(m, d), 1);
  return lcm * 1000;
}

function dayBase(s: GameSettings): number {
  return (s.dayStart.minutes - s.dayStart.offsetMinutes) * 60_000;
}

/** Why `at` cannot switch from `cur` to `next` at time `now` (null: it can). */
function refusal(cur: GameSettings, next: GameSettings, now: number, at: number): string | null {
  if (at < now + MIN_LEAD_MS) return `${iso(at)} is in the past or less than ${MIN_LEAD_MS / 1000} s ahead`;
  const step = boundaryStep(cur, next);
  if ((((at - dayBase(cur)) % step) + step) % step !== 0) {
    return `${iso(at)} is inside an open period: it must start a period of every room (a multiple of ${step / 1000} s after the game-day start)`;
  }
  // the period of a room that opens at `at` must not be committed yet: commitments are made one period ahead
  for (const room of roomsOf({ ...cur, durations: cur.durations.filter((d) => next.durations.includes(d)) })) {
    const committedUpTo = nextWindow(room, windowAt(room, now)).endsAt;
    if (at < committedUpTo) return `the ${room.name} period that opens at ${iso(at)} is committed already under the current rules (choose ${iso(committedUpTo)} or later)`;
  }
  return null;
}

/** The first instant >= the next game-day start at which `next` may take effect. */
export function defaultAt(cur: GameSettings, next: GameSettings, now: number): number {
  const base = dayBase(cur);
  let at = base + Math.ceil((now + 1 - base) / DAY_MS) * DAY_MS;
  while (refusal(cur, next, now, at) !== null) at += DAY_MS;
  return at;
}

/**
 * The schedule with `next` registered to take effect at `at` (default: defaultAt). Refuses (coded
 * errors, nothing changed) an instant in the past, inside an open period, or on a period committed
 * already; a change of the day start or timeline (they renumber the periods); a change that
 * changes nothing. A pending change not yet in effect is replaced.
 */
export function planApply(s: SettingsSchedule, next: GameSettings, now: number, by: string, at?: number): { schedule: SettingsSchedule; entry: ScheduleEntry; replaced: ScheduleEntry | null } {
  const n = settingsOf(next);
  const cur = entryAt(s, now);
  const pending = pendingAt(s, now);
  if (n.timeline !== cur.settings.timeline || n.dayStart.minutes !== cur.settings.dayStart.minutes || n.dayStart.offsetMinutes !== cur.settings.dayStart.offsetMinutes) {
    throw new FivedError(ErrorCode.CONFIG_INVALID, 'FIVED_TIMELINE, FIVED_DAY_START and FIVED_DAY_OFFSET cannot change by `fived config apply`: they renumber every period (start a new key prefix instead)');
  }
  if (pending && pending.from < now + MIN_LEAD_MS) throw new FivedError(ErrorCode.TOO_EARLY, `a change takes effect at ${iso(pending.from)}: wait until it has`);
  const fp = settingsFingerprint(n);
  if (fp === cur.fingerprint && !pending) throw new FivedError(ErrorCode.BAD_REQUEST, `these settings (${fp}) are the registered ones already: nothing to apply`);
  const when = at ?? defaultAt(cur.settings, n, now);
  if (!Number.isSafeInteger(when)) throw new FivedError(ErrorCode.INVALID_TIME, '--at must be an ISO time or epoch ms');
  const why = refusal(cur.settings, n, now, when);
  if (why !== null) throw new FivedError(ErrorCode.INVALID_TIME, `cannot switch at ${iso(when)}: ${why}`);
  const kept = s.entries.filter((e, i) => e.from <= now && (s.entries[i + 1] === undefined || s.entries[i + 1]!.from > now - HISTORY_MS));
  const entry: ScheduleEntry = { from: when, settings: n, fingerprint: fp, registeredAt: now, by };
  return { schedule: { version: s.version + 1, entries: [...kept, entry] }, entry, replaced: pending };
}

/** Rooms (Room objects built once per entry) of the settings in effect at a moment. */
export class ScheduleView {
  private readonly rooms = new Map<string, Room[]>();

  constructor(readonly schedule: SettingsSchedule) {}

  entryAt(t: number): ScheduleEntry {
    return entryAt(this.schedule, t);
  }

  roomsAt(t: number): Room[] {
    const e = this.entryAt(t);
    let r = this.rooms.get(e.fingerprint + e.from);
    if (!r) this.rooms.set(e.fingerprint + e.from, (r = roomsOf(e.settings)));
    return r;
  }

  /** The room of this duration in effect at `t`, or undefined. */
  roomAt(duration: number, t: number): Room | undefined {
    return this.roomsAt(t).find((r) => r.duration === duration);
  }

  /** Every room of the entries in effect anywhere in [from, to] (a room removed at a switch stays
   *  findable while its last period finishes). */
  roomsBetween(from: number, to: number): Room[] {
    const out = new Map<number, Room>();
    for (const e of this.schedule.entries) {
      const next = this.schedule.entries[this.schedule.entries.indexOf(e) + 1];
      if (e.from <= to && (next === undefined || next.from > from)) for (const r of this.roomsAt(e.from)) out.set(r.duration, r);
    }
    for (const r of this.roomsAt(to)) out.set(r.duration, r);
    return [...out.values()].sort((a, b) => a.duration - b.duration);
  }
}

export function iso(t: number): string {
  return Number.isFinite(t) && Math.abs(t) < 8.64e15 ? new Date(t).toISOString() : String(t);
}
