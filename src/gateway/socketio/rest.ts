// The replaced system's REST routes (docs/socketio.md "REST"): last result, history and a
// player's bets of a 5D room, all their bets, and the balance, with the same JSON shapes and
// `Authorization: Bearer <the player's JWT>` (auth.ts). Money in rupees. Never a result before the
// period's end on this gateway's gate (context.revealed, rule 4): the replaced system's
// last-result showed it at the freeze; this one does not.

import { isPeriodId } from '../../core/ids.js';
import { roomByDuration, windowOf, type Room } from '../../runtime/rooms.js';
import type { BetRecord, HistoryEntry } from '../../store/types.js';
import { storedResultVerifies } from '../../store/validate.js';
import { revealed, type GatewayContext } from '../context.js';
import { json, route, type Reply, type Req } from '../http.js';
import { untilBalanceGate } from '../ws.js';
import type { TemplatedApp } from '../uws.js';
import { AUTH_TEXT, CompatAuthError, type CompatVerifier } from './auth.js';
import { ALGORITHM, GAME_TYPE, iso, resultDigits } from './events.js';
import { minorToRupees } from './rupees.js';
import { betItems, pagination, type BetItem } from './views.js';

const MAX_SCAN = 1000; // bets read per my-bets request (the newest)

class RestError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const fail = (status: number, message: string): Reply => json(status, { success: false, message });

async function userOf(req: Req, verifier: CompatVerifier): Promise<string> {
  const h = req.headers.authorization;
  if (!h.startsWith('Bearer ')) throw new RestError(401, 'No token provided');
  try {
    return (await verifier.verify(h.slice(7))).userId;
  } catch (err) {
    throw new RestError(401, err instanceof CompatAuthError && err.message === AUTH_TEXT.EXPIRED ? 'Token expired' : 'Invalid token');
  }
}

function roomOf(ctx: GatewayContext, game: string, duration: string): Room {
  const g = game.toLowerCase();
  const room = roomByDuration(ctx.rooms, Number(duration));
  if (g !== '5d' && g !== 'fived') throw new RestError(400, `Invalid game type ${JSON.stringify(game)}: 5d`);
  if (!room || !/^\d+$/.test(duration)) throw new RestError(400, `Invalid duration for 5d. Valid durations: ${ctx.rooms.map((r) => r.duration).join(', ')}`);
  return room;
}

function intParam(req: Req, name: string, dflt: number, max: number): number {
  const raw = req.query.get(name);
  if (raw === null || raw === '') return dflt;
  // digits only: Number() would take '0x10', '1e2' and ' 5 ' too
  const n = /^\d{1,9}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 0 || n > max) throw new RestError(400, `${name} must be an integer from 0 to ${max}`);
  return n;
}

/** The room's ended, verifying results, newest first, at most n. */
async function endedResults(ctx: GatewayContext, room: Room, n: number): Promise<HistoryEntry[]> {
  const entries = await ctx.store.history(room.duration, room.timeline, { limit: Math.min(5000, n + 2) });
  const now = ctx.clock.now();
  return entries
    .filter((h) => revealed(ctx, windowOf(room, h.periodId).endsAt, now) && storedResultVerifies(h))
    .sort((a, b) => (a.periodId < b.periodId ? 1 : -1))
    .slice(0, n);
}

function resultItem(room: Room, h: HistoryEntry) {
  return {
    periodId: h.periodId, result: resultDigits(h), createdAt: iso(windowOf(room, h.periodId).endsAt), gameType: GAME_TYPE, duration: room.duration,
    verification: { seed: h.seed, commitment: h.commitment, algorithm: ALGORITHM },
  };
}

/** status and date filters of the my-bets routes (dates: both or neither). */
function betFilter(req: Req): { status: string | null; from: number | null; to: number | null } {
  const status = req.query.get('status');
  if (status !== null && !['pending', 'won', 'lost', 'refunded'].includes(status)) throw new RestError(400, 'status must be pending, won, lost or refunded');
  const start = req.query.get('startDate');
  const end = req.query.get('endDate');
  if ((start === null) !== (end === null)) throw new RestError(400, 'Both startDate and endDate are required for a date filter');
  const from = start === null ? null : Date.parse(start);
  const to = end === null ? null : Date.parse(end);
  if ((from !== null && Number.isNaN(from)) || (to !== null && Number.isNaN(to))) throw new RestError(400, 'startDate and endDate must be dates');
  return { status, from, to };
}

function matches(item: BetItem, raw: BetRecord, f: ReturnType<typeof betFilter>): boolean {
  if (f.status !== null && item.status !== f.status) return false;
  if (f.from !== null && raw.placedAt < f.from) return false;
  if (f.to !== null && raw.placedAt > f.to + (f.to % 86_400_000 === 0 ? 86_400_000 - 1 : 0)) return false;
  return true;
}

async function myBets(ctx: GatewayContext, userId: string, req: Req, duration: number | null) {
  const f = betFilter(req);
  const periodId = req.query.get('periodId');
  const room = duration === null ? undefined : roomByDuration(ctx.rooms, duration);
  const ref = room && isPeriodId(periodId) ? { duration: room.duration, timeline: room.timeline, periodId } : undefined;
  const raw = (await ctx.store.userBets(userId, ref, MAX_SCAN)).filter((b) => duration === null || b.duration === duration);
  const items = await betItems(ctx, raw);
  const kept = items.filter((it, i) => matches(it, raw[i]!, f));
  return { f, periodId, kept };
}

/**
 * CORS for a browser front end on another origin (the replaced system allowed its FRONTEND_URL):
 * the origins of FIVED_ORIGINS (any when empty), with credentials, as on the Socket.IO endpoint.
 */
function cors(ctx: GatewayContext, origin: string | undefined): Record<string, string> {
  if (!origin || (ctx.cfg.origins.length > 0 && !ctx.cfg.origins.includes(origin))) return {};
  return { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true', vary: 'Origin' };
}

const PREFLIGHT = { 'access-control-allow-methods': 'GET, OPTIONS', 'access-control-allow-headers': 'Authorization, Content-Type, X-Auth-Token', 'access-control-max-age': '600' };

export function mountCompatRest(app: TemplatedApp, ctx: GatewayContext, verifier: CompatVerifier): void {
  const onError = (err: unknown) => ctx.logger.error({ err }, 'socket.io compatibility route failed');
  const get = (pattern: string, params: number, fn: (req: Req) => Promise<Reply>) => {
    route(app, 'get', pattern, params, async (req) => {
      let reply: Reply;
      try {
        reply = await fn(req);
      } catch (err) {
        if (!(err instanceof RestError)) throw err;
        reply = fail(err.status, err.message);
      }
      return { ...reply, headers: { ...reply.headers, ...cors(ctx, req.headers.origin) } };
    }, onError);
    route(app, 'options', pattern, params, (req) => ({ status: 204, body: '', contentType: 'text/plain', headers: { ...cors(ctx, req.headers.origin), ...PREFLIGHT } }), onError);
  };
  mountResultRoutes(ctx, verifier, get);
  mountPlayerRoutes(ctx, verifier, get);
}

type Get = (pattern: string, params: number, fn: (req: Req) => Promise<Reply>) => void;

/** last-result and history: ended periods only (the reveal gate). */
function mountResultRoutes(ctx: GatewayContext, verifier: CompatVerifier, get: Get): void {

  get('/api/games/:game/:duration/last-result', 2, async (req) => {
    await userOf(req, verifier);
    const room = roomOf(ctx, req.params[0]!, req.params[1]!);
    const [h] = await endedResults(ctx, room, 1);
    return h ? json(200, { success: true, result: resultItem(room, h) }) : json(200, { success: false, message: 'No results found' });
  });

  get('/api/games/:game/:duration/history', 2, async (req) => {
    await userOf(req, verifier);
    const room = roomOf(ctx, req.params[0]!, req.params[1]!);
    const limit = Math.max(1, intParam(req, 'limit', 10, 50));
    const page = Math.max(1, intParam(req, 'page', 1, 1_000_000));
    const offset = req.query.get('offset') !== null ? intParam(req, 'offset', 0, 4_900) : (page - 1) * limit;
    const ended = await endedResults(ctx, room, offset + limit + 1);
    const results = ended.slice(offset, offset + limit).map((h) => resultItem(room, h));
    // fived keeps a capped history: `total` counts what was read (at least one more when hasMore)
    return json(200, { success: true, data: { results, pagination: { ...pagination(ended.length, page, limit, offset), hasMore: ended.length > offset + limit } }, gameType: GAME_TYPE, duration: room.duration });
  });

}

/** A player's bets and balance (the user from the token, never from the request). */
function mountPlayerRoutes(ctx: GatewayContext, verifier: CompatVerifier, get: Get): void {
  get('/api/games/:game/:duration/my-bets', 2, async (req) => {
    const userId = await userOf(req, verifier);
    const room = roomOf(ctx, req.params[0]!, req.params[1]!);
    const limit = Math.max(1, intParam(req, 'limit', 10, 1000));
    const page = Math.max(1, intParam(req, 'page', 1, 1_000_000));
    const { f, periodId, kept } = await myBets(ctx, userId, req, room.duration);
    const offset = (page - 1) * limit;
    const filters = { gameType: GAME_TYPE, duration: room.duration, periodId, status: f.status, startDate: req.query.get('startDate'), endDate: req.query.get('endDate') };
    return json(200, { success: true, data: { bets: kept.slice(offset, offset + limit), pagination: pagination(kept.length, page, limit, offset), filters } });
  });

  get('/api/games/:game/my-bets', 1, async (req) => {
    const userId = await userOf(req, verifier);
    const g = req.params[0]!.toLowerCase();
    if (g !== '5d' && g !== 'fived') throw new RestError(400, `Invalid game type ${JSON.stringify(req.params[0])}: 5d`);
    const limit = Math.max(1, intParam(req, 'limit', 20, 50));
    const page = Math.max(1, intParam(req, 'page', 1, 1_000_000));
    const { kept } = await myBets(ctx, userId, req, null);
    const pages = Math.max(1, Math.ceil(kept.length / limit));
    return json(200, {
      success: true,
      data: {
        gameType: GAME_TYPE, bets: kept.slice((page - 1) * limit, page * limit), summary: summary(kept),
        pagination: { current_page: page, total_pages: pages, total_records: kept.length, limit, has_next_page: page < pages, has_prev_page: page > 1 },
      },
    });
  });

  get('/api/wallet/balance', 0, async (req) => {
    const userId = await userOf(req, verifier);
    await untilBalanceGate(ctx);
    const balance = await ctx.store.balance(userId);
    // fived keeps no deposit/withdrawal history (the platform's wallet does): null / 0
    return json(200, { success: true, wallet: { balance: (balance / 100).toFixed(2), lastRecharge: null, lastWithdrawal: null, totalRecharges: 0, totalWithdrawals: 0 } });
  });

  get('/api/wallet/balances', 0, async (req) => {
    const userId = await userOf(req, verifier);
    await untilBalanceGate(ctx);
    const balance = await ctx.store.balance(userId);
    return json(200, { success: true, mainWallet: { balance: minorToRupees(balance), currency: 'INR' }, thirdPartyWallet: { balance: 0, currency: 'INR', exists: false } });
  });
}

function summary(items: readonly BetItem[]) {
  const byDuration: Record<string, { count: number; total_amount: number; wins: number; losses: number }> = {};
  let amount = 0;
  for (const it of items) {
    const d = (byDuration[String(it.duration)] ??= { count: 0, total_amount: 0, wins: 0, losses: 0 });
    d.count += 1;
    d.total_amount = Math.round((d.total_amount + it.betAmount) * 100) / 100;
    if (it.status === 'won') d.wins += 1;
    if (it.status === 'lost') d.losses += 1;
    amount = Math.round((amount + it.betAmount) * 100) / 100;
  }
  return {
    total_bets: items.length, total_amount: amount, total_wins: items.filter((i) => i.status === 'won').length,
    total_losses: items.filter((i) => i.status === 'lost').length, pending_bets: items.filter((i) => i.status === 'pending').length, by_duration: byDuration,
  };
}
