// The floor: a bare uWebSockets.js process that only accepts sockets and publishes the same frames
// as the gateway at the same instants (period at its start, a tick on every second boundary, the
// result at the end). No store, no auth, no bookkeeping: what is left of the latency is the
// kernel, HAProxy and the clients — the yardstick for "close to the limit".
//
// env: FLOOR_PORT (required), FIVED_DURATIONS, FIVED_FREEZE_MS, FIVED_TIMELINE, FLOOR_FORMAT
// (binary | text). GET /stats answers the publish timings it measured (JSON).

import { createRequire } from 'node:module';
import { randomBytes, createHash } from 'node:crypto';
import { Packr } from 'msgpackr';
import { periodAt } from '../../../src/core/clock.js';
import { DEFAULT_DAY_START, type ClockSpec, type Digits } from '../../../src/core/types.js';
import { watchFlush } from '../../../src/gateway/flush.js';

type Uws = typeof import('uWebSockets.js');
const uws = createRequire(import.meta.url)('uWebSockets.js') as Uws;

const port = Number(process.env.FLOOR_PORT);
if (!Number.isInteger(port) || port <= 0) throw new Error('FLOOR_PORT is required');
const durations = (process.env.FIVED_DURATIONS ?? '60').split(',').map(Number);
const freezeMs = Number(process.env.FIVED_FREEZE_MS ?? 5000);
const timeline = process.env.FIVED_TIMELINE ?? 'default';
const binary = (process.env.FLOOR_FORMAT ?? 'binary') === 'binary';
const packr = new Packr({ useRecords: false, variableMapSize: true });
const encode = (msg: object): Uint8Array | string => (binary ? packr.pack(msg) : JSON.stringify(msg));

interface Room { name: string; spec: ClockSpec; topic: string }
const rooms: Room[] = durations.map((d) => ({ name: `fiveD_${d}`, spec: { duration: d, freezeMs, dayStart: DEFAULT_DAY_START }, topic: `room/fiveD_${d}` }));

const stats = {
  ticks: [] as Array<{ room: string; boundary: number; lateMs: number; publishMs: number; subscribers: number }>,
  // sentMs: end → the result frame handed to the kernel on every socket (issue 18), set once known
  results: [] as Array<{ room: string; periodId: string; lateMs: number; publishMs: number; subscribers: number; sentMs?: number }>,
};
type FloorSocket = import('uWebSockets.js').WebSocket<{ open: boolean }>;
const sockets = new Set<FloorSocket>();
const bufferedOf = (ws: FloorSocket) => (ws.getUserData().open ? ws.getBufferedAmount() : 0);

const app = uws.App();
app.ws('/*', {
  compression: uws.DISABLED,
  maxPayloadLength: 16 * 1024,
  idleTimeout: 120,
  maxBackpressure: 256 * 1024,
  upgrade: (res, req, context) => {
    res.upgrade({ open: true }, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
  },
  open: (ws) => {
    sockets.add(ws as FloorSocket);
    for (const r of rooms) ws.subscribe(r.topic);
  },
  close: (ws) => {
    (ws as FloorSocket).getUserData().open = false;
    sockets.delete(ws as FloorSocket);
  },
  message: () => { /* the floor ignores what clients say */ },
});
app.get('/stats', (res) => {
  res.writeHeader('content-type', 'application/json').end(JSON.stringify(stats));
});
app.get('/ready', (res) => { res.end('ok'); });
app.any('/*', (res) => { res.writeStatus('404 Not Found').end(); });

function publish(topic: string, msg: object): number {
  const t0 = performance.now();
  app.publish(topic, encode(msg), binary);
  return performance.now() - t0;
}

function onSecond(boundary: number): void {
  const lateMs = Date.now() - boundary;
  for (const r of rooms) {
    const w = periodAt(boundary, r.spec, timeline);
    const subscribers = app.numSubscribers(r.topic);
    if (w.startsAt === boundary) {
      // the previous period ends on this boundary: result first, then the new period
      const prev = periodAt(boundary - 1, r.spec, timeline);
      const seed = randomBytes(32);
      const digits = Array.from(randomBytes(5), (b) => b % 10) as Digits;
      const publishMs = publish(r.topic, {
        type: 'result', room: r.name, duration: r.spec.duration, timeline, periodId: prev.periodId,
        digits, sum: digits.reduce((a, b) => a + b, 0), seed: seed.toString('hex'),
        commitment: createHash('sha256').update(seed).digest('hex'), endsAt: prev.endsAt,
      });
      const rec: (typeof stats.results)[number] = { room: r.name, periodId: prev.periodId, lateMs, publishMs, subscribers };
      stats.results.push(rec);
      const perfToEpoch = Date.now() - performance.now();
      watchFlush(sockets, bufferedOf, (flushedAt) => { rec.sentMs = flushedAt + perfToEpoch - prev.endsAt; });
      publish(r.topic, {
        type: 'period', room: r.name, duration: r.spec.duration, timeline, periodId: w.periodId,
        startsAt: w.startsAt, freezeAt: w.freezeAt, endsAt: w.endsAt, commitment: randomBytes(32).toString('hex'),
      });
    }
    const publishMs = publish(r.topic, {
      type: 'tick', room: r.name, periodId: w.periodId, now: boundary, remainingMs: w.endsAt - boundary,
      phase: boundary < w.freezeAt ? 'betting' : 'frozen',
    });
    stats.ticks.push({ room: r.name, boundary, lateMs, publishMs, subscribers });
  }
}

// Every second boundary from the wall clock (re-armed from the clock each time: no drift).
function arm(): void {
  const next = Math.floor(Date.now() / 1000) * 1000 + 1000;
  const fire = () => {
    if (Date.now() < next) { setTimeout(fire, 1); return; }
    onSecond(next);
    arm();
  };
  setTimeout(fire, next - Date.now());
}

app.listen('127.0.0.1', port, (ls) => {
  if (!ls) { console.error(`floor: cannot listen on ${port}`); process.exit(1); }
  console.log(`floor listening on ${port} (${binary ? 'msgpack' : 'json'}) rooms ${rooms.map((r) => r.name).join(',')}`);
  arm();
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
