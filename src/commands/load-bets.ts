// `fived load-bets ROOM PERIOD_ID COUNT`: bulk-load synthetic bets of one period into Redis in the
// real layout (benchmarks, demos, tests). Bench-only shortcuts are described in src/store/loader.ts.
import type { Command } from '../cli.js';
import { parseRoomName } from '../config.js';
import { periodById } from '../core/clock.js';
import { ErrorCode, FivedError } from '../errors.js';
import { loadBets } from '../store/loader.js';
import { parseArgs } from './args.js';
import { runTool, withRedisStore } from './common.js';

export const command: Command = {
  summary: 'bulk-load COUNT synthetic bets of a period into Redis (benchmarks and tests)',
  usage: 'fived load-bets ROOM PERIOD_ID COUNT [--users N] [--random SEED]   (FIVED_REDIS_URL must be set)',
  async run(args: string[]): Promise<number> {
    return runTool(async () => {
      const p = parseArgs(args);
      const [room, periodId, countRaw] = p.positionals;
      const duration = parseRoomName(room ?? '');
      if (duration === null || !periodId || !countRaw) throw new FivedError(ErrorCode.BAD_REQUEST, `usage: ${this.usage}`);
      const out = await withRedisStore('load-bets', { commandTimeoutMs: 60_000 }, async (store, cfg) => {
        const w = periodById(periodId, { duration, freezeMs: cfg.freezeMs, dayStart: cfg.dayStart }, cfg.timeline);
        const r = await loadBets(store, w, Number(countRaw), {
          ...(typeof p.flags.users === 'string' ? { users: Number(p.flags.users) } : {}),
          ...(typeof p.flags.random === 'string' ? { random: Number(p.flags.random) } : {}),
          paytable: cfg.paytable,
        });
        return { room, periodId: w.periodId, ...r };
      });
      console.log(JSON.stringify(out));
      return 0;
    });
  },
};
