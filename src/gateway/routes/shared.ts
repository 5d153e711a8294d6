// What the route modules (public, operator, demo) share: the guarded registration with its 405
// answers, and the parsers of path, query and body fields. One place per rule (docs/design.md):
// ids are checked with core/ids.ts, and a field's error says the same thing on every route.

import { isUserId, USER_ID_RULE } from '../../core/ids.js';
import { ErrorCode, FivedError } from '../../errors.js';
import { findRoom, type Room } from '../../runtime/rooms.js';
import type { GatewayContext } from '../context.js';
import { json, route, type Handler } from '../http.js';
import type { TemplatedApp } from '../uws.js';

export type Method = 'get' | 'post' | 'del' | 'any';

export interface ApiHooks {
  /** operator void: marks the period void here and in the store, tells everyone */
  voidPeriod(room: Room, periodId: string, reason: string): Promise<{ refunded: number }>;
  /** the store voided the period (a result that did not verify): mark it void here, tell this gateway's clients */
  voided(room: Room, periodId: string, reason: string): Promise<void>;
}

/** How a route module registers its routes. */
export interface Routes {
  ctx: GatewayContext;
  /** every route is guarded: an unexpected error is logged, counted and answered 500, never thrown into uWS */
  add(method: Method, pattern: string, paramCount: number, handler: Handler): void;
  /** answers 405 on every other method of the path */
  methodNotAllowed(pattern: string, paramCount: number): void;
}

export function routesOf(app: TemplatedApp, ctx: GatewayContext): Routes {
  const onError = (err: unknown) => {
    ctx.metrics.errors.inc({ where: 'http' });
    ctx.logger.error({ err }, 'http handler failed');
  };
  const add = (method: Method, pattern: string, paramCount: number, handler: Handler) => route(app, method, pattern, paramCount, handler, onError);
  const methodNotAllowed = (pattern: string, paramCount: number) =>
    add('any', pattern, paramCount, (req) => json(405, { code: ErrorCode.METHOD_NOT_ALLOWED, message: `${req.method.toUpperCase()} is not allowed on ${req.url}` }));
  return { ctx, add, methodNotAllowed };
}

export function notFound(what: string): never {
  throw new FivedError(ErrorCode.NOT_FOUND, what);
}

/** The room named in a path, or E_NOT_FOUND listing the rooms. */
export function roomOf(rooms: readonly Room[], name: string): Room {
  try {
    return findRoom(rooms, name);
  } catch {
    throw new FivedError(ErrorCode.NOT_FOUND, `unknown room ${JSON.stringify(name)}; rooms: ${rooms.map((r) => r.name).join(', ')}`);
  }
}

/** A user id (core/ids.ts), or E_INVALID_ID. */
export function userIdOf(v: unknown): string {
  if (!isUserId(v)) throw new FivedError(ErrorCode.INVALID_ID, `userId must be ${USER_ID_RULE}`);
  return v;
}

/** An idempotency id of the wallet (depositId, withdrawalId): 1-128 characters, or E_INVALID_ID. */
export function walletIdOf(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 128) throw new FivedError(ErrorCode.INVALID_ID, `${field} must be a string of 1-128 characters`);
  return v;
}

/**
 * The `limit` query parameter: `dflt` when absent, else plain digits (at most 4: no sign, space,
 * exponent or hex, which Number() would take) for an integer from 1 to `max`, or E_BAD_REQUEST.
 */
export function limitOf(raw: string | null, dflt: number, max: number): number {
  const limit = raw === null ? dflt : /^\d{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > max) throw new FivedError(ErrorCode.BAD_REQUEST, `limit must be an integer from 1 to ${max}`);
  return limit;
}
