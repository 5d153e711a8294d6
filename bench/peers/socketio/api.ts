// The peer's HTTP endpoint: the Express-style route table such a server has beside Socket.IO
// (plain node:http routing: express is not installed here), serving the same JSON as the
// gateway's read API, read from Redis on every request as an Express handler would.
//   GET /api/rooms                      the rooms and their current period
//   GET /api/rooms/:room/periods/:id    one period: status, commitment, result after its end
//   GET /bench/stats                    the peer's own tick/emit timings (for the harness)

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Redis } from 'ioredis';
import { unpack } from 'msgpackr';
import { periodAt, periodById } from '../../../src/core/clock.js';
import type { ClockSpec, PeriodWindow } from '../../../src/core/types.js';
import type { Keys } from '../../../src/store/keys.js';
import type { StoredResult } from '../../../src/store/types.js';
import { roomInfo } from './payloads.js';

export interface ApiDeps {
  redis: Redis;
  keys: Keys;
  rooms: Array<{ name: string; spec: ClockSpec }>;
  timeline: string;
  stats: () => unknown;
}

type Handler = (req: IncomingMessage, res: ServerResponse, params: string[]) => Promise<void>;

function json(res: ServerResponse, status: number, body: unknown): void {
  const s = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(s) });
  res.end(s);
}

export function apiHandler(d: ApiDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const routes: Array<[RegExp, Handler]> = [
    [/^\/api\/rooms\/?$/, async (_req, res) => {
      const now = Date.now();
      const rooms = await Promise.all(d.rooms.map(async (r) => {
        const { phase: _phase, ...w } = periodAt(now, r.spec, d.timeline);
        return roomInfo(r.name, w, await d.redis.hget(d.keys.period(w).meta, 'commitment'));
      }));
      json(res, 200, rooms);
    }],
    [/^\/api\/rooms\/([^/]+)\/periods\/([^/]+)\/?$/, async (_req, res, [roomName, periodId]) => {
      const room = d.rooms.find((r) => r.name === roomName);
      if (!room) return json(res, 404, { code: 'E_NOT_FOUND', message: `unknown room ${roomName}` });
      let w: PeriodWindow;
      try {
        w = periodById(periodId ?? '', room.spec, d.timeline);
      } catch (err) {
        return json(res, 400, { code: 'E_INVALID_PERIOD', message: err instanceof Error ? err.message : String(err) });
      }
      const k = d.keys.period(w);
      const [m, buf] = await Promise.all([d.redis.hgetall(k.meta), d.redis.getBuffer(k.result)]);
      const stored = buf ? (unpack(buf) as StoredResult) : null;
      const isVoid = m.void !== undefined;
      const settled = m.settled !== undefined;
      const recStatus = isVoid ? 'void' : settled ? 'settled' : stored ? 'resulted' : m.frozen ? 'frozen' : m.commitment ? 'open' : 'unknown';
      if (recStatus === 'unknown' && !m.commitment && !stored) return json(res, 404, { code: 'E_NOT_FOUND', message: `no record of period ${w.periodId} in ${room.name}` });
      const now = Date.now();
      const ended = now >= w.endsAt;
      // the result, its seed and anything derived from them stay hidden until the end
      const result = ended && !isVoid && stored ? { digits: [...stored.digits], sum: stored.sum, seed: stored.seed } : null;
      json(res, 200, {
        room: room.name, periodId: w.periodId, startsAt: w.startsAt, freezeAt: w.freezeAt, endsAt: w.endsAt, commitment: m.commitment ?? null,
        result,
        status: ended ? recStatus : isVoid ? 'void' : now >= w.freezeAt ? 'frozen' : 'open',
        void: isVoid, voidReason: isVoid ? (m.reason ?? '') : null,
        settled: ended ? settled : false,
        betCount: now >= w.freezeAt ? Number(m.n ?? 0) : null,
        // no tracking: as the gateway, internals stay on the operator endpoints (issue 12 row 12)
      });
    }],
    [/^\/bench\/stats$/, async (_req, res) => json(res, 200, d.stats())],
  ];
  return (req, res) => {
    if (req.url?.startsWith('/socket.io/')) return; // Socket.IO's own handler answers these
    const url = (req.url ?? '/').split('?')[0]!;
    if (req.method !== 'GET') return json(res, 405, { code: 'E_BAD_REQUEST', message: 'GET only' });
    for (const [re, h] of routes) {
      const m = re.exec(url);
      if (m) {
        h(req, res, m.slice(1)).catch((err: unknown) => json(res, 500, { code: 'E_INTERNAL', message: String(err) }));
        return;
      }
    }
    json(res, 404, { code: 'E_NOT_FOUND', message: 'not found' });
  };
}
