// The HTTP fuzzer (issue 12): a seeded generator of HTTP inputs against a real gateway (on a Redis
// of its own) and a real scheduler's port. Random methods; every real route of the gateway —
// public and operator, with no token, a wrong token, and the right token with broken bodies or
// parameters — and of the scheduler; paths with broken and overlong percent-encodings, unicode,
// dot segments, doubled slashes; query strings, headers and bodies; and raw malformed requests
// over a TCP socket (bad request lines, header overflows, lying lengths, broken chunking, broken
// WebSocket upgrades). Well-formed inputs go over keep-alive connections (many at once); raw ones
// each on a connection of their own.
//
// Every well-formed input must get an answer: a 2xx only where nothing can change, a 4xx (429
// included: per-IP limits may be on) or 503 with a coded JSON body { code, message }; never a 500.
// A raw input may also be answered by a close. After each batch both processes must be alive and
// answer /health. At the end the money state in Redis — balances, wallet counters, deposits, bets
// (every per-period bet key, the users' bet lists), the results and void flags of every period
// that existed before — must be what it was before the first input.

import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { periodAt } from '../../../src/core/clock.js';
import { ErrorCode } from '../../../src/errors.js';
import { startFived } from '../../../test/support/fived.js';
import { startRedis, type TestRedis } from '../../../test/support/redis.js';
import { prng } from './fuzz.js';
import { freePort } from '../../../test/support/ports.js';
import { httpRequest, stopAll, waitFor, type Proc } from '../../../test/support/procs.js';

const CODES = new Set<string>(Object.values(ErrorCode));
const OPERATOR = 'fuzz-http-operator-token-0123456789abcdef';
const JWT_SECRET = 'fuzz-http-secret-0123456789abcdef';
const DURATIONS = [3, 5];
const FREEZE_MS = 1000;
const BATCH = 2000;
const TIMEOUT_MS = 5000;
const RAW_TIMEOUT_MS = 600;

export interface HttpFuzzOptions {
  count: number;
  seed?: number;
  log?: (l: string) => void;
  /** concurrent keep-alive connections */
  parallel?: number;
}

export interface HttpFuzzResult {
  inputs: number;
  /** processes (gateway, scheduler) that exited during the run */
  exits: number;
  violations: number;
  /** money-state keys that differ before/after (0 when nothing changed) */
  stateChanges: number;
  byCategory: Record<string, number>;
  byStatus: Record<string, number>;
  evidence: string[];
  ms: number;
  text: string;
}

interface Input {
  cat: string;
  target: 'gateway' | 'scheduler';
  bytes: Buffer;
  head: boolean;
  /** a raw malformed request: a close is an answer too, sent on its own connection */
  raw: boolean;
  /** 2xx allowed (read-only routes and wrong-method answers only) */
  okAllowed: boolean;
  /** a request head over uWS's header limit: uWS itself may answer (431/400, not coded) or close */
  big: boolean;
  what: string;
}

interface Answer { status: number; body: string; closed: boolean; timedOut: boolean }

/** One keep-alive HTTP/1.1 connection: one request at a time, the answer parsed from the bytes. */
class Conn {
  private sock: net.Socket | null = null;
  private buf: Buffer = Buffer.alloc(0);
  private waiting: { head: boolean; resolve: (a: Answer) => void; timer: NodeJS.Timeout } | null = null;
  /** the socket carried an earlier request: a close before the answer may be the server closing an idle connection */
  reused = false;

  constructor(private readonly port: number) {}

  private open(): Promise<net.Socket> {
    return new Promise((resolve) => {
      const s = net.connect(this.port, '127.0.0.1');
      s.setNoDelay(true);
      s.on('data', (d: Buffer) => { this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d; this.parse(); });
      const gone = () => {
        if (this.sock === s) this.sock = null;
        this.buf = Buffer.alloc(0);
        this.finish({ status: 0, body: '', closed: true, timedOut: false });
      };
      s.on('error', gone);
      s.on('close', gone);
      s.once('connect', () => resolve(s));
    });
  }

  async send(bytes: Buffer, head: boolean, timeoutMs = TIMEOUT_MS): Promise<Answer> {
    this.reused = this.sock !== null;
    if (!this.sock) this.sock = await this.open();
    const s = this.sock;
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.finish({ status: 0, body: '', closed: false, timedOut: true }); s.destroy(); }, timeoutMs);
      this.waiting = { head, resolve, timer };
      s.write(bytes);
    });
  }

  close(): void {
    this.sock?.destroy();
    this.sock = null;
  }

  private finish(a: Answer): void {
    const w = this.waiting;
    if (!w) return;
    this.waiting = null;
    clearTimeout(w.timer);
    w.resolve(a);
  }

  private parse(): void {
    for (;;) {
      if (!this.waiting) return;
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const headText = this.buf.subarray(0, end).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(headText);
      if (!m) { this.finish({ status: -1, body: headText.slice(0, 100), closed: false, timedOut: false }); this.close(); return; }
      const status = Number(m[1]);
      const start = end + 4;
      if (status >= 100 && status < 200 && status !== 101) { this.buf = this.buf.subarray(start); continue; } // 100 Continue
      const lower = headText.toLowerCase();
      const cl = /\r\ncontent-length: *(\d+)/.exec(lower);
      const chunked = /\r\ntransfer-encoding: *chunked/.test(lower);
      const closing = /\r\nconnection: *close/.test(lower) || status === 101;
      let body: Buffer;
      let rest: Buffer;
      if (this.waiting.head || status === 204 || status === 304 || status === 101) {
        body = Buffer.alloc(0);
        rest = this.buf.subarray(start);
      } else if (cl) {
        const n = Number(cl[1]);
        if (this.buf.length - start < n) return;
        body = this.buf.subarray(start, start + n);
        rest = this.buf.subarray(start + n);
      } else if (chunked) {
        const parts: Buffer[] = [];
        let p = start;
        for (;;) {
          const eol = this.buf.indexOf('\r\n', p);
          if (eol < 0) return;
          const size = parseInt(this.buf.subarray(p, eol).toString('latin1'), 16);
          if (!Number.isFinite(size)) { this.finish({ status, body: '', closed: false, timedOut: false }); this.close(); return; }
          if (size === 0) {
            const fin = this.buf.indexOf('\r\n', eol + 2);
            if (fin < 0) return;
            p = fin + 2;
            break;
          }
          if (this.buf.length < eol + 2 + size + 2) return;
          parts.push(this.buf.subarray(eol + 2, eol + 2 + size));
          p = eol + 2 + size + 2;
        }
        body = Buffer.concat(parts);
        rest = this.buf.subarray(p);
      } else {
        return; // until the close: answered by the 'close' handler with what came
      }
      this.buf = Buffer.from(rest);
      this.finish({ status, body: body.toString('utf8'), closed: false, timedOut: false });
      if (closing) this.close();
      return;
    }
  }
}

/** Sends raw bytes on a connection of their own: the status, or 0 when the server closed / said nothing in time. */
function rawOnce(port: number, bytes: Buffer, timeoutMs = RAW_TIMEOUT_MS): Promise<Answer> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    let done = false;
    const finish = (a: Answer) => { if (done) return; done = true; clearTimeout(t); s.destroy(); resolve(a); };
    const t = setTimeout(() => finish({ status: statusOf(buf), body: bodyOf(buf), closed: false, timedOut: true }), timeoutMs);
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const st = statusOf(buf);
      const head = buf.indexOf('\r\n\r\n');
      if (st > 0 && head >= 0) {
        const cl = /\r\ncontent-length: *(\d+)/i.exec(buf.slice(0, head));
        if (st === 101 || !cl || buf.length - head - 4 >= Number(cl[1])) finish({ status: st, body: bodyOf(buf), closed: false, timedOut: false });
      }
    });
    s.on('error', () => finish({ status: statusOf(buf), body: bodyOf(buf), closed: true, timedOut: false }));
    s.on('close', () => finish({ status: statusOf(buf), body: bodyOf(buf), closed: true, timedOut: false }));
    s.write(bytes);
  });
}
const statusOf = (buf: string) => { const m = /^HTTP\/1\.\d (\d{3})/.exec(buf); return m ? Number(m[1]) : 0; };
const bodyOf = (buf: string) => { const i = buf.indexOf('\r\n\r\n'); return i < 0 ? '' : Buffer.from(buf.slice(i + 4), 'latin1').toString('utf8'); };

function headLength(b: Buffer): number {
  const i = b.indexOf('\r\n\r\n');
  return i < 0 ? b.length : i;
}

function safeJson(s: string): unknown {
  try { return JSON.parse(s); } catch { return null; }
}

// ---- the money state ----

const BET_KEY = /\}:(recs|users|uidx|gross|net|ustake|idem)$|\}:ub:|^user:.*:periods$/;
const SETTLE_KEY = /\}:(pay|wusers|wamt)$/;
const RESULT_KEY = /^precalc_5d_result:fiveD:\d+:[^:]+:\d{17}$/;
const META_KEY = /\}:meta$/;

/** A digest per key of what money depends on (volatile keys — lease, epoch, claims, heartbeats, history — left out). */
export async function moneyState(r: Redis): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const keys = (await r.keys('*')).sort();
  for (const k of keys) {
    let v: string | null = null;
    if (k.startsWith('wallet:') || BET_KEY.test(k) || SETTLE_KEY.test(k) || RESULT_KEY.test(k)) {
      const type = await r.type(k);
      if (type === 'hash') v = JSON.stringify(Object.entries(await r.hgetall(k)).sort());
      else if (type === 'string') v = ((await r.getBuffer(k)) ?? Buffer.alloc(0)).toString('hex');
      else if (type === 'list') v = JSON.stringify(await r.lrange(k, 0, -1));
      else if (type === 'zset') v = JSON.stringify(await r.zrange(k, 0, -1, 'WITHSCORES'));
      else if (type === 'set') v = JSON.stringify((await r.smembers(k)).sort());
      else if (type === 'none') continue;
      else v = type;
    } else if (META_KEY.test(k)) {
      // a period's void flag and reason: an operator void is the one change a period can get from HTTP
      const [isVoid, reason] = await r.hmget(k, 'void', 'reason');
      v = JSON.stringify([isVoid, reason]);
    }
    if (v !== null) out.set(k, createHash('sha256').update(v).digest('hex').slice(0, 16) + (v.length < 200 ? ` ${v}` : ''));
  }
  return out;
}

/** What changed: keys of before whose digest differs or that vanished; new bet or wallet keys. */
export function stateDiff(before: Map<string, string>, after: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of before) {
    const a = after.get(k);
    if (a === undefined) {
      // a result or a per-period key may expire only after a day: within a run nothing vanishes
      out.push(`${k} vanished`);
    } else if (a !== v) out.push(`${k}: ${v.slice(0, 120)} → ${a.slice(0, 120)}`);
  }
  for (const [k, a] of after) {
    if (before.has(k)) continue;
    if (k.startsWith('wallet:') || BET_KEY.test(k)) out.push(`new ${k}: ${a.slice(0, 120)}`);
    if (META_KEY.test(k) && !a.endsWith(' [null,null]') && !/no commitment/.test(a)) out.push(`new void period ${k}: ${a.slice(0, 120)}`);
  }
  return out;
}

export async function runHttpFuzz(o: HttpFuzzOptions): Promise<HttpFuzzResult> {
  const log = o.log ?? (() => undefined);
  const rnd = prng(o.seed ?? 0x4e77);
  const ri = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const pickOf = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const chance = (p: number) => rnd() < p;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fived-fuzz-http-'));
  const t0 = Date.now();
  const evidence: string[] = [];
  const byCategory: Record<string, number> = {};
  const byStatus: Record<string, number> = {};
  let violations = 0;
  let inputs = 0;
  let exits = 0;
  const bad = (why: string) => {
    violations += 1;
    if (evidence.length < 60) evidence.push(why);
  };

  const procs: Proc[] = [];
  let redis: Redis | null = null;
  let redisServer: TestRedis | null = null;
  const conns: Conn[] = [];
  try {
    redisServer = await startRedis({ dir }); // as in production: an ACL user with a password
    const redisUrl = redisServer.url;
    const gwPort = await freePort();
    const schedPort = await freePort();
    const base: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('FIVED_')) base[k] = v;
    const env: NodeJS.ProcessEnv = {
      ...base, FIVED_REDIS_URL: redisUrl, FIVED_HOST: '127.0.0.1', FIVED_DURATIONS: DURATIONS.join(','), FIVED_FREEZE_MS: String(FREEZE_MS),
      FIVED_SETTLE_GRACE_MS: '1000', FIVED_JWT_SECRET: JWT_SECRET, FIVED_OPERATOR_TOKEN: OPERATOR, FIVED_LOG_LEVEL: 'warn', FIVED_DRAIN_MS: '500',
      // per-IP limits (when present) off: every input comes from 127.0.0.1; a 429 is still a valid answer
      FIVED_HTTP_RATE_PER_IP: '0', FIVED_MAX_CONNS_PER_IP: '0', FIVED_OPERATOR_FAILURES_PER_MIN: '0', FIVED_DEMO_SESSIONS_PER_IP: '0',
      FIVED_SEED_KEY: randomBytes(32).toString('hex'),
    };
    const gw = startFived('fuzz-http-gateway', ['gateway'], { env: { ...env, FIVED_PORT: String(gwPort), FIVED_INSTANCE: 'fuzz-http-gw' }, logFile: path.join(dir, 'gateway.log') });
    const sched = startFived('fuzz-http-scheduler', ['scheduler'], { env: { ...env, FIVED_SCHEDULER_PORT: String(schedPort), FIVED_INSTANCE: 'fuzz-http-sched' }, logFile: path.join(dir, 'scheduler.log') });
    procs.push(gw, sched);
    const live = [gw, sched];
    if (!(await waitFor(async () => !gw.alive() || (await httpRequest(gwPort, '/ready', { timeoutMs: 1000 })).status === 200, 30_000)) || !gw.alive()) throw new Error(`fuzz gateway did not start; see ${dir}`);
    if (!(await waitFor(async () => !sched.alive() || (await httpRequest(schedPort, '/health', { timeoutMs: 1000 })).status === 200, 30_000)) || !sched.alive()) throw new Error(`fuzz scheduler did not start; see ${dir}`);
    const committed = await waitFor(async () => {
      const list = safeJson((await httpRequest(gwPort, '/api/rooms')).body) as Array<{ commitment: string | null }> | null;
      return Array.isArray(list) && list.length === DURATIONS.length && list.every((x) => typeof x.commitment === 'string');
    }, 30_000, 200);
    if (!committed) throw new Error('the fuzz gateway announced no committed period within 30 s');
    redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3 });
    await redis.connect();

    // ---- state to protect: deposits, bets, settled results ----
    const rooms = DURATIONS.map((d) => `fiveD_${d}`);
    const win = (room: string, at = Date.now()) => periodAt(at, { duration: Number(room.slice(6)), freezeMs: FREEZE_MS, dayStart: { minutes: 0, offsetMinutes: 0 } });
    const opHeaders = { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' };
    for (const u of ['fzh-a', 'fzh-b']) {
      const r = await httpRequest(gwPort, '/api/wallet/credit', { method: 'POST', headers: opHeaders, body: JSON.stringify({ userId: u, amount: 1_000_000, depositId: `fzh-dep-${u}` }) });
      if (r.status !== 200) throw new Error(`credit failed: ${r.status} ${r.body}`);
    }
    const seededPeriods: Array<{ room: string; periodId: string }> = [];
    for (let round = 0; round < 1; round++) {
      for (const room of rooms) {
        let w = win(room);
        if (Date.now() > w.freezeAt - 300) { await new Promise((r) => setTimeout(r, w.endsAt - Date.now() + 50)); w = win(room); }
        for (let i = 0; i < 5; i++) {
          const body = { userId: i % 2 ? 'fzh-a' : 'fzh-b', room, periodId: w.periodId, kind: pickOf(['A', 'B', 'SUM']), pick: pickOf(['big', 'small', 'odd', 'even']), amount: ri(2, 500), clientBetId: `fzh-seed-${round}-${room}-${i}` };
          const r = await httpRequest(gwPort, '/api/bets', { method: 'POST', headers: opHeaders, body: JSON.stringify(body) });
          if (r.status !== 200) throw new Error(`seed bet failed: ${r.status} ${r.body}`);
        }
        seededPeriods.push({ room, periodId: w.periodId });
      }
    }
    // every seeded period settled: nothing left unfinished or pending, so the state only moves if an input moves it
    const settled = await waitFor(async () => (await redis!.zcard('settle:unfinished')) === 0 && (await redis!.zcard('settle:pending')) === 0, 40_000, 200);
    if (!settled) throw new Error('the seeded bets were not settled within 40 s');
    const before = await moneyState(redis);
    const tFuzz = Date.now();
    log(`http fuzz: processes up and state seeded in ${((tFuzz - t0) / 1000).toFixed(1)} s`);

    // ---- generators ----
    const past = (room: string) => win(room, Date.now() - ri(1, 20) * Number(room.slice(6)) * 1000).periodId;
    const roomSeg = (): string => pickOf([
      pickOf(rooms), pickOf(rooms), 'fiveD_7', 'fiveD_05', 'FIVED_3', '', '.', '..', '%2e%2e', '%2E', '__proto__', 'constructor', 'x'.repeat(ri(100, 3000)),
      '%E0%A4%A', '%E0', '%', '%ZZ', '%C0%AE%C0%AE', '%C0%AF', '%ED%A0%80', '%F4%90%80%80', '%FF', '%00', '%66iveD_3', 'fiveD_3%00', 'fiveD_3%20', '%F0%9F%92%A5', 'ü', '💥', 'fiveD_3;x=1', 'fiveD_3%2F..',
    ]);
    const periodSeg = (room: string): string => {
      const valid = /^fiveD_(3|5)$/.test(room) ? room : pickOf(rooms);
      return pickOf([
        win(valid).periodId, past(valid), seededPeriods.length ? pickOf(seededPeriods).periodId : past(valid), String(BigInt(win(valid).periodId) + BigInt(ri(1, 30))),
        '1', '-1', '0', '00000000000000000', '99999999999999999', '202601010000000001', '1e17', '%31%32', '%E0%A4%A', '%', '%C0%B1', 'NaN', '', 'x'.repeat(ri(18, 400)), '٣٣٣٣٣٣٣٣٣٣٣٣٣٣٣٣٣',
      ]);
    };
    const limitQ = () => pickOf(['', '?limit=1', '?limit=100', '?limit=101', '?limit=0', '?limit=-1', '?limit=1.5', '?limit=1e2', '?limit=NaN', '?limit=', '?limit=%E0', '?limit=1&limit=2', '?__proto__=1&limit=5', `?limit=${'9'.repeat(400)}`, '?%=%', '?&&&=', '?token=x', `?${'a=b&'.repeat(ri(10, 500))}`]);
    const mutatePath = (p: string): string => {
      const r = rnd();
      if (r < 0.55) return p;
      if (r < 0.62) return p.replace(/^\/api\//, pickOf(['/api/./', '/api//', '/api/x/../', '/./api/', '//api/', '/API/', '/api%2F', '/%61pi/']));
      if (r < 0.68) return p + pickOf(['/', '//', '/.', '/..', '/../..', '?', '#frag', '%', '%00', '%E0']);
      if (r < 0.74) return p.replace(/\/[^/]*$/, (m) => m + pickOf(['%2F..%2F..', '/../../../../etc/passwd', '%252e%252e', '\\..\\..']));
      if (r < 0.80) return p.toUpperCase();
      if (r < 0.86) return `${p}${'/a'.repeat(ri(10, 400))}`;
      if (r < 0.93) return p + limitQ();
      return p.split('').map((c) => (c !== '/' && chance(0.3) ? `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}` : c)).join('');
    };
    type Auth = 'none' | 'wrong' | 'right';
    const authHeader = (a: Auth): string | null => {
      if (a === 'none') return chance(0.8) ? null : pickOf(['', 'Bearer', 'Bearer ']);
      if (a === 'right') return `Bearer ${OPERATOR}`;
      return pickOf([`Bearer ${OPERATOR}x`, `Bearer ${OPERATOR.slice(0, -1)}`, `bearer ${OPERATOR}`, `Bearer  ${OPERATOR}`, `Basic ${Buffer.from(`x:${OPERATOR}`).toString('base64')}`, `Bearer ${OPERATOR.toUpperCase()}`, 'Bearer x', `Bearer ${'x'.repeat(ri(100, 6000))}`, `${OPERATOR}`]); // (trailing whitespace is not wrong: HTTP trims it from a header value)
    };
    const invalidOf: Record<string, unknown[]> = {
      userId: [5, '', 'bad id', 'x'.repeat(200), null, {}, [], 'ü', 'a/b', '__proto__ '],
      amount: [0, -1, -0.5, 1.5, '100', null, true, 2 ** 53, 1e300, [], {}, 'NaN'],
      depositId: ['', 'x'.repeat(200), 5, null, [], {}],
      room: [5, '', 'fiveD_7', 'x'.repeat(40), '../etc', null, 'fiveD_ 3'],
      periodId: ['1', 5, null, '9'.repeat(18), '', 'x'.repeat(17)],
      kind: ['F', '', 5, null, 'sum', '__proto__'],
      pick: ['huge', 10, -1, null, '', 1.5, []],
      clientBetId: ['', 'x'.repeat(65), 5, null, [], {}],
      reason: ['', '   ', 5, null, 'x'.repeat(201), {}, [], true],
    };
    const validCredit = () => ({ userId: pickOf(['fzh-a', 'fzh-b', 'fzh-victim']), amount: ri(1, 10_000), depositId: `fzh-x-${ri(0, 1e9)}` });
    const validBet = () => { const room = pickOf(rooms); return { userId: pickOf(['fzh-a', 'fzh-b']), room, periodId: win(room).periodId, kind: 'SUM', pick: pickOf(['big', 'small']), amount: ri(2, 100), clientBetId: `fzh-b-${ri(0, 1e9)}` }; };
    /** a body the operator route must refuse (it carries the right token): a broken field, broken JSON, or not an object */
    const brokenBody = (kind: 'credit' | 'bet' | 'void'): string => {
      const r = rnd();
      if (r < 0.25) return pickOf(['', '{', '}', 'null', '[]', '[{}]', '"x"', '5', 'true', '{"a":', '\u0000', '{"userId":"fzh-a",}', `${'['.repeat(ri(100, 3000))}`, '\xff\xfe{}', 'x'.repeat(ri(1, 3000))]);
      if (r < 0.30) return `{"__proto__":{"amount":5},"constructor":{"prototype":{"x":1}}${kind === 'void' ? '' : ',"userId":5'}}`;
      const o: Record<string, unknown> = kind === 'credit' ? validCredit() : kind === 'bet' ? validBet() : { reason: 'fuzz' };
      const fields = Object.keys(o);
      const n = ri(1, Math.min(3, fields.length));
      for (let i = 0; i < n; i++) {
        const f = pickOf(fields);
        if (chance(0.2) && kind !== 'void') delete o[f];
        else o[f] = pickOf(invalidOf[f]!);
      }
      if (kind === 'void' && 'reason' in o && typeof o.reason === 'string' && o.reason.trim() !== '' && o.reason.length <= 200) delete o.reason;
      return JSON.stringify(o);
    };
    const anyBody = (): string => pickOf([
      JSON.stringify(validCredit()), JSON.stringify(validBet()), JSON.stringify({ reason: 'fuzz void' }), brokenBody('credit'), brokenBody('bet'), brokenBody('void'),
      JSON.stringify({ a: 'x'.repeat(ri(1000, 5000)) }), '',
    ]);
    // over the 64 KiB body limit (413): rarer, it is the most bytes to send
    const anyBodyOrHuge = (): string => (chance(0.02) ? 'x'.repeat(ri(65_537, 80_000)) : anyBody());

    const build = (method: string, p: string, headers: Array<[string, string]>, body: string | null, chunked = false): Buffer => {
      const hs: Array<[string, string]> = [['Host', chance(0.9) ? '127.0.0.1' : pickOf(['', 'x'.repeat(300), 'évil', '[::1]:99999'])], ...headers];
      const b = body === null ? null : Buffer.from(body, body.startsWith('\xff') ? 'latin1' : 'utf8');
      if (b && chunked) hs.push(['Transfer-Encoding', 'chunked']);
      else if (b) hs.push(['Content-Length', String(b.length)]);
      const head = `${method} ${p} HTTP/1.1\r\n${hs.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;
      if (!b) return Buffer.from(head, 'utf8');
      if (!chunked) return Buffer.concat([Buffer.from(head, 'utf8'), b]);
      const parts: Buffer[] = [Buffer.from(head, 'utf8')];
      for (let i = 0; i < b.length; i += 1000) { const c = b.subarray(i, i + 1000); parts.push(Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n')); }
      parts.push(Buffer.from('0\r\n\r\n'));
      return Buffer.concat(parts);
    };
    const extraHeaders = (): Array<[string, string]> => {
      const out: Array<[string, string]> = [];
      const n = chance(0.6) ? 0 : ri(1, 6);
      for (let i = 0; i < n; i++) {
        out.push(pickOf<[string, string]>([
          ['Content-Type', pickOf(['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '', 'application/json; charset=utf-16', 'x'.repeat(500)])],
          ['X-Forwarded-For', pickOf(['1.2.3.4', 'unknown', '::1, 10.0.0.1', 'x'.repeat(200)])],
          ['Cookie', `a=${'b'.repeat(ri(1, 2000))}`], ['Accept', '*/*'], ['Origin', pickOf(['http://evil', 'null', ''])],
          ['Connection', pickOf(['keep-alive', 'Upgrade'])], ['Accept-Encoding', 'gzip, br'], ['Range', 'bytes=0-1'],
          ['X-Fuzz', String.fromCharCode(...Array.from({ length: ri(1, 100) }, () => ri(0x20, 0x7e)))], ['If-None-Match', '*'],
          ['Expect', '100-continue'], ['X-Http-Method-Override', 'DELETE'], ['Authorization', `Bearer ${OPERATOR}x`],
        ]));
      }
      return out;
    };

    const gatewayInput = (): Input => {
      const r = rnd();
      let method = pickOf(['GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']);
      let cat: string;
      let p: string;
      let auth: Auth = pickOf<Auth>(['none', 'wrong', 'right']);
      let body: string | null = null;
      let okAllowed = true;
      if (r < 0.26) {
        // the operator routes: no token / wrong token with any body, the right token with a broken one
        cat = 'operator';
        const which = pickOf(['credit', 'bet', 'void', 'liability', 'demo'] as const);
        const room = roomSeg();
        if (which === 'credit') p = '/api/wallet/credit';
        else if (which === 'bet') p = '/api/bets';
        else if (which === 'demo') p = '/api/demo/session';
        else p = `/api/rooms/${room}/periods/${periodSeg(room)}/${which === 'void' ? 'void' : 'liability'}`;
        if (which !== 'liability') method = chance(0.8) ? 'POST' : method;
        else method = chance(0.8) ? 'GET' : method;
        if (method === 'POST' || method === 'PUT' || method === 'PATCH') body = auth === 'right' ? brokenBody(which === 'credit' ? 'credit' : which === 'bet' ? 'bet' : 'void') : anyBodyOrHuge();
        cat = `operator_${auth}`;
        okAllowed = which === 'liability' && auth === 'right'; // a liability report reads; nothing else may succeed
      } else if (r < 0.56) {
        cat = 'public_api';
        const room = roomSeg();
        p = pickOf([`/api/rooms/${room}/periods${limitQ()}`, `/api/rooms/${room}/periods/${periodSeg(room)}`, '/api/rooms', '/api/time', `/api/rooms/${room}`, `/api/rooms/${room}/periods/${periodSeg(room)}/x`]);
        if (method === 'POST' || method === 'PUT' || method === 'PATCH') body = anyBodyOrHuge();
      } else if (r < 0.66) {
        cat = 'health_static';
        p = pickOf(['/health', '/ready', '/', '/index.html', '/app.js', '/style.css', '/fived-client.js', '/app.js.map', '/metrics', '/ws', '/favicon.ico', '/.env', '/index.html%00.js', '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fpackage.json', '/dist/../package.json']);
        if (p === '/metrics' && chance(0.8)) p = '/health'; // rendering metrics is the heaviest route: keep it rare
        if (method === 'POST' || method === 'PUT' || method === 'PATCH') body = anyBodyOrHuge();
      } else if (r < 0.90) {
        cat = 'paths';
        const room = roomSeg();
        p = mutatePath(pickOf([`/api/rooms/${room}/periods`, `/api/rooms/${room}/periods/${periodSeg(room)}`, `/api/rooms/${room}/periods/${periodSeg(room)}/liability`, `/api/rooms/${room}/periods/${periodSeg(room)}/void`, '/api/bets', '/api/wallet/credit', '/api/demo/session', '/health', '/api/time']));
        if (/\/(void|bets|credit)/i.test(p) && auth === 'right' && (method === 'POST' || method === 'PUT' || method === 'PATCH')) body = brokenBody(/void/i.test(p) ? 'void' : /bets/i.test(p) ? 'bet' : 'credit');
        else if (method === 'POST' || method === 'PUT' || method === 'PATCH') body = anyBodyOrHuge();
        okAllowed = !/\/(void|bets|credit)/i.test(p) || method !== 'POST';
      } else {
        cat = 'unicode_paths';
        const seg = () => pickOf(['ü', '💥', '\u202e', 'ﬀ', '../', '%C3%BC', '%F0%9F%92%A5', '%E2%80%AE', '%EF%BF%BF', '%F8%88%80%80%80', '%C1%BF', '%E0%80%AF']);
        p = `/api/rooms/${seg()}${chance(0.5) ? `/periods/${seg()}` : '/periods'}${chance(0.3) ? seg() : ''}`;
        if (method === 'POST') { body = anyBodyOrHuge(); auth = auth === 'right' ? 'wrong' : auth; }
      }
      if (!p.startsWith('/')) p = `/${p}`;
      // the right token only ever carries a body every operator route refuses (whatever the path turns out to match)
      if (auth === 'right' && body !== null && cat !== 'operator_right') body = brokenBody(pickOf(['credit', 'bet', 'void'] as const));
      const headers: Array<[string, string]> = [];
      const a = authHeader(auth);
      if (a !== null) headers.push(['Authorization', a]);
      if (body !== null && chance(0.9)) headers.push(['Content-Type', 'application/json']);
      for (const h of extraHeaders()) { if (h[0] === 'Authorization' && auth === 'right') continue; headers.push(h); }
      const chunked = body !== null && chance(0.1);
      const bytes = build(method, p, headers, body, chunked);
      return { cat, target: 'gateway', bytes, head: method === 'HEAD', raw: false, okAllowed, big: headLength(bytes) > 3800, what: `${method} ${p.slice(0, 120)} [${auth}]${body !== null ? ` ${body.slice(0, 80)}` : ''}` };
    };

    const schedulerInput = (): Input => {
      const method = pickOf(['GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']);
      let p = pickOf(['/health', '/ready', '/health', '/ready', '/metrics', '/', '/nope', '/health/', '/ready?x=1', '/%E0%A4%A', '/../../etc/passwd', '/%2e%2e/', `/${'x'.repeat(ri(100, 4000))}`, '/health#x', '/ü', '/%C0%AE', `/ready?${'a'.repeat(ri(1, 3000))}`]);
      if (p === '/metrics' && chance(0.7)) p = '/health';
      const body = method === 'POST' || method === 'PUT' || method === 'PATCH' ? anyBody() : null;
      const headers: Array<[string, string]> = [...extraHeaders()];
      if (chance(0.3)) headers.push(['Authorization', authHeader(pickOf<Auth>(['wrong', 'right'])) ?? '']);
      const bytes = build(method, p, headers, body, body !== null && chance(0.1));
      return { cat: 'scheduler', target: 'scheduler', bytes, head: method === 'HEAD', raw: false, okAllowed: true, big: headLength(bytes) > 3800, what: `${method} ${p.slice(0, 100)}` };
    };

    const rawInput = (): Input => {
      const target: Input['target'] = chance(0.75) ? 'gateway' : 'scheduler';
      const room = pickOf(rooms);
      const bytes = pickOf<() => Buffer>([
        () => Buffer.from(`${pickOf(['PROPFIND', 'TRACE', 'CONNECT', 'GET\u0000', 'G\tET', 'get', 'BREW', 'M'.repeat(ri(20, 2000)), ''])} /api/time HTTP/1.1\r\nHost: x\r\n\r\n`),
        () => Buffer.from(`GET /api/rooms/${room}/periods HTTP/${pickOf(['1.0', '0.9', '2.0', '1.1x', '9', ''])}\r\nHost: x\r\n\r\n`),
        () => Buffer.from(`GET ${pickOf(['', ' ', '*', 'http://evil/', 'api/time', '/api/time /x'])} HTTP/1.1\r\nHost: x\r\n\r\n`),
        () => Buffer.from(`GET /api/rooms/${'%E0%A4%A'.repeat(ri(1, 5000))}/periods HTTP/1.1\r\nHost: x\r\n\r\n`),
        () => Buffer.from(`GET /${'a'.repeat(ri(8_000, 120_000))} HTTP/1.1\r\nHost: x\r\n\r\n`),
        () => Buffer.concat([Buffer.from('GET /api/rooms/'), Buffer.from(Array.from({ length: ri(1, 60) }, () => ri(0x80, 0xff))), Buffer.from('/periods HTTP/1.1\r\nHost: x\r\n\r\n')]),
        () => Buffer.from(Array.from({ length: ri(1, 3000) }, () => ri(0, 255))),
        () => Buffer.from(`GET /api/time HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(ri(10_000, 200_000))}\r\n\r\n`),
        () => Buffer.from(`GET /api/time HTTP/1.1\r\n${Array.from({ length: ri(100, 500) }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`),
        () => Buffer.from(`GET /api/time HTTP/1.1\r\nHost: x\r\nBad Header\r\n: empty\r\nX-\u0000: y\r\n\r\n`),
        () => Buffer.from(`POST /api/wallet/credit HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${OPERATOR}\r\nContent-Length: ${ri(50, 100_000)}\r\n\r\n{"userId":"fzh-a"`),
        () => Buffer.from(`POST /api/bets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${OPERATOR}\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n{"a":1}`),
        () => Buffer.from(`POST /api/bets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${OPERATOR}\r\nTransfer-Encoding: chunked\r\n\r\n${pickOf(['zz\r\n{}\r\n0\r\n\r\n', '5\r\n{}\r\n', 'fffffffffffffffff\r\n', '-1\r\n\r\n', '2\r\n{}'])}`),
        () => Buffer.from(`POST /api/wallet/credit HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${OPERATOR}\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n`),
        () => Buffer.from(`POST /api/rooms/${room}/periods/${win(room).periodId}/void HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${OPERATOR}\r\nContent-Length: ${ri(-5, -1)}\r\n\r\n{"reason":"x"}`),
        () => Buffer.from(`GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${pickOf(['', 'x', 'dGhlIHNhbXBsZSBub25jZQ==', 'x'.repeat(300)])}\r\nSec-WebSocket-Version: ${pickOf(['13', '8', '', 'x'])}\r\nSec-WebSocket-Protocol: ${pickOf(['fived', 'fived, fived.jwt.x', `fived.jwt.${'a'.repeat(ri(1, 5000))}`, ',,,', ''])}\r\n\r\n`),
        () => Buffer.from(`GET /ws?token=${pickOf(['%E0%A4%A', 'x'.repeat(ri(1, 3000)), 'a.b.c', ''])}&format=${pickOf(['json', '%', ''])} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: ${pickOf(['http://evil', '\u0000', ''])}\r\n\r\n`),
        () => Buffer.from('GET /api/time HTTP/1.1\r\nHost: x\r\n\r\nGET /api/rooms HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n'),
        () => Buffer.from('GET /api/time HTTP/1.1\nHost: x\n\n'),
        () => Buffer.from(`GET /api/time HTTP/1.1\r\nHost: x\r\n${' '.repeat(ri(1, 100))}folded: y\r\n\r\n`),
      ])();
      return { cat: 'raw', target, bytes, head: false, raw: true, okAllowed: true, big: true, what: `raw ${bytes.subarray(0, 80).toString('latin1').replace(/[^\x20-\x7e]/g, '.')}` };
    };

    const gen = (): Input => {
      const r = rnd();
      if (r < 0.004) return rawInput();
      if (r < 0.15) return schedulerInput();
      return gatewayInput();
    };

    // ---- judging an answer ----
    const judge = (inp: Input, a: Answer): void => {
      const key = a.timedOut ? 'timeout' : a.status === 0 ? 'closed' : String(a.status);
      byStatus[key] = (byStatus[key] ?? 0) + 1;
      byCategory[inp.cat] = (byCategory[inp.cat] ?? 0) + 1;
      inputs += 1;
      if (a.status === 0 || a.status === -1) {
        if (!inp.raw && !(inp.big && !a.timedOut)) bad(`${inp.cat}: ${a.timedOut ? 'no answer in time' : a.status === -1 ? `not HTTP: ${a.body}` : 'connection closed without an answer'} to ${inp.what}`);
        return;
      }
      if (a.status === 101) {
        if (!inp.raw) bad(`${inp.cat}: 101 to ${inp.what}`);
        return;
      }
      if (a.status >= 500 && a.status !== 503) { bad(`${inp.cat}: ${a.status} ${a.body.slice(0, 160)} to ${inp.what}`); return; }
      if (a.status >= 200 && a.status < 300) {
        if (!inp.okAllowed) bad(`${inp.cat}: ${a.status} (a state-changing route accepted) ${a.body.slice(0, 160)} to ${inp.what}`);
        return;
      }
      if (a.status >= 400 && !inp.head) {
        const j = safeJson(a.body) as { code?: unknown; message?: unknown; ready?: unknown } | null;
        const coded = j !== null && typeof j === 'object' && CODES.has(String(j.code)) && typeof j.message === 'string';
        // /ready's 503 is its readiness report, not an error body
        if (!coded && !(a.status === 503 && j !== null && typeof j === 'object' && 'ready' in j)) {
          // uWS itself answers what it cannot parse (431, 400) before any handler: raw inputs only
          if (!inp.big) bad(`${inp.cat}: ${a.status} without a coded body (${a.body.slice(0, 120)}) to ${inp.what}`);
        }
      }
    };

    const alive = async (): Promise<boolean> => {
      let ok = true;
      for (const p of live) if (!p.alive()) { ok = false; }
      if (!ok) return false;
      const [h1, h2] = await Promise.all([httpRequest(gwPort, '/health', { timeoutMs: 5000 }), httpRequest(schedPort, '/health', { timeoutMs: 5000 })]);
      if (h1.status !== 200) bad(`gateway /health ${h1.status} after a batch`);
      if (h2.status !== 200) bad(`scheduler /health ${h2.status} after a batch`);
      return true;
    };

    // ---- the run: batches over keep-alive connections, raw inputs on their own ----
    const parallel = o.parallel ?? 48;
    for (let i = 0; i < parallel; i++) conns.push(new Conn(i % 6 === 5 ? schedPort : gwPort));
    const gwConns = conns.filter((_, i) => i % 6 !== 5);
    const schedConns = conns.filter((_, i) => i % 6 === 5);
    let lastLog = Date.now();
    let stopped = false;
    while (inputs < o.count && !stopped) {
      const n = Math.min(BATCH, o.count - inputs);
      const batch = Array.from({ length: n }, gen);
      const queues = { gateway: batch.filter((x) => !x.raw && x.target === 'gateway'), scheduler: batch.filter((x) => !x.raw && x.target === 'scheduler'), raw: batch.filter((x) => x.raw) };
      const drain = async (c: Conn, q: Input[]) => {
        for (let x = q.shift(); x; x = q.shift()) {
          let a = await c.send(x.bytes, x.head);
          // the server closed a kept-alive connection just as this request went out: once more on a fresh one
          if (a.closed && a.status === 0 && c.reused) a = await c.send(x.bytes, x.head);
          judge(x, a);
          if (x.big) c.close(); // uWS may close after refusing an oversized head
        }
      };
      const drainRaw = async () => {
        for (let x = queues.raw.shift(); x; x = queues.raw.shift()) judge(x, await rawOnce(x.target === 'gateway' ? gwPort : schedPort, x.bytes));
      };
      await Promise.all([...gwConns.map((c) => drain(c, queues.gateway)), ...schedConns.map((c) => drain(c, queues.scheduler)), ...Array.from({ length: 8 }, drainRaw)]);
      if (!(await alive())) {
        for (const p of live) if (!p.alive()) { exits += 1; bad(`${p.name} exited during the batch ending at input ${inputs}; see ${dir}`); }
        stopped = true;
      }
      if (Date.now() - lastLog > 5000) {
        lastLog = Date.now();
        log(`http fuzz: ${inputs} inputs, ${violations} violations`);
      }
    }
    for (const c of conns) c.close();

    // ---- the verdict: alive, answering, and the money state untouched ----
    for (const p of live) if (!p.alive() && !stopped) { exits += 1; bad(`${p.name} exited`); }
    const rooms200 = await httpRequest(gwPort, '/api/rooms');
    if (rooms200.status !== 200) bad(`gateway /api/rooms ${rooms200.status} after the fuzz`);
    const after = await moneyState(redis);
    const diff = stateDiff(before, after);
    for (const d of diff.slice(0, 20)) bad(`state changed: ${d}`);
    if (diff.length > 20) bad(`state changed: … and ${diff.length - 20} more keys`);

    const ms = Date.now() - t0;
    const text = [
      `HTTP fuzz: ${inputs} inputs in ${(ms / 1000).toFixed(1)} s (setup ${((tFuzz - t0) / 1000).toFixed(1)} s; ${Math.round(inputs / ((ms - (tFuzz - t0)) / 1000))}/s) against a gateway and a scheduler, ${exits} process exits, ${diff.length} money-state keys changed (of ${before.size} compared), ${violations} violations`,
      '',
      '| input category | count |',
      '|---|---|',
      ...Object.entries(byCategory).sort((a, b) => b[1] - a[1]).map(([k, v]) => `| ${k} | ${v} |`),
      '',
      '| answer | count |',
      '|---|---|',
      ...Object.entries(byStatus).sort((a, b) => b[1] - a[1]).map(([k, v]) => `| ${k} | ${v} |`),
      ...(evidence.length ? ['', 'Violations:', ...evidence.map((e) => `  - ${e}`)] : []),
    ].join('\n');
    return { inputs, exits, violations, stateChanges: diff.length, byCategory, byStatus, evidence, ms, text };
  } finally {
    for (const c of conns) c.close();
    await redis?.quit().catch(() => undefined);
    for (const p of procs.reverse()) await p.stop(3000);
    await redisServer?.stop();
    await stopAll();
  }
}
