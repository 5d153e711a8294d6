// The wallet in Redis: deposits and withdrawals (credit.lua, debit.lua; acknowledged only once
// replicated when FIVED_REDIS_MIN_REPLICAS asks for it), balances, held credits and the ledger
// (issue 14; lib/ledger.lua, docs/redis.md).
import { entryIdOf, parseLedgerEntry } from '../../core/ledger.js';
import { validateAmount } from '../../core/rules.js';
import { ErrorCode, FivedError } from '../../errors.js';
import type { RedisBase } from '../base/redis.js';
import { LEDGER_FEED_KEEP, LEDGER_USER_KEEP, LEDGER_USER_TTL_S } from '../keys.js';
import { pageOf, validateCursor, validateLedgerLimit } from '../ledger.js';
import { checkReply, runScript, type ScriptName } from '../scripts.js';
import type { HeldEntry, LedgerEntry, WalletStore, WalletTotals } from '../types.js';
import { exactBalance, parseHeldEntry, validateClientId, validateUserId } from '../validate.js';

export class RedisWallet implements Required<WalletStore> {
  constructor(private readonly b: RedisBase) {}

  /** A deposit or a withdrawal on the writer connection, acknowledged once replicated (a failover
   *  must neither lose a deposit nor hand a withdrawal's money back). */
  private async move(script: ScriptName, userId: string, idKey: string, args: Array<string | number>): Promise<unknown> {
    const K = this.b.keys;
    const keys = [K.balances, K.totals, idKey, K.ledgerSeq, K.ledgerFeed, K.ledgerUser(userId), K.ledgerPending];
    return this.b.op(async () => {
      const r = await runScript(this.b.writer, script, keys, args);
      await this.b.replicas.confirm();
      return r;
    });
  }

  async credit(userId: string, amount: number, depositId: string): Promise<{ balance: number; duplicate: boolean }> {
    validateUserId(userId);
    validateAmount(amount);
    validateClientId(depositId, 'depositId');
    const max = this.b.maxBalance;
    const reply = await this.move('fivedCredit', userId, this.b.keys.deposits, [userId, amount, depositId, max, LEDGER_FEED_KEEP, LEDGER_USER_TTL_S, LEDGER_USER_KEEP]);
    const [status, balance] = checkReply<[number, string]>(reply, { depositId, userId, maxBalance: max });
    return { balance: exactBalance(balance, userId), duplicate: status === 2 };
  }

  async debit(userId: string, amount: number, withdrawalId: string): Promise<{ balance: number; duplicate: boolean }> {
    validateUserId(userId);
    validateAmount(amount);
    validateClientId(withdrawalId, 'withdrawalId');
    const reply = await this.move('fivedDebit', userId, this.b.keys.withdrawals, [userId, amount, withdrawalId, LEDGER_FEED_KEEP, LEDGER_USER_TTL_S, LEDGER_USER_KEEP]);
    const [status, balance] = checkReply<[number, string]>(reply, { withdrawalId, userId });
    return { balance: exactBalance(balance, userId), duplicate: status === 2 };
  }

  async ledgerPage(userId: string, before: string | null, limit: number): Promise<{ entries: LedgerEntry[]; next: string | null }> {
    validateUserId(userId);
    const b = validateCursor(before, 'before');
    const n = validateLedgerLimit(limit);
    const reply = await this.b.op(() => this.b.script('fivedLedgerPage', [this.b.keys.ledgerUser(userId), this.b.keys.ledgerPending], [userId, b === null ? '' : b, n + 1]));
    const [pending, rows] = reply as [string, string[]];
    // pending entries are newer than the list's (lib/ledger.lua)
    const newer = pending.split('\n').map(parseLedgerEntry).filter((e): e is LedgerEntry => e !== null && (b === null || Number(e.entryId) < b)).reverse();
    const older = rows.map(parseLedgerEntry).filter((e): e is LedgerEntry => e !== null);
    return pageOf([...newer, ...older].slice(0, n + 1), n);
  }

  async walletUsers(cursor: string | null, count: number): Promise<{ users: string[]; next: string | null }> {
    const c = cursor === null ? '0' : String(cursor);
    if (!/^\d{1,20}$/.test(c)) throw new FivedError(ErrorCode.BAD_REQUEST, 'cursor must be a HSCAN cursor');
    const [next, flat] = await this.b.op(() => this.b.redis.hscan(this.b.keys.balances, c, 'COUNT', validateLedgerLimit(count, 10_000)));
    const users: string[] = [];
    for (let i = 0; i < flat.length; i += 2) users.push(flat[i]!);
    return { users, next: next === '0' ? null : next };
  }

  async ledgerFeed(after: string | null, limit: number): Promise<LedgerEntry[]> {
    const a = validateCursor(after, 'after');
    const n = validateLedgerLimit(limit, 100_000);
    const from = a ?? 0;
    const out: LedgerEntry[] = [];
    let start = a === null ? '-' : `(${a}-0`;
    // blocks (one per script call) whose last entry number is above the cursor, a few at a time
    while (out.length < n) {
      const blocks = await this.b.op(() => this.b.redis.xrange(this.b.keys.ledgerFeed, start, '+', 'COUNT', 16));
      for (const [, fields] of blocks) {
        for (const line of (fields[1] ?? '').split('\n')) {
          const e = parseLedgerEntry(line);
          if (e && Number(e.entryId) > from && out.length < n) out.push(e);
        }
      }
      if (blocks.length < 16) break;
      start = `(${blocks[blocks.length - 1]![0]}`;
    }
    return out;
  }

  async ledgerFloor(floor: string): Promise<{ before: string; raised: boolean }> {
    const f = validateCursor(floor, 'floor') ?? 0;
    const K = this.b.keys;
    const [before, raised] = (await this.b.op(() => runScript(this.b.writer, 'fivedLedgerFloor', [K.ledgerSeq, K.ledgerFeed], [f]))) as [string, number];
    return { before: entryIdOf(Number(before)), raised: raised === 1 };
  }

  async balance(userId: string): Promise<number> {
    validateUserId(userId);
    return exactBalance(await this.b.op(() => this.b.redis.hget(this.b.keys.balances, userId)), userId);
  }

  async walletTotals(): Promise<WalletTotals> {
    const r = this.b.redis;
    const K = this.b.keys;
    return this.b.op(async () => {
      const [t, b, h] = await Promise.all([r.hgetall(K.totals), r.hgetall(K.balances), r.hvals(K.held)]);
      // exact sums: many balances at the maximum add up past 2^53; a balance fived did not write
      // (edited by hand) is E_BALANCE_OUT_OF_RANGE naming its user, not a failed BigInt
      const big = (v: string | undefined) => BigInt(v ?? '0');
      const balanceSum = (vs: Record<string, string>) => Object.entries(vs).reduce((a, [user, v]) => a + BigInt(exactBalance(v, user)), 0n);
      const sum = (vs: string[]) => vs.reduce((a, v) => a + BigInt(v), 0n);
      const [deposits, payouts, refunds, stakes, withdrawals, balances, held] = [big(t.deposits), big(t.payouts), big(t.refunds), big(t.stakes), big(t.withdrawals), balanceSum(b), sum(h)];
      return {
        deposits: Number(deposits), payouts: Number(payouts), refunds: Number(refunds), stakes: Number(stakes), withdrawals: Number(withdrawals),
        balances: Number(balances), held: Number(held), balanced: deposits + payouts + refunds === balances + stakes + withdrawals + held,
      };
    });
  }

  async heldCredits(users?: string[]): Promise<{ byUser: Record<string, number>; recent: HeldEntry[] }> {
    users?.forEach(validateUserId);
    const r = this.b.redis;
    const K = this.b.keys;
    return this.b.op(async () => {
      const byUser: Record<string, number> = {};
      if (users && users.length > 0) {
        const vs = await r.hmget(K.held, ...users);
        users.forEach((u, i) => { if (vs[i] !== null) byUser[u] = Number(vs[i]); });
      } else {
        for (const [u, v] of Object.entries(await r.hgetall(K.held))) byUser[u] = Number(v);
      }
      const recent = (await r.lrange(K.heldLog, 0, -1)).map(parseHeldEntry).filter((e): e is HeldEntry => e !== null);
      return { byUser, recent: users && users.length > 0 ? recent.filter((e) => users.includes(e.userId)) : recent };
    });
  }
}
