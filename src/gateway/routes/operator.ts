// Operator routes (bearer token; disabled when FIVED_OPERATOR_TOKEN is empty; never exposed
// through the public frontend): bets on a player's behalf, the wallet, a period's tracking and
// liability, and the void.

import { digitsOfOutcome, emptyTotals, exposureSummary } from '../../core/exposure.js';
import { isEntryId } from '../../core/ledger.js';
import { netStake, patternOf, validateAmount } from '../../core/rules.js';
import { PATTERN_COUNT, type PeriodWindow } from '../../core/types.js';
import { ErrorCode, FivedError } from '../../errors.js';
import { windowOf, type Room } from '../../runtime/rooms.js';
import { LEDGER_PAGE_MAX } from '../../store/ledger.js';
import { ledgerWithArchive } from '../archive.js';
import { operatorAllowed } from '../auth.js';
import { placeBet } from '../bets.js';
import type { GatewayContext } from '../context.js';
import { json, jsonBody, type Reply, type Req } from '../http.js';
import type { GatewayLimits } from '../limits.js';
import { betFields, periodIdOf } from '../messages.js';
import type { Periods } from '../periods.js';
import { limitOf, roomOf, userIdOf, walletIdOf, type ApiHooks, type Routes } from './shared.js';
import { periodView, trackingOf, type PeriodReader } from './views.js';

/**
 * Throws unless the request carries the operator token. A wrong token is logged (address, path;
 * never the header) and counted; after FIVED_OPERATOR_FAILURES_PER_MIN of them an address is
 * refused for the rest of its minute.
 */
function requireOperator(ctx: GatewayContext, limits: GatewayLimits, req: Req): void {
  if (ctx.cfg.operatorToken === '') throw new FivedError(ErrorCode.FORBIDDEN, 'operator endpoints are disabled (no FIVED_OPERATOR_TOKEN)');
  const now = ctx.clock.now();
  if (limits.operatorFailures.blocked(req.ip, now)) {
    ctx.metrics.refused.inc({ reason: 'operator_throttled' });
    throw new FivedError(ErrorCode.RATE_LIMITED, 'too many wrong operator tokens from this address: try again in a minute');
  }
  if (!operatorAllowed(req.headers.authorization, ctx.cfg.operatorToken)) {
    const failures = limits.operatorFailures.fail(req.ip, now);
    ctx.metrics.refused.inc({ reason: 'operator_auth_failed' });
    ctx.logger.warn({ ip: req.ip, method: req.method, url: req.url, failures }, 'operator token refused');
    throw new FivedError(ErrorCode.UNAUTHORIZED, 'operator token required: Authorization: Bearer <token>');
  }
}

/** Registers an operator route: the token is checked first, before anything of the request is read. */
type Op = (method: 'get' | 'post', pattern: string, paramCount: number, handler: (req: Req) => Promise<Reply>) => void;

export interface OperatorDeps {
  periods: Periods;
  reader: PeriodReader;
  hooks: ApiHooks;
  limits: GatewayLimits;
}

export function mountOperator(r: Routes, d: OperatorDeps): void {
  const { ctx } = r;
  const op: Op = (method, pattern, paramCount, handler) =>
    r.add(method, pattern, paramCount, (req) => {
      requireOperator(ctx, d.limits, req);
      return handler(req);
    });
  mountWallet(ctx, op, d.periods);
  // the period lookup with `tracking` (who computed the result, stakes, liability): operators only
  op('get', '/api/rooms/:room/periods/:periodId/tracking', 2, async (req) => {
    const room = roomOf(ctx.rooms, req.params[0]!);
    const { rec, now } = await d.reader.lookup(room, periodIdOf(req.params[1]));
    return json(200, { ...periodView(ctx, room, rec, now), tracking: trackingOf(ctx, room, rec, now) });
  });
  op('get', '/api/rooms/:room/periods/:periodId/liability', 2, async (req) => {
    const room = roomOf(ctx.rooms, req.params[0]!);
    const w = windowOf(room, periodIdOf(req.params[1]));
    if (ctx.clock.now() < w.freezeAt) throw new FivedError(ErrorCode.TOO_EARLY, `liability of period ${w.periodId} is reported once it is frozen (at ${new Date(w.freezeAt).toISOString()})`);
    return json(200, await liability(ctx, room, w));
  });
  op('post', '/api/rooms/:room/periods/:periodId/void', 2, async (req) => {
    const room = roomOf(ctx.rooms, req.params[0]!);
    const w = windowOf(room, periodIdOf(req.params[1]));
    const body = jsonBody(req);
    if (typeof body.reason !== 'string' || body.reason.trim() === '' || body.reason.length > 200) throw new FivedError(ErrorCode.BAD_REQUEST, 'reason must be a string of 1-200 characters');
    if (ctx.clock.now() >= w.endsAt) throw new FivedError(ErrorCode.PERIOD_CLOSED, `period ${w.periodId} has ended; its result is public and cannot be voided here`);
    const res = await d.hooks.voidPeriod(room, w.periodId, body.reason.trim());
    return json(200, { room: room.name, periodId: w.periodId, void: true, ...res });
  });
  for (const p of ['/api/bets', '/api/wallet/credit', '/api/wallet/debit']) r.methodNotAllowed(p, 0);
  r.methodNotAllowed('/api/wallet/:userId/ledger', 1);
  for (const p of ['liability', 'tracking', 'void']) r.methodNotAllowed(`/api/rooms/:room/periods/:periodId/${p}`, 2);
}

function mountWallet(ctx: GatewayContext, op: Op, periods: Periods): void {
  op('post', '/api/bets', 0, async (req) => {
    const body = jsonBody(req);
    const userId = userIdOf(body.userId);
    return json(200, await placeBet(ctx, periods, userId, betFields(body)));
  });
  op('post', '/api/wallet/credit', 0, async (req) => {
    const body = jsonBody(req);
    const userId = userIdOf(body.userId);
    const depositId = walletIdOf(body.depositId, 'depositId');
    const r = await ctx.store.credit(userId, validateAmount(body.amount), depositId);
    return json(200, { userId, ...r });
  });
  // issue 14: a withdrawal, as the credit (idempotent by its id; E_INSUFFICIENT_FUNDS beyond the balance)
  op('post', '/api/wallet/debit', 0, async (req) => {
    const body = jsonBody(req);
    const userId = userIdOf(body.userId);
    const withdrawalId = walletIdOf(body.withdrawalId, 'withdrawalId');
    const r = await ctx.store.debit(userId, validateAmount(body.amount), withdrawalId);
    return json(200, { userId, ...r });
  });
  // issue 14: a user's ledger, newest first, a page at a time (`next` is the following page's `before`)
  op('get', '/api/wallet/:userId/ledger', 1, async (req) => {
    const userId = userIdOf(req.params[0]);
    for (const k of req.query.keys()) if (k !== 'before' && k !== 'limit') throw new FivedError(ErrorCode.BAD_REQUEST, `unknown query parameter ${JSON.stringify(k.slice(0, 40))}: before, limit`);
    const before = req.query.get('before');
    if (before !== null && !isEntryId(before)) throw new FivedError(ErrorCode.BAD_REQUEST, 'before must be an entryId (16 digits)');
    const limit = limitOf(req.query.get('limit'), 50, LEDGER_PAGE_MAX);
    return json(200, await ledgerWithArchive(ctx, userId, before, limit));
  });
}

/** A frozen period's liability, from the store's per-pattern gross totals. */
async function liability(ctx: GatewayContext, room: Room, w: PeriodWindow) {
  const gross = await ctx.store.patternTotals(w);
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
  return {
    room: room.name, periodId: w.periodId, totalStake: e.totalStake, totalNet: e.totalNet, patternTotals: patterns,
    maxLiability: e.maxLiability, maxOutcome: digitsOfOutcome(e.maxOutcome), minLiability: e.minLiability, totalExposure: e.totalExposure,
    note: 'net stakes derived from per-pattern gross totals: liability figures are upper bounds (within one minor unit per bet)',
  };
}
