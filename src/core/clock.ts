// Period clock maths: which period a moment belongs to, and the window of a period by its id.
// Pure: the caller passes the time (epoch ms); nothing here reads a clock. Every instance derives
// the same period from the same spec, so gateways and the scheduler agree without talking.
//
// The game day starts at `dayStart.minutes` after midnight in a fixed-offset zone
// (`dayStart.offsetMinutes` east of UTC). A period id is the game day's date YYYYMMDD followed by
// a 9-digit sequence starting at 000000001; it is a string everywhere (it exceeds 2^53).

import { ErrorCode, FivedError } from '../errors.js';
import { isPeriodId } from './ids.js';
import type { ClockSpec, DayStart, Phase, PeriodRef, PeriodWindow } from './types.js';

const DAY_MS = 86_400_000;
const DAY_S = 86_400;
const MINUTE_MS = 60_000;
/** Largest |epoch ms| the clock accepts: year ±275760 is JS Date's range; keep well inside it. */
const MAX_TIME = 8.64e15 - 2 * DAY_MS;

export type PeriodAt = PeriodWindow & { phase: Phase };

export const DEFAULT_TIMELINE = 'default';

/** Validates a duration in seconds: an integer from 1 that divides 86400. */
export function validateDuration(duration: unknown): number {
  if (typeof duration !== 'number' || !Number.isSafeInteger(duration) || duration < 1 || DAY_S % duration !== 0) {
    throw new FivedError(ErrorCode.INVALID_DURATION, `duration ${JSON.stringify(duration)} must be a whole number of seconds dividing 86400`);
  }
  return duration;
}

export function validateDayStart(d: DayStart): DayStart {
  if (typeof d !== 'object' || d === null) throw new FivedError(ErrorCode.INVALID_TIME, 'dayStart must be { minutes, offsetMinutes }');
  if (!Number.isSafeInteger(d.minutes) || d.minutes < 0 || d.minutes > 1439) {
    throw new FivedError(ErrorCode.INVALID_TIME, `dayStart.minutes=${d.minutes} must be an integer from 0 to 1439`);
  }
  if (!Number.isSafeInteger(d.offsetMinutes) || d.offsetMinutes < -720 || d.offsetMinutes > 840) {
    throw new FivedError(ErrorCode.INVALID_TIME, `dayStart.offsetMinutes=${d.offsetMinutes} must be an integer from -720 to 840`);
  }
  return d;
}

/** Validates a whole clock spec (duration, freeze shorter than the period, day start). */
export function validateClockSpec(spec: ClockSpec): ClockSpec {
  if (typeof spec !== 'object' || spec === null) throw new FivedError(ErrorCode.INVALID_DURATION, 'clock spec missing');
  validateDuration(spec.duration);
  if (typeof spec.freezeMs !== 'number' || !Number.isSafeInteger(spec.freezeMs) || spec.freezeMs < 0 || spec.freezeMs >= spec.duration * 1000) {
    throw new FivedError(ErrorCode.INVALID_FREEZE, `freezeMs=${spec.freezeMs} must be an integer from 0 to below the period (${spec.duration * 1000} ms)`);
  }
  validateDayStart(spec.dayStart);
  return spec;
}

function validateTime(now: unknown): number {
  if (typeof now !== 'number' || !Number.isFinite(now) || Math.abs(now) > MAX_TIME) {
    throw new FivedError(ErrorCode.INVALID_TIME, `time ${JSON.stringify(now)} must be a finite epoch ms`);
  }
  return now;
}

/** Validates a timeline name (letters, digits, _ and -, 1..32); it appears in keys and draw messages. */
export function validateTimeline(timeline: unknown): string {
  if (typeof timeline !== 'string' || !/^[A-Za-z0-9_-]{1,32}$/.test(timeline)) {
    throw new FivedError(ErrorCode.INVALID_TIMELINE, `timeline ${JSON.stringify(timeline)} must be 1-32 letters, digits, _ or -`);
  }
  return timeline;
}

/** UTC epoch ms at which the game day numbered `day` (days since 1970-01-01 of the game calendar) starts. */
function dayStartMs(day: number, ds: DayStart): number {
  return day * DAY_MS + (ds.minutes - ds.offsetMinutes) * MINUTE_MS;
}

function dayKey(day: number): string {
  const d = new Date(day * DAY_MS);
  const y = d.getUTCFullYear();
  if (y < 1000 || y > 9999) throw new FivedError(ErrorCode.INVALID_TIME, `year ${y} cannot be written as YYYYMMDD`);
  return `${y}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
}

export function periodsPerDay(duration: number): number {
  return DAY_S / validateDuration(duration);
}

function windowOf(day: number, seq: number, spec: ClockSpec, timeline: string): PeriodWindow {
  const durMs = spec.duration * 1000;
  const startsAt = dayStartMs(day, spec.dayStart) + (seq - 1) * durMs;
  const endsAt = startsAt + durMs;
  return {
    duration: spec.duration,
    timeline,
    periodId: dayKey(day) + String(seq).padStart(9, '0'),
    startsAt,
    freezeAt: endsAt - spec.freezeMs,
    endsAt,
  };
}

/** The period that contains `now` (startsAt <= now < endsAt), with its phase. */
export function periodAt(now: number, spec: ClockSpec, timeline: string = DEFAULT_TIMELINE): PeriodAt {
  validateClockSpec(spec);
  validateTime(now);
  validateTimeline(timeline);
  const day = Math.floor((now - dayStartMs(0, spec.dayStart)) / DAY_MS);
  const seq = Math.floor((now - dayStartMs(day, spec.dayStart)) / (spec.duration * 1000)) + 1;
  const w = windowOf(day, seq, spec, timeline);
  return { ...w, phase: now < w.freezeAt ? 'betting' : 'frozen' };
}

/** Parses and validates a 17-digit period id against a duration: { day, seq }. */
export function parsePeriodId(periodId: unknown, duration: number): { day: number; seq: number } {
  if (!isPeriodId(periodId)) {
    throw new FivedError(ErrorCode.INVALID_PERIOD, `period id ${JSON.stringify(periodId)} must be a string of 17 digits`);
  }
  const y = Number(periodId.slice(0, 4));
  const m = Number(periodId.slice(4, 6));
  const d = Number(periodId.slice(6, 8));
  const seq = Number(periodId.slice(8));
  const ms = Date.UTC(y, m - 1, d);
  const check = new Date(ms);
  if (y < 1000 || m < 1 || m > 12 || check.getUTCFullYear() !== y || check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d) {
    throw new FivedError(ErrorCode.INVALID_PERIOD, `period id ${periodId} does not start with a real date YYYYMMDD`);
  }
  const count = periodsPerDay(duration);
  if (seq < 1 || seq > count) {
    throw new FivedError(ErrorCode.INVALID_PERIOD, `period id ${periodId}: sequence ${seq} is outside 1..${count} for ${duration} s rooms`);
  }
  return { day: ms / DAY_MS, seq };
}

/**
 * The window of a period given its id (a PeriodRef, or a bare id for `timeline`). A ref's duration
 * must equal the spec's.
 */
export function periodById(ref: PeriodRef | string, spec: ClockSpec, timeline: string = DEFAULT_TIMELINE): PeriodWindow {
  validateClockSpec(spec);
  let periodId: unknown = ref;
  if (typeof ref === 'object' && ref !== null) {
    if (ref.duration !== spec.duration) {
      throw new FivedError(ErrorCode.INVALID_PERIOD, `period ${ref.periodId} is of a ${ref.duration} s room, not ${spec.duration} s`);
    }
    periodId = ref.periodId;
    timeline = ref.timeline;
  }
  validateTimeline(timeline);
  const { day, seq } = parsePeriodId(periodId, spec.duration);
  return windowOf(day, seq, spec, timeline);
}

/** The period right after `ref` (crosses into the next game day after the last sequence). */
export function nextPeriod(ref: PeriodRef | string, spec: ClockSpec, timeline: string = DEFAULT_TIMELINE): PeriodWindow {
  const w = periodById(ref, spec, timeline);
  const { day, seq } = parsePeriodId(w.periodId, spec.duration);
  return seq < periodsPerDay(spec.duration) ? windowOf(day, seq + 1, spec, w.timeline) : windowOf(day + 1, 1, spec, w.timeline);
}

/** The period right before `ref` (the last of the previous game day before sequence 1). */
export function previousPeriod(ref: PeriodRef | string, spec: ClockSpec, timeline: string = DEFAULT_TIMELINE): PeriodWindow {
  const w = periodById(ref, spec, timeline);
  const { day, seq } = parsePeriodId(w.periodId, spec.duration);
  return seq > 1 ? windowOf(day, seq - 1, spec, w.timeline) : windowOf(day - 1, periodsPerDay(spec.duration), spec, w.timeline);
}

/** Phase of a window at `now`: frozen from freezeAt on (also after the end). */
export function phaseAt(w: PeriodWindow, now: number): Phase {
  return validateTime(now) < w.freezeAt ? 'betting' : 'frozen';
}

/** Compares two period ids of the same room: negative, 0, positive (string order is time order). */
export function comparePeriodIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
