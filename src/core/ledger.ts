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

/** A bet as the reconciliation sees it (from the store's userBets). */
export interface LedgerBet {
  /** `${duration}:${timeline}:${periodId}` */
  member: string;
  seq: number;
  amount: number;
  placedAt: number;
  state: 'pending' | 'won' | 'lost' | 'refunded';
  payout: number;
}

export interface LedgerCheckInput {
  userId: string;
  /** the user's entries kept by the store, oldest first */
  entries: LedgerEntry[];
  balance: number;
  bets: LedgerBet[];
  /** period members whose payout or refund to this user was held (no entry, docs/operations.md);
   *  '*': the user has held credits older than the held log keeps (any period may be one) */
  held: Set<string>;
  /** the window must start at a zero balance (nothing trimmed or expired: tests, the chaos checker) */
  complete: boolean;
}

const SIGN: Record<LedgerKind, 1 | -1> = { deposit: 1, withdrawal: -1, stake: -1, payout: 1, refund: 1 };

/**
 * One user's ledger against their balance and bets (`fived reconcile`): every entry moves the
 * balance by its amount (a chain from the window's opening balance to the balance now), every bet
 * has exactly one stake entry of its amount, and a period has at most one payout or refund entry,
 * of exactly what the user's bets there won or staked. Returns the problems found (none: []).
 */
export function checkUserLedger(c: LedgerCheckInput): string[] {
  const problems: string[] = [];
  const say = (m: string) => { if (problems.length < 20) problems.push(`${c.userId}: ${m}`); };
  const first = c.entries[0];
  const opening = first ? first.balance - first.amount : c.balance;
  if (c.complete && opening !== 0) say(first ? `the oldest entry ${first.entryId} opens at balance ${opening}, not 0` : `balance ${c.balance} without any ledger entry`);
  let prev = opening;
  for (const e of c.entries) {
    if (Math.sign(e.amount) !== SIGN[e.kind]) say(`entry ${e.entryId}: a ${e.kind} of ${e.amount}`);
    if (e.balance !== prev + e.amount) say(`entry ${e.entryId}: balance ${e.balance} is not ${prev} ${e.amount < 0 ? '-' : '+'} ${Math.abs(e.amount)}`);
    prev = e.balance;
  }
  if (prev !== c.balance) say(`the entries add up to ${prev}, the balance is ${c.balance}`);
  checkBets(c, say);
  return problems;
}

function checkBets(c: LedgerCheckInput, say: (m: string) => void): void {
  const byRef = new Map<string, LedgerEntry[]>();
  for (const e of c.entries) {
    const l = byRef.get(e.ref);
    if (l) l.push(e);
    else byRef.set(e.ref, [e]);
  }
  // with a window that does not start at zero, bets placed before it may have their stake outside it
  const from = !c.complete && c.entries.length > 0 ? c.entries[0]!.at + 60_000 : -Infinity;
  const periods = new Map<string, { won: number; staked: number; refunded: boolean; settled: boolean; all: boolean }>();
  for (const b of c.bets) {
    const inWindow = b.placedAt >= from;
    const stakes = (byRef.get(`${b.member}:${b.seq}`) ?? []).filter((e) => e.kind === 'stake');
    if (inWindow && stakes.length !== 1) say(`bet ${b.member}:${b.seq} has ${stakes.length} stake entries, not 1`);
    else if (stakes.length === 1 && stakes[0]!.amount !== -b.amount) say(`bet ${b.member}:${b.seq}: stake entry ${stakes[0]!.amount}, bet ${b.amount}`);
    const p = periods.get(b.member) ?? { won: 0, staked: 0, refunded: false, settled: false, all: true };
    p.won += b.state === 'won' ? b.payout : 0;
    p.staked += b.amount;
    p.refunded ||= b.state === 'refunded';
    p.settled ||= b.state !== 'pending';
    p.all &&= inWindow;
    periods.set(b.member, p);
  }
  for (const [member, p] of periods) {
    const credits = (byRef.get(member) ?? []).filter((e) => e.kind === 'payout' || e.kind === 'refund');
    if (credits.length > 1) { say(`period ${member} has ${credits.length} payout/refund entries`); continue; }
    const owed = p.refunded ? p.staked : p.won;
    const kind = p.refunded ? 'refund' : 'payout';
    const e = credits[0];
    if (e && (e.kind !== kind || e.amount !== owed)) say(`period ${member}: ${e.kind} entry ${e.amount}, owed ${kind} ${owed}`);
    // bets listed may be only the newest of the period (the store lists at most 1000): a full check only when all are
    if (!e && p.settled && owed > 0 && !c.held.has(member) && !c.held.has('*') && p.all) say(`period ${member}: no ${kind} entry for ${owed}`);
  }
}
