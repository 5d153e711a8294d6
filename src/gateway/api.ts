// HTTP routes: health, readiness, metrics, the public read API, the operator API (bearer token,
// disabled when FIVED_OPERATOR_TOKEN is empty; never exposed through the public frontend), the
// demo session (FIVED_DEMO only) and the static page. Unknown paths 404, wrong methods 405,
// always as JSON { code, message }.

import { fivedVersion, processStartedAt } from '../version.js';
import { digitsOfOutcome, emptyTotals, exposureSummary } from '../core/exposure.js';
import { netStake, patternOf, validateAmount } from '../core/rules.js';
import { PATTERN_COUNT } from '../core/types.js';
import { isEntryId } from '../core/ledger.js';
import { LEDGER_PAGE_MAX } from '../store/ledger.js';
import { ErrorCode, FivedError } from '../errors.js';
import { renderMetrics } from '../runtime/metrics.js';
import { findRoom, windowAt, windowOf, type Room } from '../runtime/rooms.js';
import type { HistoryEntry, PeriodRecord, PeriodStatus, ResultTracking, StoredResult } from '../store/types.js';
import { demoUserId, operatorAllowed, type TokenVerifier } from './auth.js';
import { placeBet } from './bets.js';
import { revealed, type GatewayContext } from './context.js';
import { rejectStoredResult } from './results.js';
import { MISMATCH_REASON } from '../runtime/reconcile.js';
import { logTag, TAGS } from '../runtime/log.js';
import { storedResultVerifies } from '../store/validate.js';
import { json, jsonBody, route, setRequestGate, type Handler, type Req } from './http.js';
import type { GatewayLimits } from './limits.js';
import { FinalPeriods } from './final-periods.js';
import { betFields, periodIdOf } from './messages.js';
import type { Periods } from './periods.js';
import { checkReadiness } from './readiness.js';
import { archivedHistory, archivedPeriod, ledgerWithArchive } from './archive.js';
import type { StaticFile } from './static.js';
import type { TemplatedApp } from './uws.js';

export const DEMO_BALANCE = 100_000;
const USER_ID = /^[A-Za-z0-9_.:@-]{1,128}$/;

export interface ApiHooks {
  /** operator void: marks the period void here and in the store, tells everyone */
  voidPeriod(room: Room, periodId: string, reason: string): Promise<{ refunded: number }>;
  /** the store voided the period (a result that did not verify): mark it void here, tell this gateway's clients */
  voided(room: Room, periodId: string, reason: string): Promise<void>;
}

/** A period as the public API shows it: the lookup, and each item of the history. */
export interface PeriodView {
  room: string;
  periodId: string;
  startsAt: number;
  freezeAt: number;
  endsAt: number;
  commitment: string | null;
  /** null until this gateway's gate (context.revealed), and for a result that does not verify */
  result: { digits: number[]; sum: number; seed: string } | null;
  status: PeriodStatus;
  void: boolean;
  voidReason: string | null;
  settled: boolean;
  /** null before the freeze */
  betCount: number | null;
}

/** A period record whose stored result may be the history stream's copy (no tracking). */
type ViewRecord = Omit<PeriodRecord, 'result'> & { result: (Omit<StoredResult, 'tracking'> & { tracking?: ResultTracking }) | null };

/** The result shown (past the gate, not void, verifying against the commitment), or null. */
function shownResult(ctx: GatewayContext, room: Room, rec: ViewRecord, now: number): ViewRecord['result'] {
  const ended = revealed(ctx, windowOf(room, rec.periodId).endsAt, now);
  return ended && rec.status !== 'void' && rec.result && storedResultVerifies(rec.result, rec.commitment) ? rec.result : null;
}

/**
 * THE one view of a period, for the public lookup, the history and the operator variant.
 * Everything of the result (digits, seed, settled state) waits for this gateway's gate
 * (context.revealed: the same instant its WebSocket result goes out), and only a result that
 * verifies against the commitment is ever shown. `tracking` is added by the operator route only.
 */
export function periodView(ctx: GatewayContext, room: Room, rec: ViewRecord, now: number): PeriodView {
  const w = windowOf(room, rec.periodId);
  const ended = revealed(ctx, w.endsAt, now);
  const isVoid = rec.status === 'void';
  const shown = shownResult(ctx, room, rec, now);
  return {
    room: room.name, periodId: rec.periodId, startsAt: w.startsAt, freezeAt: w.freezeAt, endsAt: w.endsAt, commitment: rec.commitment,
    result: shown ? { digits: [...shown.digits], sum: shown.sum, seed: shown.seed } : null,
    status: ended ? rec.status : isVoid ? 'void' : now >= w.freezeAt ? 'frozen' : 'open',
    void: isVoid, voidReason: isVoid ? rec.voidReason : null,
    settled: ended ? rec.settled : false,
    betCount: now >= w.freezeAt ? rec.betCount : null,
  };
}

function trackingOf(ctx: GatewayContext, room: Room, rec: ViewRecord, now: number): ResultTracking | null {
  return shownResult(ctx, room, rec, now)?.tracking ?? null;
}

function historyResult(h: HistoryEntry): ViewRecord['result'] {
  return { duration: h.duration, timeline: h.timeline, periodId: h.periodId, digits: h.digits, sum: h.sum, seed: h.seed, commitment: h.commitment };
}

/**
 * A history entry whose period record has expired (PERIOD_TTL_S, 2 days): the result is the
 * stream's (verified by the caller); whether it was settled and how many bets it had are gone.
 */
function expiredRecord(h: HistoryEntry): ViewRecord {
  return { duration: h.duration, timeline: h.timeline, periodId: h.periodId, status: 'resulted', commitment: h.commitment, result: historyResult(h), voidReason: null, betCount: 0, settled: false };
}

function notFound(what: string): never {
  throw new FivedError(ErrorCode.NOT_FOUND, what);
}

export function mountApi(app: TemplatedApp, ctx: GatewayContext, periods: Periods, verifier: TokenVerifier, files: Map<string, StaticFile>, hooks: ApiHooks, limits: GatewayLimits): void {
  const { cfg, store, clock } = ctx;
  // per client address: FIVED_HTTP_RATE_PER_IP requests a second (a burst of twice that); health
  // checks and the platform's own servers (a valid operator token) are not counted
  setRequestGate(app, {
    clientIp: (peer, forwarded) => limits.address.resolve(peer, forwarded),
    admit: (ip, url, authorization) => {
      if (!limits.http.enabled || url === '/health' || url === '/ready') return null;
      if (authorization !== '' && operatorAllowed(authorization, cfg.operatorToken)) return null;
      if (limits.http.take(ip, clock.now())) return null;
      ctx.metrics.refused.inc({ reason: 'http_rate' });
      return { ...json(429, { code: ErrorCode.RATE_LIMITED, message: `over ${cfg.httpRatePerIp} requests per second from this address (FIVED_HTTP_RATE_PER_IP)` }), headers: { 'retry-after': '1' } };
    },
  });
  const onError = (err: unknown) => {
    ctx.metrics.errors.inc({ where: 'http' });
    ctx.logger.error({ err }, 'http handler failed');
  };
  // every route is guarded: an unexpected error is logged, counted and answered 500, never thrown into uWS
  const guarded = (method: 'get' | 'post' | 'del' | 'any', pattern: string, paramCount: number, handler: Handler) => route(app, method, pattern, paramCount, handler, onError);
  // A wrong operator token is logged (address, path; never the header) and counted; after
  // FIVED_OPERATOR_FAILURES_PER_MIN of them an address is refused for the rest of its minute.
  const operator = (req: Req) => {
    if (cfg.operatorToken === '') throw new FivedError(ErrorCode.FORBIDDEN, 'operator endpoints are disabled (no FIVED_OPERATOR_TOKEN)');
    const now = clock.now();
    if (limits.operatorFailures.blocked(req.ip, now)) {
      ctx.metrics.refused.inc({ reason: 'operator_throttled' });
      throw new FivedError(ErrorCode.RATE_LIMITED, 'too many wrong operator tokens from this address: try again in a minute');
    }
    if (!operatorAllowed(req.headers.authorization, cfg.operatorToken)) {
      const failures = limits.operatorFailures.fail(req.ip, now);
      ctx.metrics.refused.inc({ reason: 'operator_auth_failed' });
      ctx.logger.warn({ ip: req.ip, method: req.method, url: req.url, failures }, 'operator token refused');
      throw new FivedError(ErrorCode.UNAUTHORIZED, 'operator token required: Authorization: Bearer <token>');
    }
  };
  const methodNotAllowed = (pattern: string, paramCount: number) =>
    guarded('any', pattern, paramCount, (req) => json(405, { code: ErrorCode.METHOD_NOT_ALLOWED, message: `${req.method.toUpperCase()} is not allowed on ${req.url}` }));

  // ---- health, readiness, metrics ----
  guarded('get', '/health', 0, () => json(200, { status: 'ok', instance: cfg.instance, version: fivedVersion(), startedAt: processStartedAt(), now: clock.now() }));
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
  // `demo`: whether POST /api/demo/session hands out sessions, so the page learns it without a failing request
  guarded('get', '/api/time', 0, () => json(200, { now: clock.now(), demo: cfg.demo }));
  guarded('get', '/api/rooms', 0, () => {
    const now = clock.now();
    return json(200, ctx.rooms.map((room) => {
      const w = windowAt(room, now);
      const s = periods.get(room.duration, w.periodId);
      return s ? periods.roomInfo(s) : { room: room.name, duration: room.duration, timeline: room.timeline, periodId: w.periodId, startsAt: w.startsAt, freezeAt: w.freezeAt, endsAt: w.endsAt, commitment: null };
    }));
  });

  /** The period's record; a revealed result that does not verify voids the period first (row 10).
   *  No record at all: 404, or null when not `throwIfNone`. */
  async function lookup(room: Room, periodId: string): Promise<{ rec: PeriodRecord; now: number }>;
  async function lookup(room: Room, periodId: string, throwIfNone: boolean): Promise<{ rec: PeriodRecord; now: number } | null>;
  async function lookup(room: Room, periodId: string, throwIfNone = true): Promise<{ rec: PeriodRecord; now: number } | null> {
    const ref = { duration: room.duration, timeline: room.timeline, periodId };
    let rec = await store.getPeriod(ref);
    if (rec.status === 'unknown' && rec.commitment === null && rec.result === null) {
      // expired from Redis: the archive's record (FIVED_ARCHIVE_URL), when it has one
      const archived = await archivedPeriod(ctx, room, periodId);
      if (archived) return { rec: archived, now: clock.now() };
      if (!throwIfNone) return null;
      notFound(`no record of period ${periodId} in ${room.name}`);
    }
    const w = windowOf(room, periodId);
    let now = clock.now();
    if (rec.result && rec.status !== 'void' && revealed(ctx, w.endsAt, now) && !storedResultVerifies(rec.result, rec.commitment)) {
      const err = new FivedError(ErrorCode.RESULT_MISMATCH, `stored result of period ${periodId} does not verify against its commitment`, { periodId });
      if (await rejectStoredResult(ctx, w, err)) await hooks.voided(room, periodId, MISMATCH_REASON);
      rec = await store.getPeriod(ref);
      now = clock.now();
    }
    return { rec, now };
  }

  // Views of periods that can no longer change (past the gate and settled, or void): served from
  // memory, so a lookup or a history page of them costs no store round trip.
  const finalPeriods = new FinalPeriods<PeriodView>();
  /**
   * The public view of one period: from the cache when final, else read (and remembered when it
   * turned final). `fallback`: the period's history entry, for a record whose stored result has
   * expired (RESULT_TTL_S) — the entry was verified against its own commitment by the caller.
   * Returns null for a period with no record at all.
   */
  const publicView = async (room: Room, periodId: string, fallback?: HistoryEntry): Promise<PeriodView | null> => {
    const cached = finalPeriods.get(room.name, periodId);
    if (cached) return cached;
    const found = await lookup(room, periodId, fallback === undefined);
    if (!found) {
      if (!fallback) return null;
      return periodView(ctx, room, expiredRecord(fallback), clock.now());
    }
    const { now } = found;
    let rec: ViewRecord = found.rec;
    if (fallback && rec.result === null && rec.status !== 'void') rec = { ...rec, result: historyResult(fallback) };
    const view = periodView(ctx, room, rec, now);
    // past the gate and settled or void: immutable from now on (the check uses the same `now` as the view)
    if (revealed(ctx, windowOf(room, periodId).endsAt, now) && (rec.settled || rec.status === 'void')) finalPeriods.remember(room.name, periodId, view);
    return view;
  };
  guarded('get', '/api/rooms/:room/periods/:periodId', 2, async (req) => {
    const room = findRoomOr404(ctx.rooms, req.params[0]!);
    const periodId = periodIdOf(req.params[1]);
    const view = await publicView(room, periodId);
    if (!view) notFound(`no record of period ${periodId} in ${room.name}`);
    return json(200, view);
  });
  // History: the latest revealed results of the room, newest first, each exactly the object the
  // lookup above returns for that period (one builder, periodView). The reads of the periods not
  // cached are issued together: ioredis pipelines them (enableAutoPipelining), so a page of 100 costs
  // about one round trip, not 100.
  guarded('get', '/api/rooms/:room/periods', 1, async (req) => {
    const room = findRoomOr404(ctx.rooms, req.params[0]!);
    const raw = req.query.get('limit');
    const limit = raw === null ? 20 : Number(raw);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 100) throw new FivedError(ErrorCode.BAD_REQUEST, 'limit must be an integer from 1 to 100');
    const entries = await store.history(room.duration, room.timeline, { limit });
    const now = clock.now();
    const shown = entries
      .filter((h) => revealed(ctx, windowOf(room, h.periodId).endsAt, now))
      .filter((h) => {
        if (storedResultVerifies(h)) return true;
        ctx.metrics.resultMismatch.inc();
        logTag(ctx.logger, 'error', TAGS.RESULT_MISMATCH, { room: room.name, periodId: h.periodId }, 'a history entry does not verify against its commitment: not served');
        return false;
      })
      .sort((a, b) => (a.periodId < b.periodId ? 1 : a.periodId > b.periodId ? -1 : 0))
      .slice(0, limit);
    const views = (await Promise.all(shown.map((h) => publicView(room, h.periodId, h)))).filter((v): v is PeriodView => v !== null);
    // older than what Redis keeps (HISTORY_MAXLEN, expiry): from the archive, same view builder
    if (views.length < limit && ctx.archive) {
      const before = views.length > 0 ? views[views.length - 1]!.periodId : null;
      const older = await archivedHistory(ctx, room, before, limit - views.length);
      const t = clock.now();
      for (const rec of older) if (revealed(ctx, windowOf(room, rec.periodId).endsAt, t)) views.push(periodView(ctx, room, rec, t));
    }
    return json(200, views);
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
  // issue 14: a withdrawal, as the credit (idempotent by its id; E_INSUFFICIENT_FUNDS beyond the balance)
  guarded('post', '/api/wallet/debit', 0, async (req) => {
    operator(req);
    const body = jsonBody(req);
    if (typeof body.userId !== 'string' || !USER_ID.test(body.userId)) throw new FivedError(ErrorCode.INVALID_ID, 'userId must be 1-128 of A-Z a-z 0-9 _ . : @ -');
    if (typeof body.withdrawalId !== 'string' || body.withdrawalId.length === 0 || body.withdrawalId.length > 128) throw new FivedError(ErrorCode.INVALID_ID, 'withdrawalId must be a string of 1-128 characters');
    const amount = validateAmount(body.amount);
    const r = await store.debit(body.userId, amount, body.withdrawalId);
    return json(200, { userId: body.userId, ...r });
  });
  // issue 14: a user's ledger, newest first, a page at a time (`next` is the following page's `before`)
  guarded('get', '/api/wallet/:userId/ledger', 1, async (req) => {
    operator(req);
    const userId = req.params[0]!;
    if (!USER_ID.test(userId)) throw new FivedError(ErrorCode.INVALID_ID, 'userId must be 1-128 of A-Z a-z 0-9 _ . : @ -');
    for (const k of req.query.keys()) if (k !== 'before' && k !== 'limit') throw new FivedError(ErrorCode.BAD_REQUEST, `unknown query parameter ${JSON.stringify(k.slice(0, 40))}: before, limit`);
    const before = req.query.get('before');
    if (before !== null && !isEntryId(before)) throw new FivedError(ErrorCode.BAD_REQUEST, 'before must be an entryId (16 digits)');
    const raw = req.query.get('limit');
    const limit = raw === null ? 50 : /^\d{1,4}$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > LEDGER_PAGE_MAX) throw new FivedError(ErrorCode.BAD_REQUEST, `limit must be an integer from 1 to ${LEDGER_PAGE_MAX}`);
    return json(200, await ledgerWithArchive(ctx, userId, before, limit));
  });
  // the period lookup with `tracking` (who computed the result, stakes, liability): operators only
  guarded('get', '/api/rooms/:room/periods/:periodId/tracking', 2, async (req) => {
    operator(req);
    const room = findRoomOr404(ctx.rooms, req.params[0]!);
    const periodId = periodIdOf(req.params[1]);
    const { rec, now } = await lookup(room, periodId);
    return json(200, { ...periodView(ctx, room, rec, now), tracking: trackingOf(ctx, room, rec, now) });
  });
  guarded('get', '/api/rooms/:room/periods/:periodId/liability', 2, async (req) => {
    operator(req);
    const room = findRoomOr404(ctx.rooms, req.params[0]!);
    const w = windowOf(room, periodIdOf(req.params[1]));
    if (clock.now() < w.freezeAt) throw new FivedError(ErrorCode.TOO_EARLY, `liability of period ${w.periodId} is reported once it is frozen (at ${new Date(w.freezeAt).toISOString()})`);
    const gross = await store.patternTotals(w);
    const paytable = ctx.settings.paytableOf(w);
    const totals = emptyTotals();
    const patterns: Record<string, number> = {};
    for (let i = 0; i < PATTERN_COUNT; i++) {
      const g = gross[i] ?? 0;
      totals.gross[i] = g;
      // net per pattern from the gross total: >= the sum of per-bet nets, so the liability is an upper bound
      totals.net[i] = netStake(g, paytable.feeBps);
      if (g > 0) {
        const { kind, pick } = patternOf(i);
        patterns[`${kind}:${pick}`] = g;
      }
    }
    const e = exposureSummary(totals, paytable);
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
  methodNotAllowed('/api/wallet/debit', 0);
  methodNotAllowed('/api/wallet/:userId/ledger', 1);
  methodNotAllowed('/api/time', 0);
  methodNotAllowed('/api/rooms', 0);
  methodNotAllowed('/api/rooms/:room/periods', 1);
  methodNotAllowed('/api/rooms/:room/periods/:periodId', 2);
  methodNotAllowed('/api/rooms/:room/periods/:periodId/liability', 2);
  methodNotAllowed('/api/rooms/:room/periods/:periodId/tracking', 2);
  methodNotAllowed('/api/rooms/:room/periods/:periodId/void', 2);

  // ---- demo ----
  guarded('post', '/api/demo/session', 0, async (req) => {
    if (!cfg.demo) notFound('demo sessions are off (FIVED_DEMO)');
    if (!limits.demoSessions.take(req.ip, clock.now())) {
      ctx.metrics.refused.inc({ reason: 'demo_sessions' });
      throw new FivedError(ErrorCode.RATE_LIMITED, `at most ${cfg.demoSessionsPerIpPerHour} demo sessions per hour from this address (FIVED_DEMO_SESSIONS_PER_IP)`);
    }
    const userId = demoUserId();
    const { balance } = await store.credit(userId, DEMO_BALANCE, `demo:${userId}`);
    const token = await verifier.sign(userId, Math.min(86_400, cfg.maxTokenAgeS), clock.now());
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

