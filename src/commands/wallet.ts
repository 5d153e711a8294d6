// `fived wallet [USER ...]`: the wallet's totals and invariant, and the held credits: payouts and
// refunds that would have taken a balance above FIVED_MAX_BALANCE, held instead of credited
// (docs/operations.md, "Maximum balance and held credits"). With users: their balances and held amounts.
import { isFivedError } from '../errors.js';
import { type Command, parseCommandLine } from './args.js';
import { runTool, withRedisStore } from './common.js';

const usage = 'fived wallet [USER ...]   (FIVED_REDIS_URL must be set; exits 3 when the invariant does not hold)';
/** the exit code when the report says balanced: false (1: the tool failed, 2: usage) */
export const WALLET_UNBALANCED = 3;

export const command: Command = {
  summary: 'wallet totals, the invariant, and held credits (payouts/refunds above FIVED_MAX_BALANCE)',
  usage,
  async run(args: string[]): Promise<number> {
    return runTool('wallet', async () => {
      const p = parseCommandLine(args, { name: 'wallet', usage, positionals: { min: 0, max: 1000 } });
      const users = p.positionals;
      const report = await withRedisStore('wallet', {}, async (store, cfg) => {
        const [totals, held] = await Promise.all([store.walletTotals(), store.heldCredits(users)]);
        const balances: Record<string, number | string> = {};
        for (const u of users) {
          try { balances[u] = await store.balance(u); } catch (err) { balances[u] = isFivedError(err) ? `${err.code}: ${err.message}` : String(err); }
        }
        return {
          maxBalance: cfg.maxBalance,
          totals,
          held: { total: Object.values(held.byUser).reduce((a, v) => a + v, 0), byUser: held.byUser, recent: held.recent },
          ...(users.length > 0 ? { balances } : {}),
        };
      });
      console.log(JSON.stringify(report, null, 2));
      // a cron job or a runbook step can act on the exit code: 3 when the invariant does not hold
      if (!report.totals.balanced) {
        console.error('fived wallet: the invariant does not hold: deposits + payouts + refunds != balances + stakes + withdrawals + held (docs/operations.md)');
        return WALLET_UNBALANCED;
      }
      return 0;
    });
  },
};
