// `fived load-bets ROOM PERIOD_ID COUNT`: bulk-load synthetic bets of one period into Redis in the
// real layout (benchmarks, demos, tests). Bench-only shortcuts are described in src/store/loader.ts.
import type { Command } from '../cli.js';
import { loadConfig, parseRoomName } from '../config.js';
import { periodById } from '../core/clock.js';
import { ErrorCode, FivedError, isFivedError } from '../errors.js';
import { RedisStore } from '../store/redis.js';
import { loadBets } from '../store/loader.js';
import { parseArgs } from './args.js';

export const command: Command = {
  summary: 'bulk-load COUNT synthetic bets of a period into Redis (benchmarks and tests)',
  usage: 'fived load-bets ROOM PERIOD_ID COUNT [--users N] [--random SEED]   (FIVED_REDIS_URL must be set)',
  async run(args: string[]): Promise<number> {
    let store: RedisStore | null = null;
    try {
      const p = parseArgs(args);
      const [room, periodId, countRaw] = p.positionals;
      const duration = parseRoomName(room ?? '');
      if (duration === null || !periodId || !countRaw) throw new FivedError(ErrorCode.BAD_REQUEST, `usage: ${this.usage}`);
      const cfg = loadConfig();
      if (cfg.redisUrl === '' && cfg.redisSentinels.length === 0) throw new FivedError(ErrorCode.CONFIG_INVALID, 'load-bets writes to Redis: set FIVED_REDIS_URL');
      const w = periodById(periodId, { duration, freezeMs: cfg.freezeMs, dayStart: cfg.dayStart }, cfg.timeline);
      store = new RedisStore({ redisUrl: cfg.redisUrl, ...(cfg.redisSentinels.length ? { sentinels: cfg.redisSentinels, sentinelName: cfg.redisSentinelName } : {}), keyPrefix: cfg.keyPrefix, instance: cfg.instance, light: true, commandTimeoutMs: 60_000 });
      await store.init();
      const r = await loadBets(store, w, Number(countRaw), {
        ...(typeof p.flags.users === 'string' ? { users: Number(p.flags.users) } : {}),
        ...(typeof p.flags.random === 'string' ? { random: Number(p.flags.random) } : {}),
        paytable: cfg.paytable,
      });
      console.log(JSON.stringify({ room, periodId: w.periodId, ...r }));
      return 0;
    } catch (err) {
      console.error(isFivedError(err) ? `${err.code}: ${err.message}` : String(err));
      return 1;
    } finally {
      await store?.close();
    }
  },
};
