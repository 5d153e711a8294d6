// `fived credit USER AMOUNT [--id DEPOSIT_ID]`: an operator deposit (idempotent by its id).
import { randomBytes } from 'node:crypto';
import type { Command } from '../cli.js';
import { ErrorCode, FivedError } from '../errors.js';
import { parseArgs } from './args.js';
import { runTool, withRedisStore } from './common.js';

export const command: Command = {
  summary: 'credit a deposit to a user (idempotent by --id)',
  usage: 'fived credit USER AMOUNT [--id DEPOSIT_ID]   (AMOUNT in minor units; FIVED_REDIS_URL must be set)',
  async run(args: string[]): Promise<number> {
    return runTool(async () => {
      const p = parseArgs(args);
      const [user, amountRaw] = p.positionals;
      if (!user || !amountRaw || !/^\d+$/.test(amountRaw)) throw new FivedError(ErrorCode.BAD_REQUEST, `usage: ${this.usage}`);
      const depositId = typeof p.flags.id === 'string' ? p.flags.id : `cli-${Date.now()}-${randomBytes(4).toString('hex')}`;
      const r = await withRedisStore('credit', {}, (store) => store.credit(user, Number(amountRaw), depositId));
      console.log(JSON.stringify({ user, amount: Number(amountRaw), depositId, ...r }));
      return 0;
    });
  },
};
