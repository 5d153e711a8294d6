// `fived verify`: checks a result by the algorithm of docs/fairness.md, two ways:
//   fived verify --seed HEX --commitment HEX --message MSG [--digits A,B,C,D,E] [--json]
//     by hand: the digits the seed draws, whether SHA-256(seed) is the commitment and, with
//     --digits, whether they are the published digits;
//   fived verify ROOM PERIOD_ID --url http://gateway:3000 [--commitment HEX] [--digits A,B,C,D,E] [--json]
//     fetches the published result from a gateway's public API, recomputes its digits from the
//     revealed seed and checks the commitment (and, when given, the commitment you kept from before
//     betting opened and the digits you saw).
// Exit 0 only when every check passes; 1 on any mismatch (E_RESULT_MISMATCH), a period with no
// revealed result (E_TOO_EARLY before its end; E_RESULT_MISMATCH, "withheld", when it has ended and
// the gateway withholds a stored result that does not verify), or a gateway that cannot answer; 2 on bad flags. A typo in the message cannot
// pass silently: without --digits or --url nothing says which digits were published, so the
// output says so.
import { isPeriodId, parseRoomName } from '../core/ids.js';
import { commitmentOf, drawMessage, normalizeHex64, verifyDraw } from '../core/draw.js';
import type { Digits } from '../core/types.js';
import { ErrorCode, FivedError, isFivedError } from '../errors.js';
import { type Command, parseCommandLine, requireFlag, UsageError, type ParsedArgs } from './args.js';

const usage = [
  'fived verify --seed HEX --commitment HEX --message fiveD:{duration}:{timeline}:{periodId} [--digits A,B,C,D,E] [--json]',
  '       fived verify ROOM PERIOD_ID --url http://gateway:3000 [--commitment HEX] [--digits A,B,C,D,E] [--json]',
].join('\n');
const FLAGS = {
  seed: { type: 'string' },
  commitment: { type: 'string' },
  message: { type: 'string' },
  digits: { type: 'string' },
  url: { type: 'string' },
  json: { type: 'boolean' },
} as const;
const HEX64 = /^[0-9a-fA-F]{64}$/;
const FETCH_TIMEOUT_MS = 10_000;

interface Failure {
  code: string;
  message: string;
}

/** `6,1,3,6,8`, `6 1 3 6 8` or `61368`: five digits 0-9 (usage error otherwise). */
export function parseDigits(raw: string): Digits {
  const t = raw.trim();
  const parts = /^\d{5}$/.test(t) ? t.split('') : t.split(/\s*[,\s]\s*/);
  if (parts.length !== 5 || !parts.every((p) => /^\d$/.test(p))) {
    throw new UsageError(`--digits ${JSON.stringify(raw)}: expected the five published digits A,B,C,D,E, e.g. 6,1,3,6,8`, usage);
  }
  return parts.map(Number) as Digits;
}

function hexFlag(p: ParsedArgs, name: 'seed' | 'commitment', what: string): string {
  const v = requireFlag(p, name, usage);
  if (!HEX64.test(v)) throw new UsageError(`--${name}: ${name} must be 64 hexadecimal characters (${what})`, usage);
  return v.toLowerCase();
}

const showDigits = (d: readonly number[]) => `A=${d[0]} B=${d[1]} C=${d[2]} D=${d[3]} E=${d[4]}  (${d.join('')})`;
const sameDigits = (a: readonly number[], b: readonly number[]) => a.length === 5 && b.length === 5 && a.every((d, i) => d === b[i]);

function commitmentFailure(seedCommitment: string, commitment: string): Failure {
  return { code: ErrorCode.RESULT_MISMATCH, message: `commitment does not match: SHA-256(seed) is ${seedCommitment}, the commitment is ${commitment}; this seed is not the one committed before betting opened` };
}

function digitsFailure(drawn: readonly number[], published: readonly number[], by: string): Failure {
  return { code: ErrorCode.RESULT_MISMATCH, message: `digits do not match: the seed and message draw ${drawn.join('')}, ${by} ${published.join('')}` };
}

/** Prints the outcome: the report (JSON or lines) on stdout, every failure on stderr; the exit code. */
function finish(json: boolean, report: Record<string, unknown>, lines: string[], failures: Failure[]): number {
  const ok = failures.length === 0;
  if (json) console.log(JSON.stringify({ ...report, ok, ...(ok ? {} : { errors: failures }) }));
  else {
    for (const l of lines) console.log(l);
    console.log(`verified    ${ok ? 'OK' : 'FAILED'}`);
  }
  for (const f of failures) console.error(`fived verify: ${f.code}: ${f.message}`);
  return ok ? 0 : 1;
}

function offline(p: ParsedArgs, json: boolean): number {
  if (p.flags.url !== undefined) throw new UsageError('--url needs ROOM PERIOD_ID (fived verify fiveD_60 20250731000000001 --url http://gateway:3000)', usage);
  const seed = hexFlag(p, 'seed', 'the revealed seed');
  const commitment = hexFlag(p, 'commitment', 'the SHA-256 published before betting opened');
  const message = requireFlag(p, 'message', usage);
  const expected = typeof p.flags.digits === 'string' ? parseDigits(p.flags.digits) : null;
  const v = verifyDraw(seed, commitment, message);
  const failures: Failure[] = [];
  if (!v.commitmentOk) failures.push(commitmentFailure(commitmentOf(seed), commitment));
  const digitsOk = expected === null ? null : sameDigits(v.digits, expected);
  if (expected !== null && !digitsOk) failures.push(digitsFailure(v.digits, expected, 'the published digits (--digits) are'));
  const lines = [
    `message     ${message}`,
    `digits      ${showDigits(v.digits)}`,
    `sum         ${v.sum}`,
    `commitment  ${v.commitmentOk ? 'OK: SHA-256(seed) matches' : 'MISMATCH: SHA-256(seed) is not the published commitment'}`,
    expected === null
      ? 'published   not given: compare the digits above with the published result yourself, or pass --digits'
      : `published   ${showDigits(expected)}: ${digitsOk ? 'OK, the same' : 'MISMATCH'}`,
  ];
  const report = { digits: v.digits, sum: v.sum, commitmentOk: v.commitmentOk, ...(expected === null ? {} : { publishedDigits: expected, digitsOk }) };
  return finish(json, report, lines, failures);
}

class Unverifiable extends FivedError {}

/** GET a JSON body from the gateway; a non-200 answer becomes its { code, message }. */
async function getJson(url: URL): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers: { accept: 'application/json' } });
  } catch (err) {
    const c = (err as { cause?: { code?: string; message?: string } }).cause;
    const cause = c?.code ?? c?.message;
    const timedOut = err instanceof Error && err.name === 'TimeoutError';
    throw new Unverifiable(timedOut ? ErrorCode.TIMEOUT : ErrorCode.NOT_READY, `cannot reach the gateway at ${url.origin}: ${timedOut ? `no answer in ${FETCH_TIMEOUT_MS / 1000} s` : (cause ?? (err instanceof Error ? err.message : String(err)))}`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Unverifiable(ErrorCode.MALFORMED, `GET ${url.pathname}: the gateway answered ${res.status} with something that is not JSON`);
  }
  if (res.status !== 200) {
    const b = body as { code?: unknown; message?: unknown };
    const code = typeof b?.code === 'string' ? b.code : `HTTP ${res.status}`;
    throw new Unverifiable(res.status === 404 ? ErrorCode.NOT_FOUND : ErrorCode.BAD_REQUEST, `GET ${url.pathname}: ${code}: ${typeof b?.message === 'string' ? b.message : text.slice(0, 200)}`);
  }
  return body;
}

interface PeriodView {
  commitment?: unknown;
  status?: unknown;
  void?: unknown;
  voidReason?: unknown;
  endsAt?: unknown;
  result?: { digits?: unknown; sum?: unknown; seed?: unknown } | null;
}

/** What `fived verify ROOM PERIOD_ID --url …` checks, from its command line (usage errors otherwise). */
interface Target {
  room: string;
  duration: number;
  periodId: string;
  base: URL;
  kept: string | null;
  expected: Digits | null;
}

function onlineTarget(p: ParsedArgs): Target {
  for (const f of ['seed', 'message'] as const) {
    if (p.flags[f] !== undefined) throw new UsageError(`--${f} is read from the gateway when ROOM PERIOD_ID --url are given; leave it out`, usage);
  }
  const [room, periodId] = p.positionals as [string, string];
  const duration = parseRoomName(room);
  if (duration === null) throw new UsageError(`${JSON.stringify(room)} is not a room name (fiveD_60, fiveD_180, …)`, usage);
  if (!isPeriodId(periodId)) throw new UsageError(`period id ${JSON.stringify(periodId)} must be 17 digits (YYYYMMDD + a 9-digit sequence)`, usage);
  const rawUrl = requireFlag(p, 'url', usage);
  let base: URL;
  try {
    base = new URL(rawUrl);
  } catch {
    throw new UsageError(`--url ${JSON.stringify(rawUrl)} is not a URL (e.g. http://gateway:3000)`, usage);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new UsageError(`--url must be http:// or https://, not ${base.protocol}`, usage);
  const kept = typeof p.flags.commitment === 'string' ? hexFlag(p, 'commitment', 'the one published before betting opened') : null;
  const expected = typeof p.flags.digits === 'string' ? parseDigits(p.flags.digits) : null;
  return { room, duration, periodId, base, kept, expected };
}

/** What one verification gathers: the report (JSON), its lines, and what failed. */
interface Outcome {
  report: Record<string, unknown>;
  lines: string[];
  failures: Failure[];
}

/** The draw message of the period: the timeline is the room's (GET /api/rooms). */
async function messageOf(t: Target, at: (path: string) => URL): Promise<string> {
  const rooms = await getJson(at('api/rooms'));
  const info = Array.isArray(rooms) ? (rooms as Array<{ room?: unknown; duration?: unknown; timeline?: unknown }>).find((r) => r?.room === t.room) : undefined;
  if (!info) throw new Unverifiable(ErrorCode.INVALID_ROOM, `the gateway has no room ${t.room}${Array.isArray(rooms) ? ` (rooms: ${rooms.map((r: { room?: unknown }) => String(r?.room)).join(', ')})` : ''}`);
  if (info.duration !== t.duration || typeof info.timeline !== 'string') throw new Unverifiable(ErrorCode.MALFORMED, `GET /api/rooms: room ${t.room} has no valid duration and timeline`);
  return drawMessage({ duration: t.duration, timeline: info.timeline, periodId: t.periodId });
}

/** The period's revealed commitment, seed and published digits (Unverifiable when there are none). */
async function revealed(t: Target, at: (path: string) => URL, o: Outcome) {
  const view = (await getJson(at(`api/rooms/${encodeURIComponent(t.room)}/periods/${t.periodId}`))) as PeriodView;
  o.report.status = view?.status ?? null;
  const r = view?.result;
  if (r === null || r === undefined) {
    if (view?.void === true) throw new Unverifiable(ErrorCode.PERIOD_VOID, `period ${t.periodId} is void (${String(view.voidReason ?? 'no reason given')}): it has no result; its bets were refunded`);
    if (view?.status === 'resulted' || view?.status === 'settled') {
      // past the gateway's gate with a stored result, yet none served: the gateway withholds a stored
      // result that does not verify against the commitment (docs/operations.md §7, 5D_RESULT_MISMATCH)
      o.report.withheld = true;
      throw new Unverifiable(ErrorCode.RESULT_MISMATCH, `period ${t.periodId} has ended (status ${view.status}) but the gateway serves no result: it withholds a stored result that does not verify against the commitment; nothing here can be verified (operators: 5D_RESULT_MISMATCH in the gateway's log)`);
    }
    const ends = typeof view?.endsAt === 'number' ? ` (it ends at ${new Date(view.endsAt).toISOString()})` : '';
    throw new Unverifiable(ErrorCode.TOO_EARLY, `period ${t.periodId} has no revealed result yet: status ${String(view?.status)}${ends}`);
  }
  if (typeof view.commitment !== 'string' || !HEX64.test(view.commitment)) throw new Unverifiable(ErrorCode.INVALID_RESULT, 'the gateway served no valid commitment for the period');
  if (typeof r.seed !== 'string' || !HEX64.test(r.seed)) throw new Unverifiable(ErrorCode.INVALID_RESULT, 'the gateway served no valid seed for the period');
  const published = r.digits;
  if (!Array.isArray(published) || published.length !== 5 || !published.every((d) => Number.isInteger(d) && d >= 0 && d <= 9) || !Number.isInteger(r.sum)) {
    throw new Unverifiable(ErrorCode.INVALID_RESULT, 'the gateway served a result that is not five digits 0-9 with their sum');
  }
  return { commitment: normalizeHex64(view.commitment, 'commitment'), seed: normalizeHex64(r.seed), published: published as number[], sum: r.sum as number };
}

/** Recomputes the digits from the revealed seed and compares: commitment, published digits, and
 *  what the user kept (--commitment) or expected (--digits). */
function compare(t: Target, message: string, got: Awaited<ReturnType<typeof revealed>>, o: Outcome): void {
  const { commitment, seed, published, sum } = got;
  const { report, lines, failures } = o;
  const v = verifyDraw(seed, commitment, message);
  Object.assign(report, { commitment, seed, published: { digits: published, sum }, digits: v.digits, sum: v.sum, commitmentOk: v.commitmentOk });
  lines.push(
    `commitment  ${commitment}`,
    `seed        ${seed}`,
    `published   ${showDigits(published)}  sum ${String(sum)}`,
    `computed    ${showDigits(v.digits)}  sum ${v.sum}`,
    `commitment  ${v.commitmentOk ? 'OK: SHA-256(seed) matches' : 'MISMATCH: SHA-256(seed) is not the commitment'}`,
  );
  if (!v.commitmentOk) failures.push(commitmentFailure(commitmentOf(seed), commitment));
  const digitsOk = sameDigits(v.digits, published) && sum === v.sum;
  report.digitsOk = digitsOk;
  lines.push(`digits      ${digitsOk ? 'OK: the published digits are the ones the seed draws' : 'MISMATCH'}`);
  if (!digitsOk) failures.push(digitsFailure(v.digits, published, `the gateway published ${published.join('')} (sum ${String(sum)})`));
  if (t.kept !== null) {
    report.keptCommitmentOk = t.kept === commitment;
    lines.push(`kept        ${t.kept === commitment ? 'OK: the commitment you kept is the one served' : 'MISMATCH'}`);
    if (t.kept !== commitment) failures.push({ code: ErrorCode.RESULT_MISMATCH, message: `commitment does not match: the gateway serves ${commitment}, the one you kept (--commitment) is ${t.kept}` });
  }
  if (t.expected !== null) {
    const same = sameDigits(t.expected, published);
    report.expectedDigitsOk = same;
    lines.push(`expected    ${showDigits(t.expected)}: ${same ? 'OK, the same' : 'MISMATCH'}`);
    if (!same) failures.push({ code: ErrorCode.RESULT_MISMATCH, message: `digits do not match: the gateway published ${published.join('')}, you expected (--digits) ${t.expected.join('')}` });
  }
}

async function online(p: ParsedArgs, json: boolean): Promise<number> {
  const t = onlineTarget(p);
  const { base, room, periodId } = t;
  const at = (path: string) => new URL(path, base.href.endsWith('/') ? base.href : `${base.href}/`);
  const o: Outcome = { report: { url: base.origin, room, periodId }, lines: [`gateway     ${base.origin}`, `period      ${room} ${periodId}`], failures: [] };
  try {
    const message = await messageOf(t, at);
    o.report.message = message;
    o.lines.push(`message     ${message}`);
    compare(t, message, await revealed(t, at, o), o);
  } catch (err) {
    if (!(err instanceof Unverifiable)) throw err;
    o.failures.push({ code: err.code, message: err.message });
  }
  return finish(json, o.report, o.lines, o.failures);
}

export const command: Command = {
  summary: 'verify a result: from its seed, commitment and message, or fetched from a gateway by room and period id (--url)',
  usage,
  async run(args: string[]): Promise<number> {
    try {
      const p = parseCommandLine(args, { name: 'verify', usage, flags: FLAGS, positionals: { min: 0, max: 2 } });
      const json = p.flags.json === true;
      if (p.positionals.length === 1) throw new UsageError('give both ROOM and PERIOD_ID (with --url), or none (with --seed, --commitment, --message)', usage);
      return p.positionals.length === 2 ? await online(p, json) : offline(p, json);
    } catch (err) {
      const msg = isFivedError(err) ? `${err.message} (${err.code})` : err instanceof Error ? err.message : String(err);
      console.error(`fived verify: ${msg}\nusage: ${usage}`);
      return 2;
    }
  },
};
