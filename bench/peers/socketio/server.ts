// The Socket.IO peer: one instance of the stack the seed guide deploys (Node, Socket.IO 4 with
// @socket.io/redis-adapter, N of these behind HAProxy, one pre-calculating scheduler). Written the
// plain, idiomatic way such a server is written; see README.md for what it is and is not.
//
// env: PEER_PORT, PEER_INSTANCE, FIVED_REDIS_URL, FIVED_KEY_PREFIX, FIVED_DURATIONS,
//      FIVED_FREEZE_MS, FIVED_TIMELINE, FIVED_SEED_KEY (to open the seeds fived's scheduler sealed)

import http from 'node:http';
import os from 'node:os';
import { randomInt } from 'node:crypto';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { pack, unpack } from 'msgpackr';
import { periodAt, nextPeriod } from '../../../src/core/clock.js';
import { drawDigits, drawMessage } from '../../../src/core/draw.js';
import { DEFAULT_DAY_START, type ClockSpec, type Digits, type PeriodWindow } from '../../../src/core/types.js';
import { Keys } from '../../../src/store/keys.js';
import type { StoredResult } from '../../../src/store/types.js';
import { SeedSealer } from '../../../src/store/seal.js';
import { periodPayload, resultPayload, roomInfo, tickPayload } from './payloads.js';
import { peerBetsKey } from './bets.js';
import { runFallback } from './fallback.js';
import { apiHandler } from './api.js';
import { watchFlush } from '../../../src/gateway/flush.js';

const port = Number(process.env.PEER_PORT ?? 3000);
const instance = process.env.PEER_INSTANCE ?? `peer-${port}`;
const redisUrl = process.env.FIVED_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = process.env.FIVED_KEY_PREFIX ?? '';
const durations = (process.env.FIVED_DURATIONS ?? '60,180,300,600').split(',').map(Number);
const freezeMs = Number(process.env.FIVED_FREEZE_MS ?? 5000);
const timeline = process.env.FIVED_TIMELINE ?? 'default';
const keys = new Keys(prefix);
const sealer = process.env.FIVED_SEED_KEY ? SeedSealer.fromText(process.env.FIVED_SEED_KEY) : null;

const redis = new Redis(redisUrl);
const pub = new Redis(redisUrl);
const sub = pub.duplicate();
const notify = new Redis(redisUrl);

export interface Room { name: string; spec: ClockSpec }
const rooms: Room[] = durations.map((d) => ({ name: `fiveD_${d}`, spec: { duration: d, freezeMs, dayStart: DEFAULT_DAY_START } }));

// what GET /bench/stats returns: when each tick and result went out, and how long emit took
const stats = {
  instance,
  ticks: [] as Array<{ room: string; boundary: number; lateMs: number; emitMs: number }>,
  // sentMs: end → the result handed to the kernel on every socket (issue 18), set once known
  results: [] as Array<{ room: string; periodId: string; lateMs: number; emitMs: number; sockets: number; source: string; sentMs?: number }>,
  fallbacks: [] as Array<Record<string, unknown>>,
};

const httpServer = http.createServer(apiHandler({ redis, keys, rooms, timeline, stats: () => stats }));
const io = new Server(httpServer, { serveClient: false, cors: { origin: '*' } });
io.adapter(createAdapter(pub, sub));

io.on('connection', (socket) => {
  socket.on('subscribe', async (msg: { rooms?: unknown }) => {
    const wanted = Array.isArray(msg?.rooms) ? msg.rooms.filter((r): r is string => typeof r === 'string') : [];
    const joined = rooms.filter((r) => wanted.includes(r.name));
    await socket.join(joined.map((r) => r.name));
    const now = Date.now();
    socket.emit('subscribed', {
      type: 'subscribed',
      rooms: joined.map((r) => roomInfo(r.name, periodAt(now, r.spec, timeline), null)),
    });
  });
  socket.on('unsubscribe', (msg: { rooms?: unknown }) => {
    for (const r of Array.isArray(msg?.rooms) ? msg.rooms : []) if (typeof r === 'string') void socket.leave(r);
  });
});

// ---- results: cached from the scheduler's notification, read from Redis at t=0, else fallback ----
const cache = new Map<string, StoredResult>();
const resultKey = (w: PeriodWindow) => keys.period(w).result;

void notify.psubscribe(`${prefix}5d_precalc:*`);
notify.on('pmessage', () => {
  // "Result verification before memory storage": read the key the notification is about. The
  // payload format is the scheduler's; re-reading the pending periods' keys does not depend on it.
  const now = Date.now();
  for (const r of rooms) {
    const w = periodAt(now, r.spec, timeline);
    const k = resultKey(w);
    if (cache.has(k)) continue;
    void redis.getBuffer(k).then((buf) => { if (buf) cache.set(k, unpack(buf) as StoredResult); });
  }
});

async function resultFor(w: PeriodWindow): Promise<{ result: StoredResult; source: string }> {
  const k = resultKey(w);
  const cached = cache.get(k);
  if (cached) { cache.delete(k); return { result: cached, source: 'cache' }; }
  const buf = await redis.getBuffer(k);
  if (buf) return { result: unpack(buf) as StoredResult, source: 'redis' };
  return { result: await fallback(w), source: 'fallback' };
}

/** No pre-calculated result: compute here, on this event loop, like processGameResults did. */
async function fallback(w: PeriodWindow): Promise<StoredResult> {
  const t0 = performance.now();
  const docs = await redis.lrange(peerBetsKey(prefix, w), 0, -1);
  const t1 = performance.now();
  const meta = await redis.hmget(keys.period(w).meta, 'sealedSeed', 'seedKeyId', 'seedIv', 'commitment');
  // fair draw from the committed seed when there is one (the old system chose from the exposure table)
  const seed = meta[0] && meta[1] && meta[2] && sealer ? sealer.unseal(w, { sealed: meta[0], keyId: meta[1], iv: meta[2] }) : null;
  const commitment = meta[3] ?? null;
  const digits: Digits = seed ? drawDigits(seed, drawMessage(w)).digits : [0, 0, 0, 0, 0].map(() => randomInt(10)) as Digits;
  const report = runFallback(docs, digits);
  const computeMs = performance.now() - t0;
  const candidate: StoredResult = {
    duration: w.duration, timeline: w.timeline, periodId: w.periodId, digits, sum: digits.reduce((a, b) => a + b, 0),
    seed: seed ?? '0'.repeat(64), commitment: commitment ?? '0'.repeat(64),
    tracking: {
      instance, host: os.hostname(), pid: process.pid, computedAt: Date.now(), computeMs, patternCount: report.patterns,
      totalStake: 0, totalExposure: report.maxExposure, maxLiability: report.maxExposure, source: 'gateway',
    },
  };
  // SET NX: whichever instance stored first, every instance delivers that one
  await redis.set(resultKey(w), pack(candidate), 'EX', 86_400, 'NX');
  const kept = await redis.getBuffer(resultKey(w));
  stats.fallbacks.push({ periodId: w.periodId, readMs: t1 - t0, ...report, totalMs: performance.now() - t0 });
  console.log(`[5D_FALLBACK] ${instance} ${w.periodId}: ${report.bets} bets, ${report.patterns} patterns in ${Math.round(performance.now() - t0)}ms`);
  return kept ? (unpack(kept) as StoredResult) : candidate;
}

// ---- the per-room loop: period start, a setInterval tick every second, the result at the end ----
function emitLocal(room: string, event: string, payload: unknown): number {
  const t0 = performance.now();
  // each instance delivers to its own sockets (io.local): all instances run the same timers
  io.local.to(room).emit(event, payload);
  return performance.now() - t0;
}

/** Runs period w from its second boundary `first` (its start, or later when the process joins late). */
async function runPeriod(r: Room, w: PeriodWindow, first: number = w.startsAt): Promise<void> {
  if (first === w.startsAt) {
    const commitment = await redis.hget(keys.period(w).meta, 'commitment');
    emitLocal(r.name, 'period', periodPayload(r.name, w, commitment));
  }
  let k = (first - w.startsAt) / 1000;
  const tick = (boundary: number) => {
    const lateMs = Date.now() - boundary;
    const emitMs = emitLocal(r.name, 'tick', tickPayload(r.name, w, boundary));
    stats.ticks.push({ room: r.name, boundary, lateMs, emitMs });
  };
  tick(first);
  // the countdown: a setInterval per room, as such servers do (it drifts with the event loop)
  const timer = setInterval(() => {
    k++;
    const boundary = w.startsAt + k * 1000;
    if (boundary < w.endsAt) tick(boundary);
    else clearInterval(timer);
  }, 1000);
  // the end on its own timer at the exact instant (not at the drifted interval's last fire); the
  // next period's countdown starts on its own, beside the result handling
  atTime(w.endsAt, () => {
    clearInterval(timer);
    const next = nextPeriod(w, r.spec);
    atTime(next.startsAt, () => void runPeriod(r, next));
    void endPeriod(r, w);
  });
}

/** setTimeout that never fires before the instant (Node may wake a millisecond early). */
function atTime(epochMs: number, fn: () => void): void {
  const wait = epochMs - Date.now();
  if (wait <= 0) setImmediate(fn);
  else setTimeout(() => atTime(epochMs, fn), wait);
}

// What Engine.IO still holds for a connection: packets queued while its transport is busy, a send
// not yet completed (the ws write callback), and bytes ws buffers before the kernel takes them.
interface EngineConn { readyState: string; writeBuffer: unknown[]; transport: { writable: boolean; socket?: { bufferedAmount?: number } } }
function roomConns(room: string): EngineConn[] {
  const nsp = io.of('/');
  const out: EngineConn[] = [];
  for (const id of nsp.adapter.rooms.get(room) ?? []) {
    const s = nsp.sockets.get(id);
    if (s) out.push(s.conn as unknown as EngineConn);
  }
  return out;
}
function pendingOf(c: EngineConn): number {
  if (c.readyState !== 'open') return 0;
  return c.writeBuffer.length + (c.transport.writable ? 0 : 1) + (c.transport.socket?.bufferedAmount ?? 0);
}

async function endPeriod(r: Room, w: PeriodWindow): Promise<void> {
  try {
    const { result, source } = await resultFor(w);
    const lateMs = Date.now() - w.endsAt;
    const sockets = io.of('/').adapter.rooms.get(r.name)?.size ?? 0;
    const emitMs = emitLocal(r.name, 'result', resultPayload(r.name, w, result));
    const rec: (typeof stats.results)[number] = { room: r.name, periodId: w.periodId, lateMs, emitMs, sockets, source };
    stats.results.push(rec);
    const perfToEpoch = Date.now() - performance.now();
    watchFlush(roomConns(r.name), pendingOf, (flushedAt) => { rec.sentMs = flushedAt + perfToEpoch - w.endsAt; });
  } catch (err) {
    console.error(`[5D_PERIOD_END] ${r.name} ${w.periodId}:`, err);
  }
}

httpServer.listen(port, '127.0.0.1', () => {
  console.log(`peer ${instance} listening on ${port}, rooms ${rooms.map((r) => r.name).join(',')}`);
  const now = Date.now();
  const first = Math.ceil((now + 1) / 1000) * 1000;
  for (const r of rooms) {
    const w = periodAt(first, r.spec, timeline);
    // join the clock at the next second boundary
    atTime(first, () => void runPeriod(r, { duration: w.duration, timeline: w.timeline, periodId: w.periodId, startsAt: w.startsAt, freezeAt: w.freezeAt, endsAt: w.endsAt }, first));
  }
});

const shutdown = () => { io.close(); redis.disconnect(); pub.disconnect(); sub.disconnect(); notify.disconnect(); process.exit(0); };
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
