// `fived load-bets ROOM PERIOD_ID COUNT`: bulk-load synthetic bets of one period into Redis in the
// real layout (benchmarks, demos, tests). Bench-only shortcuts are described in src/store/loader.ts.
import type { Command } from './args.js';
import { parseRoomName } from '../config.js';
import { periodById } from '../core/clock.js';
import { loadBets } from '../store/loader.js';
import { parseCommandLine, UsageError } from './args.js';
import { runTool, withRedisStore } from './common.js';

export const command: Command = {
  summary: 'bulk-load COUNT synthetic bets of a period into Redis (benchmarks and tests)',
  usage: 'fived load-bets ROOM PERIOD_ID COUNT [--users N] [--random SEED]   (FIVED_REDIS_URL must be set)',
  async run(args: string[]): Promise<number> {
    const usage = this.usage;
    return runTool('load-bets', async () => {
      const p = parseCommandLine(args, { name: 'load-bets', usage, flags: { users: { type: 'string' }, random: { type: 'string' } }, positionals: 3 });
      const [room, periodId, countRaw] = p.positionals as [string, string, string];
      const duration = parseRoomName(room);
      if (duration === null) throw new UsageError(`${JSON.stringify(room)} is not a room name (fiveD_60, fiveD_180, …)`, usage);
      const int = (what: string, raw: string): number => {
        if (!/^\d{1,9}$/.test(raw)) throw new UsageError(`${what} ${JSON.stringify(raw)} must be a non-negative integer`, usage);
        return Number(raw);
      };
      const count = int('COUNT', countRaw);
      const users = typeof p.flags.users === 'string' ? int('--users', p.flags.users) : undefined;
      const random = typeof p.flags.random === 'string' ? int('--random', p.flags.random) : undefined;
      const out = await withRedisStore('load-bets', { commandTimeoutMs: 60_000 }, async (store, cfg) => {
        const w = periodById(periodId, { duration, freezeMs: cfg.freezeMs, dayStart: cfg.dayStart }, cfg.timeline);
        const r = await loadBets(store, w, count, {
          ...(users !== undefined ? { users } : {}),
          ...(random !== undefined ? { random } : {}),
          paytable: cfg.paytable,
        });
        return { room, periodId: w.periodId, ...r };
      });
      console.log(JSON.stringify(out));
      return 0;
    });
  },
};
