// The bet slip's rules for the page: which picks a kind allows, and turning the form into a bet.
// Pure; the server validates again (and has the final word on limits and the freeze).

import { BET_KINDS, SIDE_PICKS, type BetKind, type BetPick } from '../src/core/types.js';
import { parseMoney } from './format.js';

export const KINDS: readonly BetKind[] = BET_KINDS;

/** The picks offered for a kind: 0–9 and the four sides on a position, only the sides on SUM. */
export function picksFor(kind: BetKind): BetPick[] {
  const sides: BetPick[] = [...SIDE_PICKS];
  return kind === 'SUM' ? sides : [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ...sides];
}

/** How many times the net stake a pick pays with the default paytable (for the slip's hint). */
export function multiplierOf(pick: BetPick): number {
  return typeof pick === 'number' ? 9 : 2;
}

export interface SlipInput {
  room: string;
  kind: string;
  pick: string; // as read from the form: "7", "big"
  amount: string; // in major units as typed
}

export type SlipResult =
  | { ok: true; bet: { room: string; kind: BetKind; pick: BetPick; amount: number } }
  | { ok: false; error: string };

/** Validates the slip; `pick` text "0".."9" becomes a number. */
export function readSlip(input: SlipInput): SlipResult {
  if (!input.room) return { ok: false, error: 'Choose a room' };
  const kind = KINDS.find((k) => k === input.kind);
  if (!kind) return { ok: false, error: 'Choose a position or SUM' };
  const pick: BetPick | undefined = /^\d$/.test(input.pick)
    ? Number(input.pick)
    : (SIDE_PICKS as readonly string[]).includes(input.pick)
      ? (input.pick as BetPick)
      : undefined;
  if (pick === undefined || !picksFor(kind).includes(pick)) return { ok: false, error: `Choose a pick for ${kind}` };
  const amount = parseMoney(input.amount);
  if (amount === null) return { ok: false, error: 'Enter a positive amount with at most two decimals' };
  return { ok: true, bet: { room: input.room, kind, pick, amount } };
}
