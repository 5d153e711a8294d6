// The ledger reconciliation (issue 14): `fived reconcile` and the chaos checker run it. For every
// user with a balance: their ledger entries, oldest first, must add up to the balance, every bet
// must have exactly one stake entry, and a period at most one payout or refund entry of exactly what
// was owed (src/core/ledger.ts checkUserLedger). Read-only.

import { type LedgerBet, type LedgerEntry, checkUserLedger } from '../core/ledger.js';
import { periodMember, parsePeriodMember } from '../store/keys.js';
import type { Store } from '../store/types.js';

export interface LedgerReport {
  users: number;
  entries: number;
  bets: number;
  /** users whose kept entries do not start at a zero balance (older entries expired from Redis) */
  windowed: number;
  problems: string[];
  ok: boolean;
}

/** at most this many problems are listed (the count of users with problems is exact) */
const MAX_LISTED = 200;

/** A user's kept entries, oldest first. */
export async function userEntries(store: Store, userId: string): Promise<LedgerEntry[]> {
  const out: LedgerEntry[] = [];
  let before: string | null = null;
  for (;;) {
    const page = await store.ledgerPage(userId, before, 1000);
    out.push(...page.entries);
    if (!page.next) break;
    before = page.next;
  }
  return out.reverse();
}

/** A user's bets the store still lists, every bet of each of their periods. */
async function userLedgerBets(store: Store, userId: string): Promise<LedgerBet[]> {
  const members = new Set((await store.userBets(userId, undefined, 1000)).map((b) => periodMember(b)));
  const out: LedgerBet[] = [];
  for (const m of members) {
    const ref = parsePeriodMember(m);
    if (!ref) continue;
    for (const b of await store.userBets(userId, ref, 1000)) {
      out.push({ member: m, seq: b.seq, amount: b.amount, placedAt: b.placedAt, state: b.state, payout: b.payout });
    }
  }
  return out;
}

/** `complete`: every user's entries must start at balance 0 (nothing expired: tests, chaos runs). */
export async function reconcileLedger(store: Store, opts: { complete?: boolean; users?: string[] } = {}): Promise<LedgerReport> {
  const report: LedgerReport = { users: 0, entries: 0, bets: 0, windowed: 0, problems: [], ok: true };
  const held = await heldByUser(store);
  const check = async (userId: string) => {
    const [entries, balance, bets] = await Promise.all([userEntries(store, userId), store.balance(userId), userLedgerBets(store, userId)]);
    report.users += 1;
    report.entries += entries.length;
    report.bets += bets.length;
    const first = entries[0];
    if (!first || first.balance - first.amount !== 0) report.windowed += balance !== 0 || first ? 1 : 0;
    const problems = checkUserLedger({ userId, entries, balance, bets, held: held.get(userId) ?? new Set(), complete: opts.complete ?? false });
    if (problems.length > 0) report.ok = false;
    for (const p of problems) if (report.problems.length < MAX_LISTED) report.problems.push(p);
  };
  if (opts.users) {
    for (const u of opts.users) await check(u);
    return report;
  }
  let cursor: string | null = null;
  do {
    const page: { users: string[]; next: string | null } = await store.walletUsers(cursor, 1000);
    for (const u of page.users) await check(u);
    cursor = page.next;
  } while (cursor !== null);
  return report;
}

async function heldByUser(store: Store): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  if (!store.heldCredits) return out;
  const { byUser, recent } = await store.heldCredits();
  const add = (user: string, member: string) => {
    let s = out.get(user);
    if (!s) out.set(user, (s = new Set()));
    s.add(member);
  };
  for (const e of recent) add(e.userId, e.member);
  // the log keeps the latest 1,000 held credits: a user with a held amount may have older ones
  if (recent.length >= 1000) for (const [u, v] of Object.entries(byUser)) if (v > 0) add(u, '*');
  return out;
}
