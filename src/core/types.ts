// Shared vocabulary of the pure core. Everything here is data and constants: no I/O, no clock.
//
// A bet is (kind, pick): kind is a position 'A'..'E' or 'SUM'; pick is a digit 0..9 (positions
// only) or one of 'big' | 'small' | 'odd' | 'even'. That gives 74 patterns:
//   positions: 5 × (10 numbers + big + small + odd + even) = 70, SUM: big, small, odd, even = 4.
// Each pattern has a dense index 0..73 (see PATTERN_COUNT and patternIndex in rules.ts):
//   position p (0..4): p*14 + digit (0..9), p*14 + 10 big, +11 small, +12 odd, +13 even
//   SUM: 70 big, 71 small, 72 odd, 73 even

export const POSITIONS = ['A', 'B', 'C', 'D', 'E'] as const;
export type Position = (typeof POSITIONS)[number];
export const BET_KINDS = ['A', 'B', 'C', 'D', 'E', 'SUM'] as const;
export type BetKind = (typeof BET_KINDS)[number];
export const SIDE_PICKS = ['big', 'small', 'odd', 'even'] as const;
export type SidePick = (typeof SIDE_PICKS)[number];
export type BetPick = number | SidePick;

export const PATTERN_COUNT = 74;
export const OUTCOME_COUNT = 100_000;
export const PICKS_PER_POSITION = 14;
export const SUM_PATTERN_BASE = 70;

/** Multipliers are integers applied to the net stake; the fee is in basis points. */
export interface Paytable {
  feeBps: number; // default 200 (2 %)
  number: number; // default 9
  bigSmall: number; // default 2
  oddEven: number; // default 2
  sumBigSmall: number; // default 2
  sumOddEven: number; // default 2
}

/** The limits a bet is checked against (integer minor units), from the settings (FIVED_MIN_STAKE …). */
export interface BetLimits {
  minStake: number; // per bet, gross; must keep the net stake >= 1
  maxStake: number; // per bet
  maxUserStakePerPeriod: number; // per user per period, gross
  maxLiability: number; // per period, via the core's cheap upper bound; 0 = no cap
  maxBetsPerUserPerPeriod: number; // bets of one user in one period; 0 = no cap
}

export const DEFAULT_PAYTABLE: Readonly<Paytable> = Object.freeze({
  feeBps: 200,
  number: 9,
  bigSmall: 2,
  oddEven: 2,
  sumBigSmall: 2,
  sumOddEven: 2,
});

/** A validated bet as the core sees it. Amounts are integer minor units (gross stake). */
export interface Bet {
  userId: string;
  kind: BetKind;
  pick: BetPick;
  amount: number;
}

export type Digits = [number, number, number, number, number];

export interface DrawResult {
  digits: Digits;
  sum: number;
}

/** A period of one room, identified independently of any clock reading. */
export interface PeriodRef {
  duration: number; // seconds
  timeline: string; // 'default'
  periodId: string; // 17 digits, always a string
}

export type Phase = 'betting' | 'frozen';

/** Everything the clock maths derives about one period. Times are epoch ms. */
export interface PeriodWindow extends PeriodRef {
  startsAt: number;
  freezeAt: number;
  endsAt: number;
}

/** Game-day start: a time of day (minutes after midnight) in a zone given as a UTC offset. */
export interface DayStart {
  minutes: number; // 0..1439, default 0
  offsetMinutes: number; // -720..840, default 0 (UTC); Asia/Kolkata 02:00 is { minutes: 120, offsetMinutes: 330 }
}

export const DEFAULT_DAY_START: Readonly<DayStart> = Object.freeze({ minutes: 0, offsetMinutes: 0 });

export interface ClockSpec {
  duration: number; // seconds, divides 86400
  freezeMs: number; // < duration * 1000
  dayStart: DayStart;
}

export interface ExposureSummary {
  totalStake: number; // gross
  totalNet: number; // after the fee
  patternCount: number; // distinct patterns with a stake
  maxLiability: number; // max over all 100,000 outcomes of the total payout
  maxOutcome: number; // the outcome (0..99999, digits ABCDE as a number) where it is reached
  minLiability: number;
  totalExposure: number; // sum over patterns of the payout if that pattern wins (reporting)
}

// ---- compact bet buffer: what the store snapshot returns and the worker takes ----
// Fixed 16-byte little-endian records, appended in acceptance order (seq = record index):
//   offset 0  u32  user index (into the period's user list)
//   offset 4  u8   pattern index 0..73
//   offset 5  u8   reserved (0)
//   offset 6  u16  reserved (0)
//   offset 8  f64  gross amount in minor units (an integer; f64 keeps every integer < 2^53 exact)
export const BET_RECORD_BYTES = 16;

export interface BetSnapshot {
  /** packed records, BET_RECORD_BYTES each */
  records: Uint8Array;
  /** user ids by user index */
  users: string[];
}

/** What the worker returns for settlement: per-bet payouts and per-user totals. */
export interface SettlementSummary {
  betCount: number;
  winnerCount: number;
  totalStake: number;
  totalPayout: number;
  /** payout per bet, by seq (0 for a losing bet) */
  payouts: Float64Array;
  /** total payout per user index */
  userPayouts: Float64Array;
}
