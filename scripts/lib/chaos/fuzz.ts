// The gateway fuzzer: a seeded generator of malformed inputs (WebSocket frames, upgrade requests,
// HTTP requests), sent in batches over many connections to two real gateways on a Redis of their
// own — one with a generous rate limit for the bulk, one with a low one for the floods. Every
// input must be answered by a coded error (src/errors.ts), a documented close (docs/protocol.md),
// or — for the few valid bets mixed in — an acknowledgement; the processes stay up, their memory
// flat, and the store holds nothing but the valid bets.

import { Packr } from 'msgpackr';
import net from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { SignJWT } from 'jose';
import { periodAt } from '../../../src/core/clock.js';
import { ErrorCode } from '../../../src/errors.js';
import { RedisStore } from '../../../src/store/redis.js';
import { startFived } from '../../../test/support/fived.js';
import { startRedis, type TestRedis } from '../../../test/support/redis.js';
import { freePort } from '../../../test/support/ports.js';
import { httpRequest, rssOf, sleep, stopAll, waitFor, type Proc } from '../../../test/support/procs.js';
import { tokenFor } from './fleet.js';

const CODES = new Set<string>(Object.values(ErrorCode));
/** close codes documented in docs/protocol.md (1006: no close frame, e.g. a frame far over the limit; 1007: not UTF-8) */
const DOCUMENTED_CLOSES = new Set([1000, 1001, 1006, 1007, 1008, 1009, 4000, 4001, 4002, 4003]);
const JWT_SECRET = 'fuzz-secret-0123456789abcdef';
const OPERATOR = 'fuzz-operator-token-0123456789abcdef'; // >= 32 characters (config)
const DURATIONS = [4, 6];
const FREEZE_MS = 1000;
const MAX_PAYLOAD = 16 * 1024;

export interface FuzzOptions {
  count: number;
  seed?: number;
  log?: (l: string) => void;
  /** concurrent connections */
  parallel?: number;
}

export interface FuzzResult {
  inputs: number;
  violations: number;
  byCategory: Record<string, number>;
  evidence: string[];
  rssStart: number;
  rssEnd: number;
  rssGrowth: number;
  ms: number;
  text: string;
  notes: string[];
  validBets: number;
}

/** mulberry32: small, fast, seeded. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Frame = {
  data: Buffer | string; binary: boolean; id: number | null; expect: 'error' | 'ack-or-error' | 'close' | 'any'; cat: string; malformed: boolean;
  /** a specific answer: this error code, or a duplicate acknowledgement */
  want?: { code?: string; duplicate?: boolean };
};

const packr = new Packr({ useRecords: false, variableMapSize: true });

export async function runFuzz(o: FuzzOptions): Promise<FuzzResult> {
  const log = o.log ?? (() => undefined);
  const rnd = prng(o.seed ?? 0xf1ed);
  const ri = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const pickOf = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fived-fuzz-'));
  const t0 = Date.now();
  const evidence: string[] = [];
  const byCategory: Record<string, number> = {};
  let violations = 0;
  const notes: string[] = [];
  const bad = (why: string) => {
    violations += 1;
    if (evidence.length < 60) evidence.push(why);
  };
  let inputs = 0;
  const count = (cat: string, n = 1) => { byCategory[cat] = (byCategory[cat] ?? 0) + n; inputs += n; };

  const procs: Proc[] = [];
  let store: RedisStore | null = null;
  let redis: TestRedis | null = null;
  try {
    redis = await startRedis({ dir }); // as in production: an ACL user with a password
    const redisUrl = redis.url;
    const gwPorts = [await freePort(), await freePort()];
    const seedKey = randomBytes(32).toString('hex'); // both gateways seal and unseal the same seeds
    const env = (port: number, rate: number): NodeJS.ProcessEnv => {
      const e: NodeJS.ProcessEnv = {};
      for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('FIVED_')) e[k] = v;
      return {
        ...e, FIVED_REDIS_URL: redisUrl, FIVED_PORT: String(port), FIVED_HOST: '127.0.0.1', FIVED_DURATIONS: DURATIONS.join(','),
        FIVED_FREEZE_MS: String(FREEZE_MS), FIVED_JWT_SECRET: JWT_SECRET, FIVED_OPERATOR_TOKEN: OPERATOR, FIVED_SEED_KEY: seedKey, FIVED_RATE_LIMIT: String(rate),
        FIVED_MAX_PAYLOAD: String(MAX_PAYLOAD), FIVED_LOG_LEVEL: 'warn', FIVED_DRAIN_MS: '500', FIVED_INSTANCE: `fuzz-${port}`,
        // the fuzzer's sockets and requests all come from 127.0.0.1 as one user: limits off (0)
        FIVED_MAX_CONNS_PER_IP: '0', FIVED_HTTP_RATE_PER_IP: '0', FIVED_MAX_SOCKETS_PER_USER: '0', FIVED_USER_BET_RATE: '0', FIVED_MAX_BETS_PER_PERIOD: '0', FIVED_OPERATOR_FAILURES_PER_MIN: '0',
      };
    };
    const gws = gwPorts.map((p, i) => startFived(`fuzz-gateway-${i + 1}`, ['gateway'], { env: env(p, i === 0 ? 100_000 : 20), logFile: path.join(dir, `gateway-${i + 1}.log`) }));
    procs.push(...gws);
    for (let i = 0; i < gws.length; i++) {
      const ok = await waitFor(async () => !gws[i]!.alive() || (await httpRequest(gwPorts[i]!, '/ready', { timeoutMs: 1000 })).status === 200, 30_000);
      if (!ok || !gws[i]!.alive()) throw new Error(`fuzz gateway ${i + 1} did not start; see ${dir}`);
    }
    const port = gwPorts[0]!;
    // the periods open when a gateway starts have no commitment (void): wait for committed ones
    const committed = await waitFor(async () => {
      const r = await httpRequest(port, '/api/rooms');
      const list = safeJson(r.body) as Array<{ commitment: string | null }> | null;
      return Array.isArray(list) && list.length === DURATIONS.length && list.every((x) => typeof x.commitment === 'string');
    }, 30_000, 200);
    if (!committed) throw new Error('the fuzz gateway announced no committed period within 30 s');
    store = new RedisStore({ redisUrl, keyPrefix: '', light: true });
    await store.init();

    // players: funded ones (valid bets, replays) and a broke one
    const users = ['fz-rich', 'fz-poor'];
    let deposits = 0;
    for (const u of users.slice(0, 1)) {
      const r = await httpRequest(port, '/api/wallet/credit', { method: 'POST', body: JSON.stringify({ userId: u, amount: 1_000_000_000, depositId: `d-${u}` }), headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' } });
      if (r.status !== 200) throw new Error(`credit failed: ${r.status} ${r.body}`);
      deposits += 1_000_000_000;
    }
    const tokens = { rich: await tokenFor(JWT_SECRET, 'fz-rich'), poor: await tokenFor(JWT_SECRET, 'fz-poor') };
    const acked = new Map<string, { amount: number; kind: string; pick: unknown; periodId: string; room: string }>();
    const rssStart0 = (await rssOf(gws[0]!.pid)) ?? 0;
    let rssWarm = 0;

    // ---- generators ----
    const rooms = DURATIONS.map((d) => `fiveD_${d}`);
    const win = (room: string, at = Date.now()) => periodAt(at, { duration: Number(room.slice(6)), freezeMs: FREEZE_MS, dayStart: { minutes: 0, offsetMinutes: 0 } });
    let nextId = 1;
    let cbid = 0;
    const weird: unknown[] = [null, true, false, 0, -1, 1.5, 2 ** 53, -(2 ** 63), 1e308, '', 'x'.repeat(200), [], {}, [1, 2], { a: 1 }, '__proto__', 'constructor', '💥', '\u0000'];
    const betBase = (room = pickOf(rooms)) => {
      const w = win(room);
      return { type: 'bet', room, periodId: w.periodId, kind: pickOf(['A', 'B', 'C', 'D', 'E', 'SUM']), pick: pickOf(['big', 'small', 'odd', 'even']), amount: ri(2, 500), clientBetId: `fz${cbid++}` } as Record<string, unknown>;
    };
    const enc = (v: unknown, binary: boolean): Buffer | string => (binary ? packr.pack(v) : JSON.stringify(v));
    /** client bet ids of the inputs that may legitimately be accepted (valid bets, replays) */
    const mayAccept = new Set<string>();
    const catOf = new Map<string, string>();
    const valueFrame = (cat: string, v: Record<string, unknown>, expect: Frame['expect'] = 'error'): Frame => {
      const binary = rnd() < 0.5;
      if (typeof v.clientBetId === 'string') catOf.set(v.clientBetId, `${cat}${'id' in v ? ` (id ${JSON.stringify(v.id)?.slice(0, 20)})` : ''} ${JSON.stringify({ ...v, clientBetId: undefined }).slice(0, 150)}`);
      if (expect === 'ack-or-error' && typeof v.clientBetId === 'string') mayAccept.add(v.clientBetId);
      // a frame that already carries an id (a wrong one) is answered without a trackable id
      if ('id' in v) return { data: enc(v, binary), binary, id: null, expect, cat, malformed: false };
      const id = nextId++;
      return { data: enc({ ...v, id }, binary), binary, id, expect, cat, malformed: false };
    };
    const malformedFrame = (cat: string, data: Buffer | string, binary: boolean): Frame => ({ data, binary, id: null, expect: 'error', cat, malformed: true });

    const generators: Array<[number, () => Frame]> = [
      [10, () => { const b = Buffer.alloc(ri(1, 600)); for (let i = 0; i < b.length; i++) b[i] = ri(0, 255); return malformedFrame('random_bytes', b, true); }],
      [5, () => { let s = ''; const n = ri(1, 300); for (let i = 0; i < n; i++) s += String.fromCharCode(ri(32, 126)); return malformedFrame('random_text', s, false); }],
      [6, () => { const full = packr.pack(betBase()); return malformedFrame('truncated_msgpack', full.subarray(0, ri(1, Math.max(1, full.length - 1))), true); }],
      [3, () => { const full = JSON.stringify(betBase()); return malformedFrame('truncated_json', full.slice(0, ri(1, full.length - 1)), false); }],
      [3, () => {
        const depth = ri(100, 5000);
        if (rnd() < 0.5) return malformedFrame('nested_msgpack', Buffer.concat([Buffer.alloc(depth, 0x91), Buffer.from([0xc0])]), true);
        return malformedFrame('nested_json', '['.repeat(depth) + ']'.repeat(depth), false);
      }],
      [3, () => { // msgpack headers claiming huge lengths
        const heads = [[0xdd, 0xff, 0xff, 0xff, 0xff], [0xdf, 0x7f, 0xff, 0xff, 0xff], [0xdb, 0xff, 0xff, 0xff, 0xf0], [0xc6, 0x7f, 0xff, 0xff, 0xff], [0xc9, 0xff, 0xff, 0xff, 0xff, 0x01]];
        return malformedFrame('huge_length_msgpack', Buffer.from(pickOf(heads)), true);
      }],
      [3, () => { const binary = rnd() < 0.5; return malformedFrame('not_an_object', enc(pickOf(weird), binary), binary); }],
      [3, () => valueFrame('unknown_type', { type: pickOf(['hack', 'BET', 'admin', '', 'credit', '__proto__', 'x'.repeat(100)]) })],
      [12, () => { // wrong types in every field of a bet
        const v = betBase();
        const f = pickOf(['room', 'periodId', 'kind', 'pick', 'amount', 'clientBetId', 'id']);
        v[f] = pickOf(weird);
        // a string is a valid client bet id when it is 1-64 characters ('__proto__' too)
        const x = v[f];
        const validId = f === 'clientBetId' && typeof x === 'string' && x.length >= 1 && x.length <= 64;
        if (validId) v[f] = `${x}${cbid++}`;
        // a digit 0-9 is a valid pick on a position
        const validPick = f === 'pick' && v.kind !== 'SUM' && typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 9;
        // a short string or a safe integer is a valid request id: the bet itself is valid then
        const validCorr = f === 'id' && ((typeof x === 'string' && x.length <= 64) || (typeof x === 'number' && Number.isSafeInteger(x)));
        return valueFrame('wrong_types', v, validId || validPick || validCorr ? 'ack-or-error' : 'error');
      }],
      [6, () => { // prototype pollution keys
        const binary = rnd() < 0.5;
        const id = nextId++;
        const bet = betBase();
        mayAccept.add(bet.clientBetId as string);
        if (!binary) {
          const base = JSON.stringify({ ...bet, id }).slice(1, -1);
          const extra = pickOf(['"__proto__":{"polluted":1,"userId":"victim"}', '"constructor":{"prototype":{"polluted":1}}', '"__proto__":{"type":"bet"}', '"__proto__":null']);
          return { data: `{${extra},${base}}`, binary: false, id, expect: 'ack-or-error', cat: 'proto_keys', malformed: false };
        }
        const m = new Map<string, unknown>([['__proto__', { polluted: 1 }], ['constructor', { prototype: { polluted: 1 } }], ...Object.entries({ ...bet, id })]);
        return { data: packr.pack(m), binary: true, id, expect: 'ack-or-error', cat: 'proto_keys', malformed: false };
      }],
      [10, () => { // amounts
        const v = betBase();
        v.amount = pickOf([1e300, 2 ** 53, 2 ** 53 + 2, 1e12 + 1, -1, -100, 0, -0, 0.5, 1.5, 99.99, NaN, Infinity, -Infinity, 1, 1e12, '100', '1e3', null]);
        const binary = rnd() < 0.7; // NaN / Infinity only survive msgpack
        const id = nextId++;
        return { data: enc({ ...v, id }, binary), binary, id, expect: 'error', cat: 'amounts', malformed: false };
      }],
      [5, () => valueFrame('unknown_rooms', { ...betBase(), room: pickOf(['fiveD_7', 'fiveD_60', 'fiveD_', 'x'.repeat(40), '../etc', 'fiveD_4 ', 'FIVED_4', 'fiveD_99999', 'fiveD_-4', '']) })],
      [6, () => { // periods in the past / the future / not ids
        const v = betBase();
        // a future period at least two ahead: the next one may become current while the frame travels
        const cur = BigInt(v.periodId as string);
        v.periodId = pickOf([String(cur - BigInt(ri(1, 50))), String(cur + BigInt(ri(2, 50))), '99999999999999999', '00000000000000000', '2025073100000000', '202507310000000011', String(cur)]);
        if (v.periodId === String(cur)) v.amount = -5;
        return valueFrame('periods', v);
      }],
      [3, () => valueFrame('forged_user', { ...betBase(), userId: 'victim' })],
      [5, () => valueFrame('subscribe_bad', pickOf([
        { type: 'subscribe', rooms: [] }, { type: 'subscribe', rooms: Array.from({ length: 40 }, () => 'fiveD_5') }, { type: 'subscribe', rooms: ['nope'] },
        { type: 'subscribe', rooms: ['fiveD_5'], since: { fiveD_5: 'abc' } }, { type: 'subscribe', rooms: ['fiveD_5'], since: 5 }, { type: 'unsubscribe', rooms: 'fiveD_5' },
        { type: 'my_bets', limit: 0 }, { type: 'my_bets', limit: 1e9 }, { type: 'my_bets', periodId: '20250101000000001' }, { type: 'my_bets', room: 5 },
      ]))],
      [2, () => valueFrame('valid_bet', betBase(), 'ack-or-error')],
    ];
    const totalWeight = generators.reduce((a, [w]) => a + w, 0);
    const gen = (): Frame => {
      let x = rnd() * totalWeight;
      for (const [w, g] of generators) { x -= w; if (x < 0) return g(); }
      return generators[0]![1]();
    };

    // ---- one connection: send a batch, wait for every answer ----
    const clientErrors = new WeakMap<WebSocket, string>();
    type RawTrace = { fin: boolean; error: string | null; bytesReadAtHello: number; bytesRead: () => number; localPort: number };
    const rawTraces = new WeakMap<WebSocket, RawTrace>();
    /** how the TCP connection under a socket ended, as seen by the client */
    const tcpTrace = (ws: WebSocket): string => {
      const t = rawTraces.get(ws);
      return t ? `${t.error ? `socket error ${t.error}` : t.fin ? 'FIN from the server' : 'no FIN, no socket error'}, ${t.bytesRead() - t.bytesReadAtHello} bytes read after the hello, local port ${t.localPort}` : 'no socket trace';
    };
    /** what the gateway counted of closes (its own and the others) and unexpected errors */
    const gatewayCounters = async (p: number): Promise<string> =>
      (await httpRequest(p, '/metrics')).body.split('\n').filter((l) => /^fived_gateway_(closes|disconnects|errors)_total\{/.test(l)).join(' ') || 'no closes or errors counted';
    /** the most bytes one connection received during its batch (what its socket had to carry) */
    let maxBatchBytes = 0;
    /** upgrade drops counted by each gateway (port) that a retry below has already accounted for */
    const dropsAccounted = new Map<number, number>();
    let upgradeRetries = 0;
    /**
     * Opens a socket and waits for its HELLO. A socket that ends before its HELLO, on a gateway that
     * counted a uWS drop at the upgrade (fived_gateway_disconnects_total{reason="upgrade_dropped"},
     * src/gateway/ws-upgrade.ts: a uWS 20.30 defect), never connected and nothing was sent on it: the
     * client reconnects, as any client would. Any other failure is returned as it is.
     */
    const connect = async (p: number, token: string | null, extraHeaders: Record<string, string> = {}): Promise<{ ws: WebSocket | null; status: number; body: string }> => {
      for (let attempt = 1; ; attempt++) {
        const r = await connectOnce(p, token, extraHeaders);
        if (r.ws || r.status !== 0 || attempt >= 3) return r;
        const m = /^fived_gateway_disconnects_total\{code="\d+",reason="upgrade_dropped"\} (\d+)$/m.exec((await httpRequest(p, '/metrics')).body);
        const counted = m ? Number(m[1]) : 0;
        const accounted = dropsAccounted.get(p) ?? 0;
        if (counted <= accounted) return r;
        dropsAccounted.set(p, accounted + 1);
        upgradeRetries += 1;
      }
    };
    const connectOnce = (p: number, token: string | null, extraHeaders: Record<string, string> = {}): Promise<{ ws: WebSocket | null; status: number; body: string }> =>
      new Promise((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${p}/ws`, token ? ['fived', `fived.jwt.${token}`] : ['fived'], { handshakeTimeout: 5000, headers: extraHeaders, maxPayload: 8 * 1024 * 1024 });
        // a client-side protocol error (a frame the client refuses) also shows as 1006: keep its reason
        ws.on('error', (err) => { clientErrors.set(ws, err.message); });
        ws.once('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (d: Buffer) => { body += d.toString(); });
          res.on('end', () => resolve({ ws: null, status: res.statusCode ?? 0, body }));
          res.on('error', () => resolve({ ws: null, status: res.statusCode ?? 0, body }));
        });
        ws.once('message', () => { // hello
          // the TCP socket under it: whether the connection ended by FIN or by RST (ws reports both as 1006 and swallows the socket's error)
          const sock = (ws as unknown as { _socket?: net.Socket })._socket;
          if (sock) {
            const t: RawTrace = { fin: false, error: null, bytesReadAtHello: sock.bytesRead, bytesRead: () => sock.bytesRead, localPort: sock.localPort ?? 0 };
            sock.on('end', () => { t.fin = true; });
            sock.on('error', (e: NodeJS.ErrnoException) => { t.error = e.code ?? e.message; });
            rawTraces.set(ws, t);
          }
          resolve({ ws, status: 101, body: '' });
        });
        ws.once('close', () => resolve({ ws: null, status: 0, body: 'closed' }));
      });

    const sendBatch = async (frames: Frame[], p = port, token = tokens.rich): Promise<void> => {
      const c = await connect(p, token === '' ? null : token);
      if (!c.ws) { bad(`connect failed (${c.status} ${c.body.slice(0, 100)})`); return; }
      const ws = c.ws;
      const pendingIds = new Map<number, Frame>();
      let noIdExpected = 0;
      let noIdSeen = 0;
      let closeCode: number | null = null;
      // set by the close handler below, which flow analysis does not follow into: typed by `as`
      let closeInfo = null as { at: number; buffered: number; clientError: string | null; received: number; tcp: string } | null;
      let received = 0;
      let receivedBytes = 0;
      const sentAt = Date.now();
      const done = new Promise<void>((resolve) => {
        const check = () => { if (pendingIds.size === 0 && noIdSeen >= noIdExpected) resolve(); };
        ws.on('message', (data, isBinary) => {
          received += 1;
          receivedBytes += (data as Buffer).length;
          let m: Record<string, unknown>;
          try { m = (isBinary ? (packr.unpack(data as Buffer) as Record<string, unknown>) : JSON.parse(String(data))); } catch { bad('unreadable reply'); return; }
          if (m.type === 'tick' || m.type === 'period' || m.type === 'closed' || m.type === 'result' || m.type === 'void' || m.type === 'settled' || m.type === 'subscribed' || m.type === 'unsubscribed' || m.type === 'recovery') {
            if (m.type === 'subscribed' || m.type === 'unsubscribed') { /* a valid-looking subscribe: answered */ }
            else return;
          }
          const id = typeof m.id === 'number' ? m.id : null;
          const f = id !== null ? pendingIds.get(id) : undefined;
          if (m.type === 'error' && !CODES.has(String(m.code))) bad(`${f?.cat ?? 'frame'}: uncoded error ${JSON.stringify(m).slice(0, 200)}`);
          if (f) {
            pendingIds.delete(id!);
            if (f.want?.code !== undefined && m.code !== f.want.code) bad(`${f.cat}: expected ${f.want.code}, got ${JSON.stringify(m).slice(0, 200)}`);
            if (f.want?.duplicate !== undefined && (m.type !== 'bet_ack' || m.duplicate !== f.want.duplicate)) bad(`${f.cat}: expected an acknowledgement with duplicate=${f.want.duplicate}, got ${JSON.stringify(m).slice(0, 200)}`);
            if (f.cat === 'replayed_other_period' && m.type === 'bet_ack' && m.duplicate === false) {
              notes.push(`clientBetId ${String(m.clientBetId)} replayed in a later period was accepted as a new bet (${String(m.betId)}), a second debit`);
            }
            if (m.type === 'bet_ack') {
              if (f.expect !== 'ack-or-error' && f.expect !== 'any') bad(`${f.cat}: acknowledged ${JSON.stringify(m).slice(0, 200)}`);
              acked.set(String(m.clientBetId), { amount: Number(m.amount), kind: String(m.kind), pick: m.pick, periodId: String(m.periodId), room: String(m.room) });
            } else if (m.type !== 'error' && f.expect === 'error') bad(`${f.cat}: answered ${String(m.type)} instead of an error`);
          } else if (m.type === 'subscribed' || m.type === 'unsubscribed' || m.type === 'my_bets' || m.type === 'pong' || m.type === 'balance') {
            // replies to inputs the server accepted as valid requests: answered with the id we could not track
            noIdSeen += 1;
          } else noIdSeen += 1;
          check();
        });
        ws.on('close', (code) => {
          closeCode = code;
          closeInfo = { at: Date.now(), buffered: ws.bufferedAmount, clientError: clientErrors.get(ws) ?? null, received, tcp: tcpTrace(ws) };
          resolve();
        });
        for (const f of frames) {
          if (f.id !== null) pendingIds.set(f.id, f);
          else noIdExpected += 1;
        }
        check();
      });
      for (const f of frames) ws.send(f.data, { binary: f.binary });
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000));
      const r = await Promise.race([done, timer]);
      if (r === 'timeout') bad(`no answer within 10 s to ${pendingIds.size} framed inputs (${[...pendingIds.values()].slice(0, 3).map((f) => f.cat).join(', ')}) and ${noIdExpected - noIdSeen} malformed ones`);
      else if (closeCode !== null) {
        if (!DOCUMENTED_CLOSES.has(closeCode)) bad(`closed with undocumented code ${closeCode}`);
        // a close after more than 10 malformed frames is the documented answer to the rest
        const malformed = frames.filter((f) => f.malformed || f.cat === 'unknown_type').length;
        if (closeCode === 4002 && malformed <= 10) bad(`closed 4002 after only ${malformed} malformed frames`);
        if (closeCode !== 4002 && (pendingIds.size > 0 || noIdSeen < noIdExpected)) {
          const cats: Record<string, number> = {};
          for (const f of frames) cats[f.cat] = (cats[f.cat] ?? 0) + 1;
          // which inputs went unanswered, in the order sent: the first of them is the suspect
          const unanswered = frames.filter((f) => f.id !== null && pendingIds.has(f.id));
          // what the gateway says it closed, and its unexpected errors, at this moment
          // the batch as sent, to replay it (periods as of then)
          const saved = path.join(dir, `closed-batch-${Date.now()}.json`);
          writeFileSync(saved, JSON.stringify(frames.map((f) => ({ cat: f.cat, binary: f.binary, id: f.id, data: typeof f.data === 'string' ? f.data : f.data.toString('hex') }))));
          const metricsNow = await gatewayCounters(p);
          const first = unanswered[0];
          const firstAt = first ? frames.indexOf(first) : -1;
          bad(`closed ${closeCode} with ${pendingIds.size} inputs unanswered (from input ${firstAt} of ${frames.length}: ` +
            `${unanswered.slice(0, 4).map((f) => `${f.cat}${f.binary ? '/bin' : '/text'}`).join(', ')}; frame before it: ${firstAt > 0 ? `${frames[firstAt - 1]!.cat}/${frames[firstAt - 1]!.binary ? 'bin' : 'text'} ${String(frames[firstAt - 1]!.data).slice(0, 80)}` : '-'}); the batch: ${JSON.stringify(cats)}; ` +
            `closed ${closeInfo ? closeInfo.at - sentAt : '?'} ms after sending, ${closeInfo?.received ?? '?'} messages received, client buffered ${closeInfo?.buffered ?? '?'} bytes, client error: ${closeInfo?.clientError ?? 'none'}; TCP: ${closeInfo?.tcp ?? '?'}; gateway: ${metricsNow}; frames in ${saved}`);
        }
      }
      for (const f of frames) count(f.cat);
      if (receivedBytes > maxBatchBytes) maxBatchBytes = receivedBytes;
      ws.terminate();
    };

    // bulk: batches of frames; malformed ones at most 10 per connection (the 11th closes it)
    const parallel = o.parallel ?? 8;
    const special = Math.min(2000, Math.floor(o.count * 0.02));
    const bulkTarget = o.count - special;
    let lastLog = Date.now();
    const worker = async () => {
      while (inputs < bulkTarget) {
        const batch: Frame[] = [];
        let malformed = 0;
        const want = ri(20, 200);
        while (batch.length < want) {
          const f = gen();
          if (f.malformed || f.cat === 'unknown_type') { if (malformed >= 10) continue; malformed += 1; }
          batch.push(f);
        }
        await sendBatch(batch);
        if (Date.now() - lastLog > 5000) {
          lastLog = Date.now();
          const rss = (await rssOf(gws[0]!.pid)) ?? 0;
          if (rssWarm === 0 && inputs > bulkTarget * 0.1) rssWarm = rss;
          log(`fuzz: ${inputs} inputs, ${violations} violations, gateway RSS ${(rss / 1e6).toFixed(0)} MB`);
        }
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));

    // ---- the special inputs ----
    // the malformed flood: 15 malformed frames on one connection → close 4002
    for (let i = 0; i < 20; i++) {
      const frames = Array.from({ length: 15 }, () => malformedFrame('malformed_flood', Buffer.from([0xc1]), true));
      await sendBatch(frames);
    }
    // replayed client bet ids: a fresh bet, the same again (→ the first acknowledgement, duplicate),
    // the same id with other content (→ E_DUPLICATE_CONFLICT), all in the open period
    for (let n = 0; n < 100;) {
      const room = rooms[1]!;
      const w = win(room);
      if (Date.now() > w.freezeAt - 500) { await sleep(w.endsAt - Date.now() + 20); continue; }
      const b = betBase(room);
      const f1 = valueFrame('replayed_bet', b, 'ack-or-error');
      const f2 = { ...valueFrame('replayed_bet', b, 'ack-or-error'), want: { duplicate: true } };
      const f3 = { ...valueFrame('replayed_bet_conflict', { ...b, amount: (b.amount as number) + 1 }), want: { code: ErrorCode.DUPLICATE_CONFLICT } };
      await sendBatch([f1, f2, f3]);
      n += 3;
    }
    // the id of a bet of an earlier period, replayed in the current one (docs/protocol.md: "the same
    // id again returns the first acknowledgement ... never a second debit"): noted, not counted
    for (const [id, b] of [...acked].filter(([, b]) => b.periodId < win(b.room).periodId).slice(0, 20)) {
      const w = win(b.room);
      if (Date.now() > w.freezeAt - 200) continue;
      mayAccept.add(id);
      await sendBatch([valueFrame('replayed_other_period', { type: 'bet', room: b.room, periodId: w.periodId, kind: b.kind, pick: b.pick, amount: b.amount, clientBetId: id }, 'ack-or-error')]);
    }
    // bets after the freeze of the current period (timed by the local clock)
    for (let n = 0; n < 100;) {
      const room = rooms[0]!;
      const w = win(room);
      const now = Date.now();
      if (now < w.freezeAt + 30 || now > w.endsAt - 30) { await sleep(Math.max(1, now < w.freezeAt + 30 ? w.freezeAt + 30 - now : w.endsAt - now + 1)); continue; }
      await sendBatch(Array.from({ length: 10 }, () => valueFrame('bet_after_freeze', { ...betBase(room), periodId: w.periodId })));
      n += 10;
    }
    // bets from a player with no money
    await sendBatch(Array.from({ length: 50 }, () => valueFrame('insufficient_funds', betBase())), port, tokens.poor);
    // anonymous bets / balance
    await sendBatch(Array.from({ length: 50 }, () => valueFrame('anonymous', rnd() < 0.5 ? betBase() : { type: 'balance' })), port, '');
    // tokens: expired, forged, alg none, garbage, bad subject
    const now = Math.floor(Date.now() / 1000);
    const key = new TextEncoder().encode(JWT_SECRET);
    const badTokens = [
      await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('fz-rich').setIssuedAt(now - 7200).setExpirationTime(now - 3600).sign(key),
      await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('fz-rich').setExpirationTime(now + 3600).sign(new TextEncoder().encode('not-the-secret-at-all-000')),
      `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(`{"sub":"fz-rich","exp":${now + 3600}}`).toString('base64url')}.`,
      await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('bad user id with spaces').setExpirationTime(now + 3600).sign(key),
      await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(now + 3600).sign(key),
      'garbage', 'a.b.c', 'x'.repeat(3000),
    ];
    for (let i = 0; i < 200; i++) {
      const t = badTokens[i % badTokens.length]!;
      const c = await connect(port, t);
      if (c.ws) { bad(`token #${i % badTokens.length} accepted`); c.ws.terminate(); }
      else if (c.status !== 401 || !CODES.has(String((safeJson(c.body) as { code?: string } | null)?.code))) bad(`token #${i % badTokens.length}: upgrade answered ${c.status} ${c.body.slice(0, 100)}`);
      count('bad_token');
    }
    // oversized frames: over the limit → 1009; far over → 1006 (documented)
    for (let i = 0; i < 40; i++) {
      const over = i % 2 === 0;
      const size = over ? MAX_PAYLOAD + ri(1, 1000) : MAX_PAYLOAD + 64 * 1024 + ri(1, 100_000);
      const c = await connect(port, tokens.rich);
      count('oversized_frame');
      if (!c.ws) { bad('oversized: connect failed'); continue; }
      const ws = c.ws;
      const code = await new Promise<number | null>((r) => { ws.on('close', (k) => r(k)); setTimeout(() => r(null), 5000); ws.send(Buffer.alloc(size, 0x61), { binary: i % 4 < 2 }); });
      // docs/protocol.md: over the limit 1009; over limit + 64 KiB uWS drops the socket (1006)
      if (code !== 1009 && !(code === 1006 && !over)) bad(`oversized frame of ${size} bytes: close ${code}; TCP: ${tcpTrace(ws)}; client error: ${clientErrors.get(ws) ?? 'none'}; gateway: ${await gatewayCounters(port)}`);
      ws.terminate();
    }
    // text frames that are not UTF-8: uWS drops the socket (1006, docs/protocol.md) or closes 1007
    for (let i = 0; i < 20; i++) {
      const c = await connect(port, tokens.rich);
      count('invalid_utf8_text');
      if (!c.ws) { bad('invalid utf-8: connect failed'); continue; }
      const ws = c.ws;
      const code = await new Promise<number | null>((r) => { ws.on('close', (k) => r(k)); setTimeout(() => r(null), 5000); ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0xc3, 0x28, 0x7d]), { binary: false }); });
      if (code !== 1006 && code !== 1007) bad(`text frame not UTF-8: close ${code}; TCP: ${tcpTrace(ws)}; gateway: ${await gatewayCounters(port)}`);
      ws.terminate();
    }
    // a flood above the rate limit (the second gateway allows 20/s): refused, then closed 4001
    for (let i = 0; i < 10; i++) {
      const c = await connect(gwPorts[1]!, tokens.rich);
      if (!c.ws) { bad('flood: connect failed'); continue; }
      const ws = c.ws;
      let limited = 0;
      let closed: number | null = null;
      ws.on('message', (d) => { const m = safeJson(String(d)) as { code?: string } | null; if (m?.code === 'E_RATE_LIMITED') limited += 1; });
      const gone = new Promise<void>((r) => ws.on('close', (code) => { closed = code; r(); }));
      for (let k = 0; k < 300; k++) ws.send(JSON.stringify({ type: 'ping', id: k }));
      await Promise.race([gone, sleep(5000)]);
      if (closed !== 4001) bad(`flood: closed with ${closed} (expected 4001), ${limited} refusals`);
      if (limited === 0) bad('flood: no E_RATE_LIMITED before the close');
      count('rate_flood', 300);
      ws.terminate();
    }
    // HTTP: unknown paths and methods, operator endpoints without / with bad input, huge headers
    const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND'];
    const paths = ['/nope', '/api', '/api/rooms/fiveD_7', '/api/rooms/fiveD_5/periods/123', '/api/rooms/fiveD_5/periods/99999999999999999', '/api/bets', '/api/wallet/credit', '/%2e%2e/etc/passwd', '/api/rooms/fiveD_5/periods?limit=-1', '/metrics/x', '/ws/x', '/api/rooms/__proto__/periods'];
    for (let i = 0; i < 300; i++) {
      const method = pickOf(methods);
      const p = pickOf(paths);
      count('http');
      if (method === 'HEAD' || method === 'TRACE' || method === 'PROPFIND') {
        // raw: HEAD has no body to parse; uWS's parser closes methods it does not know (no crash)
        const status = await rawHttp(port, `${method} ${p} HTTP/1.1\r\nHost: x\r\n\r\n`);
        if (method === 'HEAD' ? status < 400 || status >= 500 : status !== 0 && (status < 400 || status >= 500)) bad(`HTTP ${method} ${p}: status ${status}`);
        continue;
      }
      const withAuth = rnd() < 0.5;
      const body = method === 'POST' ? pickOf(['', '{', 'null', '[]', '{"userId":5}', JSON.stringify({ userId: 'fz-rich', amount: -5, depositId: 'x' }), JSON.stringify({ __proto__: { a: 1 }, userId: 'x', amount: 1e300, depositId: 'y' }), 'x'.repeat(70_000)]) : undefined;
      const r = await httpRequest(port, p, { method, ...(body !== undefined ? { body } : {}), headers: withAuth ? { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' } : {} });
      if (r.status === 0) { bad(`HTTP ${method} ${p}: no answer`); continue; }
      if (r.status >= 500 || r.status < 400) bad(`HTTP ${method} ${p}: ${r.status} ${r.body.slice(0, 120)}`);
      else if (!CODES.has(String((safeJson(r.body) as { code?: string } | null)?.code))) bad(`HTTP ${method} ${p}: ${r.status} without a coded body: ${r.body.slice(0, 120)}`);
    }
    for (let i = 0; i < 20; i++) {
      const status = await rawHttp(port, `GET /api/time HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(ri(10_000, 200_000))}\r\n\r\n`);
      count('huge_header');
      if (status !== 0 && status !== 431 && status !== 400 && status !== 413 && status !== 200) bad(`huge header: status ${status}`);
    }

    // ---- the verdict ----
    for (let i = 0; i < gws.length; i++) if (!gws[i]!.alive()) bad(`gateway ${i + 1} died`);
    const health = await httpRequest(port, '/health');
    if (health.status !== 200) bad(`gateway /health ${health.status} after the fuzz`);
    // a normal client still gets a tick
    const c = await connect(port, null);
    if (!c.ws) bad('a normal client could not connect after the fuzz');
    else {
      const ws = c.ws;
      const tick = new Promise<boolean>((r) => { ws.on('message', (d) => { if (String(d).includes('"tick"')) r(true); }); setTimeout(() => r(false), 3000); });
      ws.send(JSON.stringify({ type: 'subscribe', rooms }));
      if (!(await tick)) bad('no tick after the fuzz');
      ws.terminate();
    }
    const rssEnd = (await rssOf(gws[0]!.pid)) ?? 0;
    const base = rssWarm || rssStart0;
    // memory flat: what a long fuzz leaves must stay within a generous bound over the warmed-up size
    if (rssEnd - base > 150e6) bad(`gateway RSS grew from ${(base / 1e6).toFixed(0)} MB to ${(rssEnd / 1e6).toFixed(0)} MB`);

    // the store: nothing but the valid bets
    const totals = await store.walletTotals();
    // every stored bet comes from an input that may be accepted; every acknowledged one is stored
    const idemKeys = (await store.client.keys('*:idem'));
    let storedStakes = 0;
    const stored = new Set<string>();
    for (const k of idemKeys) {
      for (const [field, entry] of Object.entries(await store.client.hgetall(k))) {
        const [user, id] = field.split('\n');
        stored.add(id ?? '');
        storedStakes += Number(entry.split('|')[2]);
        if (user !== 'fz-rich' || !mayAccept.has(id ?? '')) bad(`a bet was stored from an input that must be refused: ${JSON.stringify(field)} ${entry} from ${catOf.get(id ?? '') ?? '?'}`);
      }
    }
    for (const id of acked.keys()) if (!stored.has(id)) bad(`acknowledged bet ${id} is not in the store`);
    if (totals.stakes !== storedStakes) bad(`store stakes ${totals.stakes}, the stored bets add up to ${storedStakes}`);
    if (totals.deposits !== deposits) bad(`store deposits ${totals.deposits}, credited ${deposits}`);
    if (!totals.balanced) bad(`wallet does not add up: ${JSON.stringify(totals)}`);
    const balances = await store.client.hgetall(store.keys.balances);
    for (const u of Object.keys(balances)) if (!users.includes(u)) bad(`a balance appeared for ${u}`);
    const keys = await store.client.keys('*');
    const known = /^(\{?precalc_5d_result:fiveD:(4|6):default:\d{17}\}?(:\w+)*|wallet:\w+|user:fz-rich:periods|scheduler:\w+|store:\w+|history:fiveD:(4|6):default|settle:\w+|ledger:(seq|feed|pending|user:fz-rich))$/; // ledger: issue 14
    for (const k of keys) if (!known.test(k) && !/^\{precalc_5d_result:fiveD:(4|6):default:\d{17}\}:ub:fz-rich$/.test(k)) bad(`unexpected key ${JSON.stringify(k).slice(0, 100)}`);

    const ms = Date.now() - t0;
    const text = [
      `Fuzz: ${inputs} inputs in ${(ms / 1000).toFixed(1)} s (${Math.round(inputs / (ms / 1000))}/s), ${acked.size} valid bets acknowledged, ${violations} violations; ${upgradeRetries} connections dropped by uWS at the upgrade and retried; gateway RSS ${(rssStart0 / 1e6).toFixed(0)} → ${(base / 1e6).toFixed(0)} (warm) → ${(rssEnd / 1e6).toFixed(0)} MB; at most ${(maxBatchBytes / 1024).toFixed(0)} KiB received on one connection during its batch`,
      '',
      '| input category | count |',
      '|---|---|',
      ...Object.entries(byCategory).sort((a, b) => b[1] - a[1]).map(([k, v]) => `| ${k} | ${v} |`),
      ...(evidence.length ? ['', 'Violations:', ...evidence.map((e) => `  - ${e}`)] : []),
      ...(notes.length ? ['', `Notes (${notes.length}; not counted as violations):`, ...notes.slice(0, 5).map((e) => `  - ${e}`)] : []),
    ].join('\n');
    return { inputs, violations, byCategory, evidence, rssStart: rssStart0, rssEnd, rssGrowth: rssEnd - base, ms, text, validBets: acked.size, notes };
  } finally {
    await store?.close().catch(() => undefined);
    for (const p of procs.reverse()) await p.stop(3000);
    await redis?.stop();
    await stopAll();
  }
}

function safeJson(s: string): unknown {
  try { return JSON.parse(s); } catch { return null; }
}

/** Sends raw bytes as an HTTP request; the status of the answer, 0 when the server just closed. */
function rawHttp(port: number, text: string): Promise<number> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    const t = setTimeout(() => { s.destroy(); resolve(0); }, 5000);
    s.on('data', (d) => { buf += d.toString('latin1'); const m = /^HTTP\/1\.\d (\d{3})/.exec(buf); if (m) { clearTimeout(t); s.destroy(); resolve(Number(m[1])); } });
    s.on('error', () => { clearTimeout(t); resolve(0); });
    s.on('close', () => { clearTimeout(t); resolve(0); });
    s.write(text);
  });
}
