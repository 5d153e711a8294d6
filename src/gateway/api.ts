// HTTP routes: health, readiness, metrics, the public read API, the operator API (bearer token,
// disabled when FIVED_OPERATOR_TOKEN is empty; never exposed through the public frontend), the
// demo session (FIVED_DEMO only) and the static page. Unknown paths 404, wrong methods 405,
// always as JSON { code, message }.

import { digitsOfOutcome, emptyTotals, exposureSummary } from '../core/exposure.js';
import { netStake, patternOf, validateAmount } from '../core/rules.js';
import { PATTERN_COUNT } from '../core/types.js';
import { ErrorCode, FivedError } from '../errors.js';
import { renderMetrics } from '../runtime/metrics.js';
import { findRoom, windowAt, windowOf, type Room } from '../runtime/rooms.js';
import type { PeriodRecord } from '../store/types.js';
import { demoUserId, operatorAllowed, type TokenVerifier } from './auth.js';
import { placeBet } from './bets.js';
import type { GatewayContext } from './context.js';
import { json, jsonBody, route, type Handler, type Req } from './http.js';
import { FinalPeriods } from './final-periods.js';
import { betFields, periodIdOf } from './messages.js';
import type { Periods } from './periods.js';
import { checkReadiness } from './readiness.js';
import type { StaticFile } from './static.js';
import type { TemplatedApp } from './uws.js';

export const DEMO_BALANCE = 100_000;
const USER_ID = /^[A-Za-z0-9_.:@-]{1,128}$/;

export interface ApiHooks {
  /** operator void: marks the period void here and in the store, tells everyone */
  voidPeriod(room: Room, periodId: string, reason: string): Promise<{ refunded: number }>;
}

function notFound(what: string): never {
  throw new FivedError(ErrorCode.NOT_FOUND, what);
}

export function mountApi(app: TemplatedApp, ctx: GatewayContext, periods: Periods, verifier: TokenVerifier, files: Map<string, StaticFile>, hooks: ApiHooks): void {
  const { cfg, store, clock } = ctx;
  const onError = (err: unknown) => {
    ctx.metrics.errors.inc({ where: 'http' });
    ctx.logger.error({ err }, 'http handler failed');
  };
  // every route is guarded: an unexpected error is logged, counted and answered 500, never thrown into uWS
  const guarded = (method: 'get' | 'post' | 'del' | 'any', pattern: string, paramCount: number, handler: Handler) => route(app, method, pattern, paramCount, handler, onError);
  const operator = (req: Req) => {
    if (cfg.operatorToken === '') throw new FivedError(ErrorCode.FORBIDDEN, 'operator endpoints are disabled (no FIVED_OPERATOR_TOKEN)');
    if (!operatorAllowed(req.headers.authorization, cfg.operatorToken)) throw new FivedError(ErrorCode.UNAUTHORIZED, 'operator token required: Authorization: Bearer <token>');
  };
  const methodNotAllowed = (pattern: string, paramCount: number) =>
    guarded('any', pattern, paramCount, (req) => json(405, { code: ErrorCode.METHOD_NOT_ALLOWED, message: `${req.method.toUpperCase()} is not allowed on ${req.url}` }));

  // ---- health, readiness, metrics ----
  guarded('get', '/health', 0, () => json(200, { status: 'ok', instance: cfg.instance, now: clock.now() }));
  guarded('get', '/ready', 0, async () => {
    const r = await checkReadiness(ctx);
    return json(r.ready ? 200 : 503, { ...r, instance: cfg.instance });
  });
  guarded('get', '/metrics', 0, async () => {
    ctx.metrics.poolQueue.set(ctx.pool.queueSize);
    const { body, contentType } = await renderMetrics(ctx.registry);
    return { status: 200, body, contentType };
  });
  for (const p of ['/health', '/ready', '/metrics']) methodNotAllowed(p, 0);

  // ---- public read API ----
  guarded('get', '/api/time', 0, () => json(200, { now: clock.now() }));
  guarded('get', '/api/rooms', 0, () => {
    const now = clock.now();
    return json(200, ctx.rooms.map((room) => {
      const w = windowAt(room, now);
      const s = periods.get(room.duration, w.periodId);
      return s ? periods.roomInfo(s) : { room: room.name, duration: room.duration, timeline: room.timeline, periodId: w.periodId, startsAt: w.startsAt, freezeAt: w.freezeAt, endsAt: w.endsAt, commitment: null };
    }));
  });

  const periodView = (room: Room, rec: PeriodRecord, now: number) => {
    const w = windowOf(room, rec.periodId);
    const ended = now >= w.endsAt;
    const isVoid = rec.status === 'void';
    // the result, its seed and anything derived from them stay hidden until the end
    const result = ended && !isVoid && rec.result ? { digits: [...rec.result.digits], sum: rec.result.sum, seed: rec.result.seed } : null;
    return {
      room: room.name, periodId: rec.periodId, startsAt: w.startsAt, freezeAt: w.freezeAt, endsAt: w.endsAt, commitment: rec.commitment,
      result,
      status: ended ? rec.status : rec.status === 'void' ? 'void' : now >= w.freezeAt ? 'frozen' : 'open',
      void: isVoid, voidReason: isVoid ? rec.voidReason : null,
      settled: ended ? rec.settled : false,
      betCount: now >= w.freezeAt ? rec.betCount : null,
      tracking: result && rec.result ? rec.result.tracking : null,
    };
  };

  const finalPeriods = new FinalPeriods();
  guarded('get', '/api/rooms/:room/periods/:periodId', 2, async (req) => {
    const room = findRoomOr404(ctx.rooms, req.params[0]!);
    const periodId = periodIdOf(req.params[1]);
    const cached = finalPeriods.get(room.name, periodId);
    if (cached) return cached;
    const w = windowOf(room, periodId);
    const rec = await store.getPeriod({ duration: room.duration, timeline: room.timeline, periodId });
    if (rec.status === 'unknown' && rec.commitment === null && rec.result === null) notFound(`no record of period ${periodId} in ${room.name}`);
    const now = clock.now();
    const reply = json(200, periodView(room, rec, now));
    // ended and settled or void: immutable from now on (the check uses the same `now` as the view)
    if (now >= w.endsAt && (rec.settled || rec.status === 'void')) finalPeriods.remember(room.name, periodId, reply);
    return reply;
  });
  guarded('get', '/api/rooms/:room/periods', 1, async (req) => {
    const room = findRoomOr404(ctx.rooms, req.params[0]!);
    const raw = req.query.get('limit');
    const limit = raw === null ? 20 : Number(raw);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 100) throw new FivedError(ErrorCode.BAD_REQUEST, 'limit must be an integer from 1 to 100');
    const now = clock.now();
    const entries = await store.history(room.duration, room.timeline, { limit });
    const list = entries
      .filter((h) => windowOf(room, h.periodId).endsAt <= now)
      .sort((a, b) => (a.periodId < b.periodId ? 1 : a.periodId > b.periodId ? -1 : 0))
      .slice(0, limit)
      .map((h) => {
        const w = windowOf(room, h.periodId);
        return { room: room.name, periodId: h.periodId, startsAt: w.startsAt, freezeAt: w.freezeAt, endsAt: w.endsAt, commitment: h.commitment, result: { digits: [...h.digits], sum: h.sum, seed: h.seed }, status: 'resulted', void: false };
      });
    return json(200, list);
  });

  // ---- operator API ----
  guarded('post', '/api/bets', 0, async (req) => {
    operator(req);
    const body = jsonBody(req);
    const userId = body.userId;
    if (typeof userId !== 'string' || !USER_ID.test(userId)) throw new FivedError(ErrorCode.INVALID_ID, 'userId must be 1-128 of A-Z a-z 0-9 _ . : @ -');
    const ack = await placeBet(ctx, periods, userId, betFields(body));
    return json(200, ack);
  });
  guarded('post', '/api/wallet/credit', 0, async (req) => {
    operator(req);
    const body = jsonBody(req);
    if (typeof body.userId !== 'string' || !USER_ID.test(body.userId)) throw new FivedError(ErrorCode.INVALID_ID, 'userId must be 1-128 of A-Z a-z 0-9 _ . : @ -');
    if (typeof body.depositId !== 'string' || body.depositId.length === 0 || body.depositId.length > 128) throw new FivedError(ErrorCode.INVALID_ID, 'depositId must be a string of 1-128 characters');
    const amount = validateAmount(body.amount);
    const r = await store.credit(body.userId, amount, body.depositId);
    return json(200, { userId: body.userId, ...r });
  });
  guarded('get', '/api/rooms/:room/periods/:periodId/liability', 2, async (req) => {
    operator(req);
    const room = findRoomOr404(ctx.rooms, req.params[0]!);
    const w = windowOf(room, periodIdOf(req.params[1]));
    if (clock.now() < w.freezeAt) throw new FivedError(ErrorCode.TOO_EARLY, `liability of period ${w.periodId} is reported once it is frozen (at ${new Date(w.freezeAt).toISOString()})`);
    const gross = await store.patternTotals(w);
    const totals = emptyTotals();
    const patterns: Record<string, number> = {};
    for (let i = 0; i < PATTERN_COUNT; i++) {
      const g = gross[i] ?? 0;
      totals.gross[i] = g;
      // net per pattern from the gross total: >= the sum of per-bet nets, so the liability is an upper bound
      totals.net[i] = netStake(g, cfg.paytable.feeBps);
      if (g > 0) {
        const { kind, pick } = patternOf(i);
        patterns[`${kind}:${pick}`] = g;
      }
    }
    const e = exposureSummary(totals, cfg.paytable);
    return json(200, {
      room: room.name, periodId: w.periodId, totalStake: e.totalStake, totalNet: e.totalNet, patternTotals: patterns,
      maxLiability: e.maxLiability, maxOutcome: digitsOfOutcome(e.maxOutcome), minLiability: e.minLiability, totalExposure: e.totalExposure,
      note: 'net stakes derived from per-pattern gross totals: liability figures are upper bounds (within one minor unit per bet)',
    });
  });
  guarded('post', '/api/rooms/:room/periods/:periodId/void', 2, async (req) => {
    operator(req);
    const room = findRoomOr404(ctx.rooms, req.params[0]!);
    const w = windowOf(room, periodIdOf(req.params[1]));
    const body = jsonBody(req);
    if (typeof body.reason !== 'string' || body.reason.trim() === '' || body.reason.length > 200) throw new FivedError(ErrorCode.BAD_REQUEST, 'reason must be a string of 1-200 characters');
    if (clock.now() >= w.endsAt) throw new FivedError(ErrorCode.PERIOD_CLOSED, `period ${w.periodId} has ended; its result is public and cannot be voided here`);
    const r = await hooks.voidPeriod(room, w.periodId, body.reason.trim());
    return json(200, { room: room.name, periodId: w.periodId, void: true, ...r });
  });
  methodNotAllowed('/api/bets', 0);
  methodNotAllowed('/api/wallet/credit', 0);
  methodNotAllowed('/api/time', 0);
  methodNotAllowed('/api/rooms', 0);
  methodNotAllowed('/api/rooms/:room/periods', 1);
  methodNotAllowed('/api/rooms/:room/periods/:periodId', 2);
  methodNotAllowed('/api/rooms/:room/periods/:periodId/liability', 2);
  methodNotAllowed('/api/rooms/:room/periods/:periodId/void', 2);

  // ---- demo ----
  guarded('post', '/api/demo/session', 0, async () => {
    if (!cfg.demo) notFound('demo sessions are off (FIVED_DEMO)');
    const userId = demoUserId();
    const { balance } = await store.credit(userId, DEMO_BALANCE, `demo:${userId}`);
    const token = await verifier.sign(userId, 86_400, clock.now());
    return json(200, { token, userId, balance });
  });
  methodNotAllowed('/api/demo/session', 0);

  // ---- static page, then 404 for everything else ----
  guarded('get', '/*', 0, (req) => {
    const f = files.get(req.url);
    if (!f) return json(404, { code: ErrorCode.NOT_FOUND, message: `no such path ${req.url}` });
    return { status: 200, body: f.body, contentType: f.contentType, headers: { 'cache-control': 'no-cache' } };
  });
  guarded('any', '/*', 0, (req) => json(404, { code: ErrorCode.NOT_FOUND, message: `no such path ${req.method.toUpperCase()} ${req.url}` }));
}

function findRoomOr404(rooms: readonly Room[], name: string): Room {
  try {
    return findRoom(rooms, name);
  } catch {
    throw new FivedError(ErrorCode.NOT_FOUND, `unknown room ${JSON.stringify(name)}; rooms: ${rooms.map((r) => r.name).join(', ')}`);
  }
}

