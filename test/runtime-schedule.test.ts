// The settings schedule (runtime/schedule.ts, runtime/settings.ts): which settings govern a moment,
// which instants a change may take effect at, and the field-by-field differences.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { ErrorCode, isFivedError } from '../src/errors.js';
import { nextTargets } from '../src/runtime/commit.js';
import { defaultAt, entryAt, initialSchedule, MIN_LEAD_MS, parseSchedule, pendingAt, planApply, ScheduleView } from '../src/runtime/schedule.js';
import { settingsDiff, settingsFingerprint, settingsOf } from '../src/runtime/settings.js';

const settings = (env: Record<string, string>) => settingsOf(loadConfig(env));
const OLD = settings({ FIVED_DURATIONS: '60,300', FIVED_FREEZE_MS: '5000' });
const NEW = settings({ FIVED_DURATIONS: '60,600', FIVED_FREEZE_MS: '4000', FIVED_PAY_NUMBER: '8' });
const NOW = Date.UTC(2026, 11, 6, 12, 0, 10);
const DAY = 86_400_000;

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return isFivedError(err) ? err.code : String(err);
  }
  return 'no error';
}

describe('settings', () => {
  it('fingerprints ignore the order of rooms; the diff names each setting', () => {
    expect(settingsFingerprint(settings({ FIVED_DURATIONS: '300,60' }))).toBe(settingsFingerprint(settings({ FIVED_DURATIONS: '60,300' })));
    expect(settingsFingerprint(OLD)).not.toBe(settingsFingerprint(settings({ FIVED_DURATIONS: '60,300', FIVED_FREEZE_MS: '5000', FIVED_MAX_STAKE: '5000' })));
    expect(settingsDiff(NEW, OLD)).toEqual([
      { field: 'durations', setting: 'FIVED_DURATIONS', mine: '60,600', registered: '60,300' },
      { field: 'freezeMs', setting: 'FIVED_FREEZE_MS', mine: '4000', registered: '5000' },
      { field: 'paytable.number', setting: 'FIVED_PAY_NUMBER', mine: '8', registered: '9' },
    ]);
    expect(settingsDiff(OLD, OLD)).toEqual([]);
  });
});

describe('planApply', () => {
  const s = initialSchedule(OLD, NOW - DAY, 'test');

  it('defaults to the next game-day start; the periods before it keep the old rules', () => {
    const { schedule, entry } = planApply(s, NEW, NOW, 'op');
    expect(entry.from).toBe(Date.UTC(2026, 11, 7));
    expect(parseSchedule(JSON.stringify(schedule))).toEqual(schedule);
    expect(entryAt(schedule, entry.from - 1).settings).toEqual(OLD);
    expect(entryAt(schedule, entry.from).settings).toEqual(NEW);
    expect(pendingAt(schedule, NOW)?.from).toBe(entry.from);
    const view = new ScheduleView(schedule);
    expect(view.roomsAt(entry.from - 1).map((r) => r.name)).toEqual(['fiveD_60', 'fiveD_300']);
    expect(view.roomsAt(entry.from).map((r) => [r.name, r.spec.freezeMs])).toEqual([['fiveD_60', 4000], ['fiveD_600', 4000]]);
    // a room removed at the switch stays findable while its last period finishes
    expect(view.roomsBetween(entry.from - 1000, entry.from + 1000).map((r) => r.name)).toEqual(['fiveD_60', 'fiveD_300', 'fiveD_600']);
  });

  it('refuses the past, an instant inside a period, a committed period, the day start and no change', () => {
    expect(codeOf(() => planApply(s, NEW, NOW, 'op', NOW - 1000))).toBe(ErrorCode.INVALID_TIME);
    expect(codeOf(() => planApply(s, NEW, NOW, 'op', NOW + MIN_LEAD_MS - 1))).toBe(ErrorCode.INVALID_TIME);
    expect(codeOf(() => planApply(s, NEW, NOW, 'op', Date.UTC(2026, 11, 6, 13, 0, 30)))).toBe(ErrorCode.INVALID_TIME); // not a 600 s boundary
    // 12:05 starts a period of every room, but the 300 s room's period from 12:05 is committed already
    const paytableOnly = settings({ FIVED_DURATIONS: '60,300', FIVED_FREEZE_MS: '5000', FIVED_PAY_NUMBER: '8' });
    expect(() => planApply(s, paytableOnly, NOW, 'op', Date.UTC(2026, 11, 6, 12, 5))).toThrow(/fiveD_300 period that opens at .* is committed already.*choose 2026-12-06T12:10:00.000Z or later/);
    expect(planApply(s, paytableOnly, NOW, 'op', Date.UTC(2026, 11, 6, 12, 10)).entry.from).toBe(Date.UTC(2026, 11, 6, 12, 10));
    expect(planApply(s, NEW, NOW, 'op', Date.UTC(2026, 11, 6, 12, 30)).entry.from).toBe(Date.UTC(2026, 11, 6, 12, 30));
    expect(codeOf(() => planApply(s, settings({ FIVED_DURATIONS: '60,300', FIVED_FREEZE_MS: '5000', FIVED_DAY_START: '06:00' }), NOW, 'op'))).toBe(ErrorCode.CONFIG_INVALID);
    expect(codeOf(() => planApply(s, OLD, NOW, 'op'))).toBe(ErrorCode.BAD_REQUEST);
  });

  it('replaces a pending change, but not one about to take effect', () => {
    const at = Date.UTC(2026, 11, 6, 12, 30);
    const one = planApply(s, NEW, NOW, 'op', at).schedule;
    const other = settings({ FIVED_DURATIONS: '60,300', FIVED_FREEZE_MS: '5000', FIVED_PAY_BIG_SMALL: '3' });
    const two = planApply(one, other, NOW, 'op');
    expect(two.replaced?.from).toBe(at);
    expect(two.schedule.entries).toHaveLength(2);
    expect(codeOf(() => planApply(one, other, at - 1000, 'op'))).toBe(ErrorCode.TOO_EARLY);
  });

  it('the default moves to the next day when the day start is too close', () => {
    const lateNow = Date.UTC(2026, 11, 6, 23, 59, 58);
    expect(defaultAt(OLD, NEW, lateNow)).toBe(Date.UTC(2026, 11, 8));
  });

  it('commit-ahead targets the first period of a new room under its new freeze, and none of a removed one', () => {
    const at = Date.UTC(2026, 11, 6, 12, 30);
    const view = new ScheduleView(planApply(s, NEW, NOW, 'op', at).schedule);
    const t = at - 20_000; // inside the last 60 s period before the switch
    const targets = nextTargets(view, t).map(({ room, w }) => [room.name, w.startsAt, w.freezeAt]);
    expect(targets).toEqual([['fiveD_60', at, at + 60_000 - 4000], ['fiveD_600', at, at + 600_000 - 4000]]);
  });
});
