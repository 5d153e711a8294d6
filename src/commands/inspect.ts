// `fived inspect ROOM PERIOD_ID`: a period's Redis keys decoded and printed as JSON for operators
// (`redis-cli get` shows msgpack and packed binary). The result, the seed and the settlement plan
// are shown only once the period has ended by Redis TIME. The period's times come from the store
// (its meta hash, written at the commit), not from this caller's FIVED_FREEZE_MS/FIVED_DAY_START,
// which may differ from the cluster's; a period the store has no record of is said so (exit 1).
// After the end the stored result is checked against the period's commitment like the gateways
// check it: one that does not verify is flagged ("verified": false and why) and exits 1.
import { parseRoomName } from '../config.js';
import { parsePeriodId } from '../core/clock.js';
import { readRecord, recordCount } from '../core/betbuf.js';
import { commitmentOf, drawDigits, drawMessage } from '../core/draw.js';
import { ErrorCode } from '../errors.js';
import { patternOf } from '../core/rules.js';
import { decode } from '../store/codec.js';
import type { PeriodRef } from '../core/types.js';
import type { RedisStore } from '../store/redis.js';
import type { StoredResult } from '../store/types.js';
import { storedResultVerifies } from '../store/validate.js';
import { type Command, parseCommandLine, UsageError } from './args.js';
import { runTool, withRedisStore } from './common.js';

const SAMPLE = 5;
const HIDDEN = '(hidden until the period ends by Redis TIME)';

export const command: Command = {
  summary: "print a period's Redis keys decoded as JSON",
  usage: 'fived inspect ROOM PERIOD_ID   (e.g. fived inspect fiveD_60 20250731000000001; FIVED_REDIS_URL must be set)',
  async run(args: string[]): Promise<number> {
    const usage = this.usage;
    return runTool('inspect', async () => {
      const p = parseCommandLine(args, { name: 'inspect', usage, positionals: 2 });
      const [room, periodId] = p.positionals as [string, string];
      const duration = parseRoomName(room);
      if (duration === null) throw new UsageError(`${JSON.stringify(room)} is not a room name (fiveD_60, fiveD_180, …)`, usage);
      try {
        parsePeriodId(periodId, duration);
      } catch (err) {
        throw new UsageError((err as Error).message, usage);
      }
      const { report, cfg } = await withRedisStore('inspect', {}, async (store, cfg) => ({ report: await inspectPeriod(store, { duration, timeline: cfg.timeline, periodId }), cfg }));
      if (report === null) {
        console.error(`fived inspect: the store has no record of ${room} period ${periodId} (timeline ${JSON.stringify(cfg.timeline)}, key prefix ${JSON.stringify(cfg.keyPrefix)}): ` +
          'never committed, expired after its TTL, or written under another FIVED_TIMELINE or FIVED_KEY_PREFIX');
        return 1;
      }
      console.log(JSON.stringify(report, null, 2));
      if (report.verified === false) {
        console.error(`fived inspect: ${ErrorCode.RESULT_MISMATCH}: the stored result of ${room} period ${periodId} does not verify: ${String(report.reason)} ` +
          '(never served by the gateways; docs/operations.md §7, 5D_RESULT_MISMATCH)');
        return 1;
      }
      return 0;
    });
  },
};

/** The period's keys decoded, or null when the store holds nothing of it. */
export async function inspectPeriod(store: RedisStore, w: PeriodRef): Promise<Record<string, unknown> | null> {
  const r = store.client;
  const k = store.keys.period(w);
  const now = await store.serverTime();
  const [meta, result, resultTtl, recsLen, users, gross, claim, pendingScore, winners] = await Promise.all([
    r.hgetall(k.meta), r.getBuffer(k.result), r.ttl(k.result), r.strlen(k.recs), r.get(k.users), r.hgetall(k.gross),
    r.get(k.claim), r.zscore(store.keys.pending, `${w.duration}:${w.timeline}:${w.periodId}`), r.llen(k.wusers),
  ]);
  if (Object.keys(meta).length === 0 && !result && recsLen === 0 && pendingScore === null) return null;
  // the times the cluster committed the period with (every commit and void-at-open writes them)
  const times = ['startsAt', 'freezeAt', 'endsAt'].map((f) => (meta[f] === undefined ? NaN : Number(meta[f])));
  const known = times.every((t) => Number.isSafeInteger(t));
  const [startsAt, freezeAt, endsAt] = times as [number, number, number];
  // without a stored end nothing says the period is over: everything of the result stays hidden
  const ended = known && now >= endsAt;
  // Nothing of the result before the end by Redis TIME (docs/design.md rule 4), even for an operator
  // during the frozen window: not the result key (digits, seed, tracking), not the seed, not the
  // settlement plan (its total and winner count tell a lot about the digits).
  if (!ended) {
    for (const f of ['seed', 'total', 'winners']) if (meta[f] !== undefined) meta[f] = HIDDEN;
  }
  const head = await r.getrangeBuffer(k.recs, 0, SAMPLE * 16 - 1);
  const userList = users ? users.slice(0, -1).split('\n') : [];
  const sample = Array.from({ length: recordCount(head) }, (_, i) => {
    const rec = readRecord(head, i);
    return { seq: i, user: userList[rec.userIdx] ?? rec.userIdx, ...patternOf(rec.pattern), amount: rec.amount };
  });
  const totals: Record<string, number> = {};
  for (const [pat, v] of Object.entries(gross)) {
    const { kind, pick } = patternOf(Number(pat));
    totals[`${kind}:${pick}`] = Number(v);
  }
  const value = result && ended ? decode<StoredResult>(result) : null;
  return {
    ...(value ? resultCheck(value, w, meta.commitment ?? null) : {}),
    period: known ? { ...w, startsAt, freezeAt, endsAt } : { ...w, times: 'not in the store (its meta hash has no startsAt/freezeAt/endsAt): treated as not ended' },
    redisTime: now,
    keys: {
      [k.result]: result ? { ttl: resultTtl, value: value ?? HIDDEN } : null,
      [k.meta]: meta,
      [k.recs]: { bytes: recsLen, records: recsLen / 16, first: sample },
      [k.users]: { count: userList.length, first: userList.slice(0, SAMPLE) },
      [k.gross]: totals,
      [k.claim]: claim,
      [k.wusers]: { winners: ended ? winners : HIDDEN },
      [store.keys.pending]: pendingScore === null ? 'not pending' : { pendingSince: Number(pendingScore) },
    },
  };
}

/**
 * Whether an ended period's stored result verifies against the commitment the period holds (the
 * gateways' check, storedResultVerifies) and, when it does not, why.
 */
export function resultCheck(r: StoredResult, w: PeriodRef, commitment: string | null): { verified: true } | { verified: false; reason: string } {
  if (storedResultVerifies(r, commitment)) return { verified: true };
  const why = (): string => {
    if (commitment !== null && r.commitment !== commitment) return `the result's commitment ${String(r.commitment)} is not the period's ${commitment}`;
    if (commitmentOf(r.seed) !== String(r.commitment).toLowerCase()) return `SHA-256 of its seed is not the commitment ${String(r.commitment)}: the seed is not the committed one`;
    const d = drawDigits(r.seed, drawMessage(w));
    return `its digits ${Array.from(r.digits ?? []).join('')} (sum ${String(r.sum)}) are not the ones its seed draws, ${d.digits.join('')} (sum ${d.sum})`;
  };
  try {
    return { verified: false, reason: why() };
  } catch (err) {
    return { verified: false, reason: `malformed: ${(err as Error).message}` };
  }
}
