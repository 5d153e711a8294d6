// The ledger's store-side helpers (issue 14): cursor and limit validation and paging shared by both
// stores, and MemoryStore's ledger (RedisStore's lives in Redis: lib/ledger.lua, docs/redis.md).

import { type LedgerEntry, type LedgerKind, entryIdOf, isEntryId } from '../core/ledger.js';
import { ErrorCode, FivedError } from '../errors.js';
import { LEDGER_USER_KEEP } from './keys.js';

/** A page holds at most this many entries (ledgerPage); the feed at most 100,000 per call. */
export const LEDGER_PAGE_MAX = 1000;

/** An entry id cursor (null = none) → its number; anything else: E_BAD_REQUEST. */
export function validateCursor(v: unknown, what: string): number | null {
  if (v === null || v === undefined) return null;
  if (!isEntryId(v)) throw new FivedError(ErrorCode.BAD_REQUEST, `${what} must be an entryId (16 digits)`, { [what]: String(v).slice(0, 40) });
  return Number(v);
}

export function validateLedgerLimit(v: unknown, max = LEDGER_PAGE_MAX): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > max) {
    throw new FivedError(ErrorCode.BAD_REQUEST, `limit must be an integer 1..${max}`, { limit: v });
  }
  return v;
}

/** `rows` newest first, up to limit + 1 of them: the page and the cursor of the next one. */
export function pageOf(rows: LedgerEntry[], limit: number): { entries: LedgerEntry[]; next: string | null } {
  const entries = rows.slice(0, limit);
  return { entries, next: rows.length > limit ? entries[entries.length - 1]!.entryId : null };
}

/** Entries the in-memory feed keeps (the embedded default has no archive to hand them to). */
const MEM_FEED_KEEP = 1_000_000;

/** MemoryStore's ledger: the same numbering, order, paging and per-user cap as the Redis layout. */
export class MemLedger {
  private seq = 0;
  /** ascending; entries before `start` are trimmed (spliced off in batches) */
  private feed: LedgerEntry[] = [];
  private readonly byUser = new Map<string, LedgerEntry[]>();

  constructor(private readonly now: () => number, private readonly feedKeep = MEM_FEED_KEEP, private readonly userKeep = LEDGER_USER_KEEP) {}

  add(userId: string, kind: LedgerKind, amount: number, balance: number, ref: string): LedgerEntry {
    this.seq += 1;
    const e: LedgerEntry = { entryId: entryIdOf(this.seq), userId, at: this.now(), kind, amount, balance, ref };
    this.feed.push(e);
    if (this.feed.length > this.feedKeep + 10_000) this.feed = this.feed.slice(this.feed.length - this.feedKeep);
    let list = this.byUser.get(userId);
    if (!list) this.byUser.set(userId, (list = []));
    list.push(e);
    if (list.length > this.userKeep + 100) list.splice(0, list.length - this.userKeep);
    return e;
  }

  /** Numbering continues above `floor` (RedisWallet.ledgerFloor). */
  floor(floor: number): { before: string; raised: boolean } {
    const before = entryIdOf(this.seq);
    if (this.seq >= floor) return { before, raised: false };
    this.seq = floor;
    return { before, raised: true };
  }

  page(userId: string, before: number | null, limit: number): { entries: LedgerEntry[]; next: string | null } {
    const list = this.byUser.get(userId) ?? [];
    let end = list.length;
    if (before !== null) end = firstAtOrAbove(list, before);
    const rows: LedgerEntry[] = [];
    for (let i = end - 1; i >= 0 && rows.length <= limit; i--) rows.push({ ...list[i]! });
    return pageOf(rows, limit);
  }

  after(after: number | null, limit: number): LedgerEntry[] {
    const from = after === null ? 0 : firstAtOrAbove(this.feed, after + 1);
    return this.feed.slice(from, from + limit).map((e) => ({ ...e }));
  }
}

/** index of the first entry whose number is >= n (entries ascending) */
function firstAtOrAbove(list: LedgerEntry[], n: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (Number(list[mid]!.entryId) < n) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
