// The wallet ledger (issue 14): one entry per change of a balance, written by the store in the same
// atomic step as the change (docs/design.md rule 5: money in integer minor units, every bet settled
// exactly once — the ledger is how that is shown). Pure: types, the entry text both stores share,
// and the reconciliation check (`fived reconcile`, the chaos checker).

/** What changed a balance. A held payout or refund (docs/operations.md) changes no balance: no entry. */
export type LedgerKind = 'deposit' | 'withdrawal' | 'stake' | 'payout' | 'refund';

export const LEDGER_KINDS: readonly LedgerKind[] = ['deposit', 'withdrawal', 'stake', 'payout', 'refund'];

export interface LedgerEntry {
  /** 16 decimal digits, zero-padded: a store-wide sequence number. Ids sort (as text and as numbers)
   *  in commit order across all users, so a consumer resumes after the last id it stored. */
  entryId: string;
  userId: string;
  /** ms epoch, from the store's clock (Redis TIME in the Redis store) */
  at: number;
  kind: LedgerKind;
  /** signed minor units: + deposit, payout, refund; - withdrawal, stake */
  amount: number;
  /** the balance right after this entry */
  balance: number;
  /** deposit: depositId; withdrawal: withdrawalId; stake: `${duration}:${timeline}:${betId}` (a betId
   *  is unique only within a room); payout, refund: `${duration}:${timeline}:${periodId}` (one per
   *  user and period: settlement pays a user's winnings of a period at once) */
  ref: string;
}

export const ENTRY_ID_DIGITS = 16;
const ENTRY_ID = /^\d{16}$/;

export function entryIdOf(seq: number): string {
  return String(seq).padStart(ENTRY_ID_DIGITS, '0');
}

export function isEntryId(v: unknown): v is string {
  return typeof v === 'string' && ENTRY_ID.test(v);
}

const KIND_CODE: Record<LedgerKind, string> = { deposit: 'd', withdrawal: 'w', stake: 's', payout: 'p', refund: 'r' };
const CODE_KIND: Record<string, LedgerKind> = { d: 'deposit', w: 'withdrawal', s: 'stake', p: 'payout', r: 'refund' };

export function kindCode(kind: LedgerKind): string {
  return KIND_CODE[kind];
}

/**
 * The stored text of an entry, as the Lua scripts write it: `seq|at|k|amount|balance|ref|userId`
 * (k one letter; the user id last: it may contain '|', nothing after it does).
 */
export function formatLedgerEntry(e: LedgerEntry): string {
  return `${Number(e.entryId)}|${e.at}|${KIND_CODE[e.kind]}|${e.amount}|${e.balance}|${e.ref}|${e.userId}`;
}

export function parseLedgerEntry(text: string): LedgerEntry | null {
  const m = /^(\d+)\|(\d+)\|([dwspr])\|(-?\d+)\|(-?\d+)\|([^|]*)\|(.+)$/s.exec(text);
  if (!m) return null;
  return { entryId: entryIdOf(Number(m[1])), userId: m[7]!, at: Number(m[2]), kind: CODE_KIND[m[3]!]!, amount: Number(m[4]), balance: Number(m[5]), ref: m[6]! };
}
