// `fived config apply [--at TIME] [--dry-run]`: registers the game settings of this environment
// (FIVED_DURATIONS, FIVED_FREEZE_MS, the paytable and the bet limits) to take effect at a stated
// instant — by default the next game-day start — for every instance at once, without a restart.
// `fived config show`: the schedule in the store (in effect, pending, and this environment's
// differences). docs/operations.md, "Changing game settings".
import { ErrorCode, FivedError } from '../errors.js';
import { entryAt, initialSchedule, iso, parseSchedule, pendingAt, planApply } from '../runtime/schedule.js';
import { settingsDiff, settingsFingerprint, settingsOf } from '../runtime/settings.js';
import type { RedisStore } from '../store/redis.js';
import { type Command, isCalendarDay, parseCommandLine, UsageError } from './args.js';
import { runTool, withRedisStore } from './common.js';

const usage = [
  'fived config apply [--at TIME] [--dry-run]   register this environment\'s game settings (FIVED_DURATIONS, FIVED_FREEZE_MS,',
  '                                              FIVED_PAY_*, FIVED_FEE_BPS, limits) from TIME (ISO with Z or offset, or epoch ms;',
  '                                              default: the next game-day start) for every instance, without a restart',
  'fived config show                            the registered settings, a pending change, and what this environment changes',
].join('\n');

/** --at as epoch ms: digits, or an ISO time that names its zone and exists (no 2027-02-31, no 24:00). */
export function parseAt(raw: string): number {
  if (/^\d{1,16}$/.test(raw)) return Number(raw);
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(:(\d{2})(\.\d{1,3})?)?(Z|[+-](\d{2}):(\d{2}))$/.exec(raw);
  const inRange = m !== null && isCalendarDay(m[1]!) && Number(m[2]) < 24 && Number(m[3]) < 60 && Number(m[5] ?? 0) < 60 &&
    (m[7] === 'Z' || (Number(m[8]) < 24 && Number(m[9]) < 60));
  if (!inRange || !Number.isFinite(Date.parse(raw))) {
    throw new UsageError(`--at ${JSON.stringify(raw)}: expected an ISO time with its zone (2026-12-07T00:00:00Z) or epoch ms, an instant that exists (no 2027-02-31, no 24:00)`, usage);
  }
  return Date.parse(raw);
}

async function show(store: RedisStore, mine: ReturnType<typeof settingsOf>): Promise<number> {
  const raw = await store.getSettings();
  if (raw === null) {
    console.log(JSON.stringify({ registered: null, note: 'no settings registered yet: the first instance to start registers its own' }, null, 2));
    return 0;
  }
  const s = parseSchedule(raw);
  const now = await store.serverTime();
  const cur = entryAt(s, now);
  const p = pendingAt(s, now);
  console.log(JSON.stringify({
    version: s.version,
    inEffect: { since: cur.from === 0 ? null : iso(cur.from), fingerprint: cur.fingerprint, settings: cur.settings },
    pending: p ? { at: iso(p.from), atMs: p.from, fingerprint: p.fingerprint, settings: p.settings, registeredAt: iso(p.registeredAt), by: p.by } : null,
    environment: { fingerprint: settingsFingerprint(mine), differences: settingsDiff(mine, (p ?? cur).settings) },
  }, null, 2));
  return 0;
}

async function apply(store: RedisStore, mine: ReturnType<typeof settingsOf>, at: number | undefined, dryRun: boolean): Promise<number> {
  const now = await store.serverTime();
  const by = `fived config apply (pid ${process.pid})`;
  const raw = await store.getSettings();
  if (raw === null) {
    if (dryRun) throw new FivedError(ErrorCode.BAD_REQUEST, 'no settings registered yet: without --dry-run these would be registered as the first ones');
    if (!(await store.swapSettings(null, JSON.stringify(initialSchedule(mine, now, by))))) throw new FivedError(ErrorCode.CLAIMED, 'the settings schedule changed meanwhile: run the command again');
    console.log(JSON.stringify({ applied: true, at: 'now (no settings were registered: these are the first)', fingerprint: settingsFingerprint(mine) }));
    return 0;
  }
  const s = parseSchedule(raw);
  const plan = planApply(s, mine, now, by, at);
  const out = {
    applied: !dryRun,
    at: iso(plan.entry.from),
    atMs: plan.entry.from,
    fingerprint: plan.entry.fingerprint,
    changes: settingsDiff(mine, entryAt(s, plan.entry.from - 1).settings).map((d) => ({ setting: d.setting, field: d.field, from: d.registered, to: d.mine })),
    replaces: plan.replaced ? { at: iso(plan.replaced.from), fingerprint: plan.replaced.fingerprint } : null,
  };
  if (!dryRun && !(await store.swapSettings(raw, JSON.stringify(plan.schedule)))) {
    throw new FivedError(ErrorCode.CLAIMED, 'the settings schedule changed meanwhile (another `fived config apply`?): nothing applied; run the command again');
  }
  console.log(JSON.stringify(out, null, 2));
  return 0;
}

export const command: Command = {
  summary: 'change the game settings at a stated instant, for every instance, without a restart (apply, show)',
  usage,
  async run(args: string[]): Promise<number> {
    return runTool('config', async () => {
      const p = parseCommandLine(args, { name: 'config', usage, flags: { at: { type: 'string' }, 'dry-run': { type: 'boolean' } }, positionals: 1 });
      const action = p.positionals[0];
      if (action !== 'apply' && action !== 'show') throw new UsageError(`unknown action ${JSON.stringify(action)}: apply or show`, usage);
      if (action === 'show' && (p.flags.at !== undefined || p.flags['dry-run'] !== undefined)) throw new UsageError('show takes no options', usage);
      const at = typeof p.flags.at === 'string' ? parseAt(p.flags.at) : undefined;
      return withRedisStore(`fived config ${action}`, {}, (store, cfg) =>
        action === 'show' ? show(store, settingsOf(cfg)) : apply(store, settingsOf(cfg), at, p.flags['dry-run'] === true));
    });
  },
};
