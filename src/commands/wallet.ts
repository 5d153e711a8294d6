// `fived wallet [USER ...]`: the wallet's totals and invariant, and the held credits: payouts and
// refunds that would have taken a balance above FIVED_MAX_BALANCE, held instead of credited
// (docs/operations.md, "Maximum balance and held credits"). With users: their balances and held amounts.
import { isFivedError } from '../errors.js';
import { type Command, parseCommandLine } from './args.js';
import { runTool, withRedisStore } from './common.js';

const usage = 'fived wallet [USER ...]   (FIVED_REDIS_URL must be set)';

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
      return 0;
    });
  },
};
