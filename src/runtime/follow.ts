// Every instance (gateway and scheduler) follows the settings schedule in the store: it registers
// its own settings at the very first start, reads the schedule every second, and derives the
// rules of each moment from it, so all instances switch at the registered instant without a
// restart (runtime/schedule.ts). An instance started with settings that are neither the ones in
// effect nor a pending change says exactly what differs (its /ready, its log) and is not ready.

import type { Paytable, PeriodWindow } from '../core/types.js';
import { ErrorCode, FivedError } from '../errors.js';
import type { BetLimits, Store } from '../store/types.js';
import type { Clock } from './clock.js';
import type { Logger } from './log.js';
import { entryAt, initialSchedule, iso, parseSchedule, pendingAt, ScheduleView, type ScheduleEntry } from './schedule.js';
import { describeDifference, settingsDiff, settingsFingerprint, settingsOf, type GameConfig, type GameSettings, type SettingDifference } from './settings.js';

const REFRESH_MS = 1000;

export class SettingsFollower {
  view: ScheduleView;
  readonly mine: GameSettings;
  readonly fingerprint: string;
  /** true once this instance's settings matched the ones in effect or a pending change: from then
   *  on it follows the schedule (a later switch does not make it "differ") */
  private matched = false;
  private timer: NodeJS.Timeout | null = null;
  private raw: string;
  private lastInEffect: string;
  private failing = false;

  private constructor(raw: string, mine: GameSettings, private readonly store: Store, private readonly clock: Clock, private readonly log: Logger) {
    this.raw = raw;
    this.view = new ScheduleView(parseSchedule(raw));
    this.mine = mine;
    this.fingerprint = settingsFingerprint(mine);
    this.lastInEffect = this.inEffect().fingerprint;
    this.check();
  }

  /** Reads (or, on the very first start, writes) the schedule; then refreshes it every second. */
  static async start(store: Store, cfg: GameConfig, by: string, clock: Clock, log: Logger): Promise<SettingsFollower> {
    const mine = settingsOf(cfg);
    let raw = await store.getSettings();
    if (raw === null) {
      const first = JSON.stringify(initialSchedule(mine, clock.now(), by));
      await store.swapSettings(null, first);
      raw = await store.getSettings();
      if (raw === null) throw new FivedError(ErrorCode.STORE_UNAVAILABLE, 'the settings schedule could not be registered');
    }
    const f = new SettingsFollower(raw, mine, store, clock, log);
    f.timer = setInterval(() => void f.refresh(), REFRESH_MS);
    f.timer.unref();
    return f;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  inEffect(t: number = this.clock.now()): ScheduleEntry {
    return entryAt(this.view.schedule, t);
  }

  pending(t: number = this.clock.now()): ScheduleEntry | null {
    return pendingAt(this.view.schedule, t);
  }

  /** The settings that govern a period: those in effect when it opens. */
  rulesOf(w: Pick<PeriodWindow, 'startsAt'>): GameSettings {
    return this.inEffect(w.startsAt).settings;
  }

  paytableOf(w: Pick<PeriodWindow, 'startsAt'>): Paytable {
    return this.rulesOf(w).paytable;
  }

  limitsOf(w: Pick<PeriodWindow, 'startsAt'>): BetLimits {
    return this.rulesOf(w).limits;
  }

  /** What differs between this instance's settings and the registered ones (empty: none, or it follows the schedule). */
  differences(): SettingDifference[] {
    this.check();
    return this.matched ? [] : settingsDiff(this.mine, this.inEffect().settings);
  }

  /** Readiness reasons: one line per differing setting. */
  reasons(): string[] {
    const d = this.differences();
    if (d.length === 0) return [];
    return [
      `game settings differ from the registered ones (${this.inEffect().fingerprint}): ${d.map(describeDifference).join('; ')}. Register a change with \`fived config apply\` (docs/operations.md, "Changing game settings") or start with the registered settings`,
    ];
  }

  private check(): void {
    const p = this.pending();
    if (this.inEffect().fingerprint === this.fingerprint || p?.fingerprint === this.fingerprint) this.matched = true;
  }

  /** Reads the schedule again; logs a newly registered change and a switch. */
  async refresh(): Promise<void> {
    let raw: string | null;
    try {
      raw = await this.store.getSettings();
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.log.warn({ err }, 'cannot read the settings schedule; keeping the last one read');
      this.failing = true;
      return;
    }
    if (raw === null) {
      // Redis lost its data (emptied, restored from before the first start): put back the schedule
      // every instance follows, rather than let the next instance to start register its own
      await this.store.swapSettings(null, this.raw).catch(() => undefined);
      return;
    }
    if (raw !== this.raw) {
      try {
        this.view = new ScheduleView(parseSchedule(raw));
        this.raw = raw;
        const p = this.pending();
        if (p) this.log.warn({ at: p.from, fingerprint: p.fingerprint, changes: settingsDiff(p.settings, this.inEffect().settings) }, `game settings change registered: takes effect at ${iso(p.from)}`);
      } catch (err) {
        this.log.error({ err }, 'the settings schedule in the store is malformed; keeping the last one read');
      }
    }
    const now = this.inEffect();
    if (now.fingerprint !== this.lastInEffect) {
      this.lastInEffect = now.fingerprint;
      this.log.warn({ since: now.from, fingerprint: now.fingerprint, rooms: now.settings.durations }, `game settings ${now.fingerprint} in effect since ${iso(now.from)}`);
    }
    this.check();
  }
}

/** At start: an instance whose settings differ says so in its log, field by field. */
export function startupLog(f: SettingsFollower, log: Logger): void {
  const d = f.differences();
  if (d.length > 0) {
    log.error({ differences: d, registered: f.inEffect().fingerprint, mine: f.fingerprint }, `game settings differ from the registered ones: ${d.map(describeDifference).join('; ')} — not ready (fived config apply registers a change)`);
  }
}
