// `fived credit USER AMOUNT [--id DEPOSIT_ID]`: an operator deposit (idempotent by its id).
import { randomBytes } from 'node:crypto';
import type { Command } from '../cli.js';
import { loadConfig } from '../config.js';
import { ErrorCode, FivedError, isFivedError } from '../errors.js';
import { RedisStore } from '../store/redis.js';
import { parseArgs } from './args.js';

export const command: Command = {
  summary: 'credit a deposit to a user (idempotent by --id)',
  usage: 'fived credit USER AMOUNT [--id DEPOSIT_ID]   (AMOUNT in minor units; FIVED_REDIS_URL must be set)',
  async run(args: string[]): Promise<number> {
    let store: RedisStore | null = null;
    try {
      const p = parseArgs(args);
      const [user, amountRaw] = p.positionals;
      if (!user || !amountRaw || !/^\d+$/.test(amountRaw)) throw new FivedError(ErrorCode.BAD_REQUEST, `usage: ${this.usage}`);
      const cfg = loadConfig();
      if (cfg.redisUrl === '' && cfg.redisSentinels.length === 0) throw new FivedError(ErrorCode.CONFIG_INVALID, 'credit writes to Redis: set FIVED_REDIS_URL (the in-memory store lives inside `fived all`)');
      const depositId = typeof p.flags.id === 'string' ? p.flags.id : `cli-${Date.now()}-${randomBytes(4).toString('hex')}`;
      store = new RedisStore({ redisUrl: cfg.redisUrl, ...(cfg.redisSentinels.length ? { sentinels: cfg.redisSentinels, sentinelName: cfg.redisSentinelName } : {}), keyPrefix: cfg.keyPrefix, instance: cfg.instance, light: true });
      await store.init();
      const r = await store.credit(user, Number(amountRaw), depositId);
      console.log(JSON.stringify({ user, amount: Number(amountRaw), depositId, ...r }));
      return 0;
    } catch (err) {
      console.error(isFivedError(err) ? `${err.code}: ${err.message}` : String(err));
      return 1;
    } finally {
      await store?.close();
    }
  },
};
