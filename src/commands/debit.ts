// `fived debit USER AMOUNT --id WITHDRAWAL_ID`: an operator withdrawal (issue 14), idempotent by its
// id, refused beyond the balance (E_INSUFFICIENT_FUNDS). The id is required, as for `fived credit`:
// a retried withdrawal must carry the same id to be paid out once.
import { amountArg, type Command, parseCommandLine, requireFlag } from './args.js';
import { runTool, withRedisStore } from './common.js';

const usage = 'fived debit USER AMOUNT --id WITHDRAWAL_ID   (AMOUNT in minor units; the same --id again debits once; FIVED_REDIS_URL must be set)';

export const command: Command = {
  summary: 'debit a withdrawal from a user (idempotent by its required --id)',
  usage,
  async run(args: string[]): Promise<number> {
    return runTool('debit', async () => {
      const p = parseCommandLine(args, { name: 'debit', usage, flags: { id: { type: 'string' } }, positionals: 2 });
      const [user, amountRaw] = p.positionals as [string, string];
      const withdrawalId = requireFlag(p, 'id', usage);
      const amount = amountArg(amountRaw, usage);
      const r = await withRedisStore('debit', {}, (store) => store.debit(user, amount, withdrawalId));
      console.log(JSON.stringify({ user, amount, withdrawalId, ...r }));
      return 0;
    });
  },
};
