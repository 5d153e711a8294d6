// `fived credit USER AMOUNT --id DEPOSIT_ID`: an operator deposit, idempotent by its id. The id is
// required: a retried credit must carry the same id to be paid once (a generated one would pay twice).
import { amountArg, type Command, parseCommandLine, requireFlag } from './args.js';
import { runTool, withRedisStore } from './common.js';

const usage = 'fived credit USER AMOUNT --id DEPOSIT_ID   (AMOUNT in minor units; the same --id again credits once; FIVED_REDIS_URL must be set)';

export const command: Command = {
  summary: 'credit a deposit to a user (idempotent by its required --id)',
  usage,
  async run(args: string[]): Promise<number> {
    return runTool('credit', async () => {
      const p = parseCommandLine(args, { name: 'credit', usage, flags: { id: { type: 'string' } }, positionals: 2 });
      const [user, amountRaw] = p.positionals as [string, string];
      const depositId = requireFlag(p, 'id', usage);
      const amount = amountArg(amountRaw, usage);
      const r = await withRedisStore('credit', {}, (store) => store.credit(user, amount, depositId));
      console.log(JSON.stringify({ user, amount, depositId, ...r }));
      return 0;
    });
  },
};
