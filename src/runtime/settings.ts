// The game settings every instance must agree on (rooms, freeze, day start, timeline, paytable,
// limits), their fingerprint and a field-by-field comparison. The store holds a schedule of them
// (runtime/schedule.ts); a period is governed by the settings in effect when it opens.

import { createHash } from 'node:crypto';
import type { Config } from '../config.js';
import type { DayStart, Paytable } from '../core/types.js';
import type { BetLimits } from '../store/types.js';

export interface GameSettings {
  durations: number[]; // seconds, ascending
  freezeMs: number;
  timeline: string;
  dayStart: DayStart;
  paytable: Paytable;
  limits: BetLimits;
}

export type GameConfig = Pick<Config, 'durations' | 'freezeMs' | 'timeline' | 'dayStart' | 'paytable' | 'limits'>;

/** The game settings of a configuration, in a canonical form (sorted rooms, fixed key order). */
export function settingsOf(cfg: GameConfig): GameSettings {
  const p = cfg.paytable;
  const l = cfg.limits;
  return {
    durations: [...cfg.durations].sort((a, b) => a - b),
    freezeMs: cfg.freezeMs,
    timeline: cfg.timeline,
    dayStart: { minutes: cfg.dayStart.minutes, offsetMinutes: cfg.dayStart.offsetMinutes },
    paytable: { feeBps: p.feeBps, number: p.number, bigSmall: p.bigSmall, oddEven: p.oddEven, sumBigSmall: p.sumBigSmall, sumOddEven: p.sumOddEven },
    limits: {
      minStake: l.minStake, maxStake: l.maxStake, maxUserStakePerPeriod: l.maxUserStakePerPeriod,
      maxLiability: l.maxLiability, maxBetsPerUserPerPeriod: l.maxBetsPerUserPerPeriod,
    },
  };
}

export function settingsFingerprint(s: GameSettings): string {
  return createHash('sha256').update(JSON.stringify(settingsOf(s))).digest('hex').slice(0, 32);
}

/** The setting names behind each field, for messages an operator can act on. */
const NAMES: Record<string, string> = {
  durations: 'FIVED_DURATIONS', freezeMs: 'FIVED_FREEZE_MS', timeline: 'FIVED_TIMELINE',
  'dayStart.minutes': 'FIVED_DAY_START', 'dayStart.offsetMinutes': 'FIVED_DAY_OFFSET',
  'paytable.feeBps': 'FIVED_FEE_BPS', 'paytable.number': 'FIVED_PAY_NUMBER', 'paytable.bigSmall': 'FIVED_PAY_BIG_SMALL',
  'paytable.oddEven': 'FIVED_PAY_ODD_EVEN', 'paytable.sumBigSmall': 'FIVED_PAY_SUM_BIG_SMALL', 'paytable.sumOddEven': 'FIVED_PAY_SUM_ODD_EVEN',
  'limits.minStake': 'FIVED_MIN_STAKE', 'limits.maxStake': 'FIVED_MAX_STAKE', 'limits.maxUserStakePerPeriod': 'FIVED_MAX_USER_STAKE',
  'limits.maxLiability': 'FIVED_MAX_LIABILITY', 'limits.maxBetsPerUserPerPeriod': 'FIVED_MAX_BETS_PER_PERIOD',
};

function flatten(s: GameSettings): Map<string, string> {
  const c = settingsOf(s);
  const out = new Map<string, string>([['durations', c.durations.join(',')], ['freezeMs', String(c.freezeMs)], ['timeline', c.timeline]]);
  for (const group of ['dayStart', 'paytable', 'limits'] as const) {
    for (const [k, v] of Object.entries(c[group])) out.set(`${group}.${k}`, String(v));
  }
  return out;
}

export interface SettingDifference {
  field: string; // e.g. paytable.number
  setting: string; // e.g. FIVED_PAY_NUMBER
  mine: string;
  registered: string;
}

/** Every field where `mine` differs from `registered`, in a fixed order (empty: the same). */
export function settingsDiff(mine: GameSettings, registered: GameSettings): SettingDifference[] {
  const a = flatten(mine);
  const b = flatten(registered);
  const out: SettingDifference[] = [];
  for (const [field, v] of a) {
    const r = b.get(field) ?? '';
    if (v !== r) out.push({ field, setting: NAMES[field] ?? field, mine: v, registered: r });
  }
  return out;
}

/** "FIVED_PAY_NUMBER (paytable.number): 9 here, 10 registered" */
export function describeDifference(d: SettingDifference): string {
  return `${d.setting} (${d.field}): ${d.mine} here, ${d.registered} registered`;
}
