// Public routes: health, readiness and metrics, and the read API (time, rooms, a period, a room's
// history). Nothing of a result shows before this gateway's gate (views.ts, periodView).

import { fivedVersion, processStartedAt } from '../../version.js';
import { renderMetrics } from '../../runtime/metrics.js';
import { logTag, TAGS } from '../../runtime/log.js';
import { windowAt, windowOf, type Room } from '../../runtime/rooms.js';
import type { HistoryEntry } from '../../store/types.js';
import { storedResultVerifies } from '../../store/validate.js';
import { archivedHistory } from '../archive.js';
import { revealed, type GatewayContext } from '../context.js';
import { json } from '../http.js';
import { periodIdOf } from '../messages.js';
import type { Periods } from '../periods.js';
import { checkReadiness } from '../readiness.js';
import { limitOf, notFound, roomOf, type Routes } from './shared.js';
import { periodView, type PeriodReader, type PeriodView } from './views.js';

export function mountHealth(r: Routes): void {
  const { ctx } = r;
  r.add('get', '/health', 0, () => json(200, { status: 'ok', instance: ctx.cfg.instance, version: fivedVersion(), startedAt: processStartedAt(), now: ctx.clock.now() }));
  r.add('get', '/ready', 0, async () => {
    const ready = await checkReadiness(ctx);
    return json(ready.ready ? 200 : 503, { ...ready, instance: ctx.cfg.instance });
  });
  r.add('get', '/metrics', 0, async () => {
    ctx.metrics.poolQueue.set(ctx.pool.queueSize);
    const { body, contentType } = await renderMetrics(ctx.registry);
    return { status: 200, body, contentType };
  });
  for (const p of ['/health', '/ready', '/metrics']) r.methodNotAllowed(p, 0);
}

export function mountPublic(r: Routes, periods: Periods, reader: PeriodReader): void {
  const { ctx } = r;
  // `demo`: whether POST /api/demo/session hands out sessions, so the page learns it without a failing request
  r.add('get', '/api/time', 0, () => json(200, { now: ctx.clock.now(), demo: ctx.cfg.demo }));
  r.add('get', '/api/rooms', 0, () => json(200, roomsNow(ctx, periods)));
  r.add('get', '/api/rooms/:room/periods/:periodId', 2, async (req) => {
    const room = roomOf(ctx.rooms, req.params[0]!);
    const periodId = periodIdOf(req.params[1]);
    const view = await reader.publicView(room, periodId);
    if (!view) notFound(`no record of period ${periodId} in ${room.name}`);
    return json(200, view);
  });
  r.add('get', '/api/rooms/:room/periods', 1, async (req) => {
    const room = roomOf(ctx.rooms, req.params[0]!);
    return json(200, await history(ctx, reader, room, limitOf(req.query.get('limit'), 20, 100)));
  });
  r.methodNotAllowed('/api/time', 0);
  r.methodNotAllowed('/api/rooms', 0);
  r.methodNotAllowed('/api/rooms/:room/periods', 1);
  r.methodNotAllowed('/api/rooms/:room/periods/:periodId', 2);
}

function roomsNow(ctx: GatewayContext, periods: Periods) {
  const now = ctx.clock.now();
  return ctx.rooms.map((room) => {
    const w = windowAt(room, now);
    const s = periods.get(room.duration, w.periodId);
    return s ? periods.roomInfo(s) : { room: room.name, duration: room.duration, timeline: room.timeline, periodId: w.periodId, startsAt: w.startsAt, freezeAt: w.freezeAt, endsAt: w.endsAt, commitment: null };
  });
}

/** The revealed history entries that verify against their commitment, newest first, at most `limit`. */
function revealedEntries(ctx: GatewayContext, room: Room, entries: HistoryEntry[], limit: number): HistoryEntry[] {
  const now = ctx.clock.now();
  return entries
    .filter((h) => revealed(ctx, windowOf(room, h.periodId).endsAt, now))
    .filter((h) => {
      if (storedResultVerifies(h)) return true;
      ctx.metrics.resultMismatch.inc();
      logTag(ctx.logger, 'error', TAGS.RESULT_MISMATCH, { room: room.name, periodId: h.periodId }, 'a history entry does not verify against its commitment: not served');
      return false;
    })
    .sort((a, b) => (a.periodId < b.periodId ? 1 : a.periodId > b.periodId ? -1 : 0))
    .slice(0, limit);
}

/**
 * History: the latest revealed results of the room, newest first, each exactly the object the
 * lookup returns for that period (one builder, periodView). The reads of the periods not cached
 * are issued together: ioredis pipelines them (enableAutoPipelining), so a page of 100 costs about
 * one round trip, not 100.
 */
async function history(ctx: GatewayContext, reader: PeriodReader, room: Room, limit: number): Promise<PeriodView[]> {
  const entries = await ctx.store.history(room.duration, room.timeline, { limit });
  const shown = revealedEntries(ctx, room, entries, limit);
  const views = (await Promise.all(shown.map((h) => reader.publicView(room, h.periodId, h)))).filter((v): v is PeriodView => v !== null);
  // older than what Redis keeps (HISTORY_MAXLEN, expiry): from the archive, same view builder
  if (views.length < limit && ctx.archive) {
    const before = views.length > 0 ? views[views.length - 1]!.periodId : null;
    const older = await archivedHistory(ctx, room, before, limit - views.length);
    const t = ctx.clock.now();
    for (const rec of older) if (revealed(ctx, windowOf(room, rec.periodId).endsAt, t)) views.push(periodView(ctx, room, rec, t));
  }
  return views;
}
