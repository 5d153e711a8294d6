// `fived reconcile [USER ...] [--complete]`: checks the ledger (issue 14) against the balances and
// the bets (src/runtime/ledger-check.ts): for every user (or the ones given), the entries add up to
// the balance, every bet has exactly one stake entry and a period at most one payout or refund
// entry of what was owed. Prints the report (JSON); exits 1 when anything does not add up.
import { reconcileLedger } from '../runtime/ledger-check.js';
import { type Command, parseCommandLine } from './args.js';
import { runTool, withRedisStore } from './common.js';

const usage = 'fived reconcile [USER ...] [--complete]   (--complete: every user\'s kept entries must start at balance 0, i.e. nothing expired from Redis; FIVED_REDIS_URL must be set)';

export const command: Command = {
  summary: 'check that every balance is its ledger entries and every bet has its stake and one payout/refund',
  usage,
  async run(args: string[]): Promise<number> {
    return runTool('reconcile', async () => {
      const p = parseCommandLine(args, { name: 'reconcile', usage, flags: { complete: { type: 'boolean' } }, positionals: { min: 0, max: 1000 } });
      const users = p.positionals.length > 0 ? p.positionals : undefined;
      const report = await withRedisStore('reconcile', {}, (store) => reconcileLedger(store, { complete: p.flags.complete === true, ...(users ? { users } : {}) }));
      console.log(JSON.stringify(report, null, 2));
      if (!report.ok) {
        console.error(`ledger does not reconcile: ${report.problems.length} problem(s), e.g. ${report.problems[0]}`);
        return 1;
      }
      return 0;
    });
  },
};
