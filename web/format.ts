// Display formatting of the demo page: pure functions, unit-tested in test/web-format.test.ts.
// Money is integer minor units everywhere; only these functions turn it into text and back.

import type { BetKind, BetPick, Digits } from '../src/core/types.js';

/** Remaining time as m:ss (or h:mm:ss), rounding up so "0:00" shows only at the end. */
export function formatCountdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Minor units as a decimal amount with two places and thousands separators: 123456 → "1,234.56". */
export function formatMoney(minor: number): string {
  if (!Number.isSafeInteger(minor)) return '—';
  const neg = minor < 0;
  const abs = Math.abs(minor);
  const units = Math.floor(abs / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${neg ? '-' : ''}${units}.${String(abs % 100).padStart(2, '0')}`;
}

/**
 * Parses an amount typed by a player ("12", "12.5", "12.50", "1,000") into minor units.
 * Returns null for anything that is not a positive amount with at most two decimals.
 */
export function parseMoney(text: string): number | null {
  const t = text.trim().replace(/,/g, '');
  const m = /^(\d{1,12})(?:\.(\d{0,2}))?$/.exec(t);
  if (!m) return null;
  const minor = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  return minor > 0 && Number.isSafeInteger(minor) ? minor : null;
}

/** A room's name for people: "5 s", "1 min", "10 min", "1 h". */
export function durationLabel(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** "0123abcd…89ef" for long hex strings; short ones unchanged. */
export function shortHex(hex: string, keep = 8): string {
  return hex.length <= keep * 2 + 1 ? hex : `${hex.slice(0, keep)}…${hex.slice(-keep)}`;
}

/** The sequence part of a 17-digit period id without its leading zeros, for compact display. */
export function periodSeq(periodId: string): string {
  return /^\d{17}$/.test(periodId) ? String(Number(periodId.slice(8))) : periodId;
}

/** "A = 7", "B big", "SUM odd". */
export function betLabel(kind: BetKind, pick: BetPick): string {
  return typeof pick === 'number' ? `${kind} = ${pick}` : `${kind} ${pick}`;
}

/** The side tags of a result's SUM: big 23–45 / small 0–22, odd / even. */
export function sumTags(sum: number): string[] {
  return [sum >= 23 ? 'big' : 'small', sum % 2 === 1 ? 'odd' : 'even'];
}

export function digitsText(digits: Digits | number[]): string {
  return digits.join(' ');
}

/** Local wall-clock time hh:mm:ss of an epoch ms. */
export function clockTime(epochMs: number): string {
  const d = new Date(epochMs);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** Share of the period elapsed, 0..1, from the remaining time and the duration. */
export function progress(remainingMs: number, durationS: number): number {
  if (!(durationS > 0)) return 0;
  return Math.min(1, Math.max(0, 1 - remainingMs / (durationS * 1000)));
}
