// `tsx bench/load-bets.ts ROOM PERIOD_ID COUNT [--users N] [--random SEED]`: bulk-loads synthetic
// bets of one period into Redis in the real layout (benchmarks, demos, tests), with the settings of
// the environment (FIVED_REDIS_URL, FIVED_KEY_PREFIX, ...). Bench-only: the writes skip the Lua
// rules (bench/lib/loader.ts says which), so this is not a command of the production CLI.
import { pathToFileURL } from 'node:url';
import { parseCommandLine, UsageError } from '../src/commands/args.js';
import { runTool, withRedisStore } from '../src/commands/common.js';
import { periodById } from '../src/core/clock.js';
import { parseRoomName } from '../src/core/ids.js';
import { loadBets } from './lib/loader.js';

const USAGE = 'tsx bench/load-bets.ts ROOM PERIOD_ID COUNT [--users N] [--random SEED]   (FIVED_REDIS_URL must be set)';

/** Runs the command line; returns the exit code (2: a usage error, 1: any other failure). */
export function loadBetsCli(args: string[]): Promise<number> {
  return runTool('load-bets', async () => {
    const p = parseCommandLine(args, { name: 'load-bets', usage: USAGE, flags: { users: { type: 'string' }, random: { type: 'string' } }, positionals: 3 });
    const [room, periodId, countRaw] = p.positionals as [string, string, string];
    const duration = parseRoomName(room);
    if (duration === null) throw new UsageError(`${JSON.stringify(room)} is not a room name (fiveD_60, fiveD_180, …)`, USAGE);
    const int = (what: string, raw: string): number => {
      if (!/^\d{1,9}$/.test(raw)) throw new UsageError(`${what} ${JSON.stringify(raw)} must be a non-negative integer`, USAGE);
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
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await loadBetsCli(process.argv.slice(2));
}
