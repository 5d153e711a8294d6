// The wallet in memory: deposits, withdrawals, balances, held credits and the ledger (issue 14),
// each balance change with its ledger entry in the same step (as the Lua scripts do).
import { validateAmount } from '../../core/rules.js';
import type { PeriodRef } from '../../core/types.js';
import { ErrorCode, FivedError } from '../../errors.js';
import type { MemState } from '../base/memory.js';
import { periodMember } from '../keys.js';
import { validateCursor, validateLedgerLimit } from '../ledger.js';
import { storeError } from '../scripts.js';
import type { HeldEntry, LedgerEntry, WalletStore, WalletTotals } from '../types.js';
import { exactBalance, validateClientId, validateUserId } from '../validate.js';

const HELD_LOG_MAX = 1000;

/**
 * Credits `amount` to a user's balance, or holds it when that would pass the maximum balance (or
 * the stored balance is out of the exact range): as settle_apply.lua / void_refund.lua. True if held.
 */
export function creditOrHold(s: MemState, userId: string, amount: number, kind: HeldEntry['kind'], ref: PeriodRef): boolean {
  const b = s.balances.get(userId) ?? 0;
  if (Number.isSafeInteger(b) && b >= 0 && b + amount <= s.maxBalance) {
    s.balances.set(userId, b + amount);
    s.ledger.add(userId, kind, amount, b + amount, periodMember(ref)); // a held credit changes no balance: no entry
    return false;
  }
  s.held.set(userId, (s.held.get(userId) ?? 0) + amount);
  s.heldLog.unshift({ member: periodMember(ref), kind, userId, amount });
  if (s.heldLog.length > HELD_LOG_MAX) s.heldLog.length = HELD_LOG_MAX;
  return true;
}

export class MemWallet implements Required<WalletStore> {
  constructor(private readonly s: MemState) {}

  async credit(userId: string, amount: number, depositId: string): Promise<{ balance: number; duplicate: boolean }> {
    validateUserId(userId);
    validateAmount(amount);
    validateClientId(depositId, 'depositId');
    const s = this.s;
    s.open();
    const content = `${userId}\n${amount}`;
    const prev = s.deposits.get(depositId);
    if (prev !== undefined) {
      if (prev !== content) throw storeError(ErrorCode.DUPLICATE_CONFLICT, { depositId });
      return { balance: exactBalance(s.balances.get(userId), userId), duplicate: true };
    }
    const cur = exactBalance(s.balances.get(userId), userId);
    if (cur + amount > s.maxBalance) throw storeError(ErrorCode.BALANCE_LIMIT, { depositId, userId, maxBalance: s.maxBalance, info: String(cur) });
    s.deposits.set(depositId, content);
    const b = cur + amount;
    s.balances.set(userId, b);
    s.totals.deposits += amount;
    s.ledger.add(userId, 'deposit', amount, b, depositId);
    return { balance: b, duplicate: false };
  }

  async debit(userId: string, amount: number, withdrawalId: string): Promise<{ balance: number; duplicate: boolean }> {
    validateUserId(userId);
    validateAmount(amount);
    validateClientId(withdrawalId, 'withdrawalId');
    const s = this.s;
    s.open();
    const content = `${userId}\n${amount}`;
    const prev = s.withdrawals.get(withdrawalId);
    if (prev !== undefined) {
      const at = prev.lastIndexOf('\n');
      if (prev.slice(0, at) !== content) throw storeError(ErrorCode.DUPLICATE_CONFLICT, { withdrawalId });
      return { balance: Number(prev.slice(at + 1)), duplicate: true }; // the first answer (as debit.lua)
    }
    const cur = exactBalance(s.balances.get(userId), userId);
    if (cur < amount) throw storeError(ErrorCode.INSUFFICIENT_FUNDS, { withdrawalId, userId, info: String(cur) });
    const b = cur - amount;
    s.withdrawals.set(withdrawalId, `${content}\n${b}`);
    s.balances.set(userId, b);
    s.totals.withdrawals += amount;
    s.ledger.add(userId, 'withdrawal', -amount, b, withdrawalId);
    return { balance: b, duplicate: false };
  }

  async ledgerPage(userId: string, before: string | null, limit: number): Promise<{ entries: LedgerEntry[]; next: string | null }> {
    validateUserId(userId);
    const b = validateCursor(before, 'before');
    return this.s.ledger.page(userId, b, validateLedgerLimit(limit));
  }

  async walletUsers(cursor: string | null, count: number): Promise<{ users: string[]; next: string | null }> {
    const from = cursor === null ? 0 : Number(cursor);
    if (!Number.isSafeInteger(from) || from < 0) throw new FivedError(ErrorCode.BAD_REQUEST, 'cursor must be a non-negative integer');
    const all = [...this.s.balances.keys()];
    const to = from + validateLedgerLimit(count, 10_000);
    return { users: all.slice(from, to), next: to < all.length ? String(to) : null };
  }

  async ledgerFeed(after: string | null, limit: number): Promise<LedgerEntry[]> {
    const a = validateCursor(after, 'after');
    return this.s.ledger.after(a, validateLedgerLimit(limit, 100_000));
  }

  async ledgerFloor(floor: string): Promise<{ before: string; raised: boolean }> {
    return this.s.ledger.floor(validateCursor(floor, 'floor') ?? 0);
  }

  async balance(userId: string): Promise<number> {
    validateUserId(userId);
    return exactBalance(this.s.balances.get(userId), userId);
  }

  async walletTotals(): Promise<WalletTotals> {
    // exact sums, as RedisStore (many balances at the maximum add up past 2^53)
    const sum = (vs: Iterable<number>) => { let a = 0n; for (const v of vs) a += BigInt(v); return a; };
    const t = this.s.totals;
    const balances = sum(this.s.balances.values());
    const held = sum(this.s.held.values());
    const balanced = BigInt(t.deposits) + BigInt(t.payouts) + BigInt(t.refunds) === balances + BigInt(t.stakes) + BigInt(t.withdrawals) + held;
    return { ...t, balances: Number(balances), held: Number(held), balanced };
  }

  async heldCredits(users?: string[]): Promise<{ byUser: Record<string, number>; recent: HeldEntry[] }> {
    users?.forEach(validateUserId);
    const pick = users && users.length > 0 ? users : [...this.s.held.keys()];
    const byUser: Record<string, number> = {};
    for (const u of pick) { const v = this.s.held.get(u); if (v !== undefined) byUser[u] = v; }
    const recent = this.s.heldLog.filter((e) => !users || users.length === 0 || users.includes(e.userId)).map((e) => ({ ...e }));
    return { byUser, recent };
  }
}
