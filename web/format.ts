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

// ---- what players read: plain sentences in the page's units, no codes, ids or settings ----

/** A minor-unit amount named in a server message (`… the minimum 2`), by the word before it. */
function amountAfter(message: string, word: string): number | null {
  const m = new RegExp(`${word} (\\d+)`).exec(message);
  const n = m ? Number(m[1]) : NaN;
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * A refused bet or a failed request in player words: amounts in the page's units (the server
 * speaks minor units), never the error code, a period id or a setting's name.
 */
export function playerError(code: string | undefined, message = '', fallback = 'The bet could not be placed; try again.'): string {
  switch (code) {
    case 'E_STAKE_TOO_LOW': {
      const min = amountAfter(message, 'minimum');
      if (min !== null) return `The minimum stake is ${formatMoney(min)}.`;
      return 'The stake is too small: nothing would be left of it after the 2 % fee.';
    }
    case 'E_STAKE_TOO_HIGH': {
      const max = amountAfter(message, 'maximum');
      return max !== null ? `The maximum stake is ${formatMoney(max)}.` : 'The stake is above the maximum.';
    }
    case 'E_INVALID_AMOUNT':
      return 'Enter a positive amount with at most two decimals.';
    case 'E_INSUFFICIENT_FUNDS':
      return 'Your balance is too low for this stake.';
    case 'E_TOO_MANY_BETS':
      return 'You have placed as many bets on this period as allowed.';
    case 'E_USER_LIMIT':
    case 'E_LIABILITY_LIMIT':
      return 'This bet is over the limit for this period; try a smaller stake.';
    case 'E_PERIOD_FROZEN':
    case 'E_PERIOD_CLOSED':
      return 'Betting on this period has closed; try the next one.';
    case 'E_PERIOD_VOID':
      return 'This period is void: it takes no bets.';
    case 'E_NOT_COMMITTED':
      return 'This period is not open for bets yet.';
    case 'E_DUPLICATE_CONFLICT':
      return 'This bet was already placed with different details.';
    case 'E_UNAUTHORIZED':
      return 'Your session has expired; reload the page to get a new one.';
    case 'E_RATE_LIMITED':
      return 'Too many requests; wait a moment and try again.';
    case 'E_TIMEOUT':
      return 'No answer from the server in time; check "My bets" before trying again.';
    case 'E_STORE_UNCONFIRMED':
      return 'Your bet could not be confirmed yet; check "My bets" before trying again.';
    case 'E_NOT_READY':
    case 'E_STORE_UNAVAILABLE':
    case 'E_POOL_BUSY':
    case 'E_INTERNAL':
      return 'The server is busy or unavailable; try again in a moment.';
    default:
      return fallback;
  }
}

/** Why a period is void, in player words (the server's reasons are written for operators). */
export function voidReasonText(reason: string | null | undefined): string {
  const r = reason ?? '';
  if (/no commitment/i.test(r)) return 'its draw was not prepared in time';
  if (/does not verify/i.test(r)) return 'its result could not be verified';
  if (/unseal/i.test(r)) return 'its draw could not be opened';
  if (/store data lost/i.test(r)) return 'of a server fault';
  return 'it was cancelled by the operator';
}

/** The sentence under a void period: what happened and what it means for bets. */
export function voidText(reason: string | null | undefined): string {
  return `Void: this period has no result because ${voidReasonText(reason)}. Every bet on it is refunded in full.`;
}

/** A bet's outcome, exact: a win says what was paid and what of it is profit over the stake. */
export function outcomeText(state: string, amount: number, payout: number): string {
  if (state === 'won') return `won: paid ${formatMoney(payout)} (stake ${formatMoney(amount)}, profit ${formatMoney(payout - amount)})`;
  if (state === 'lost') return `lost the ${formatMoney(amount)} stake`;
  if (state === 'refunded') return `refunded ${formatMoney(amount)}`;
  return 'waiting for the result';
}
