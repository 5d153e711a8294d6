// What the gateway's modules share: the frozen config, the injected dependencies, the rooms, the
// metrics and the connection hub. One per startGateway call (no module-level state).

import type { Config } from '../config.js';
import type { Logger } from '../runtime/log.js';
import { at, type Clock } from '../runtime/clock.js';
import { roomByDuration, windowAt, windowOf, type Room } from '../runtime/rooms.js';
import type { Registry } from 'prom-client';
import type { BetRecord, Store, StoreOptions } from '../store/types.js';
import type { ComputePool } from '../worker/pool.js';
import type { Hub } from './hub.js';
import type { SettingsFollower } from '../runtime/follow.js';
import type { GatewayMetrics } from './metrics.js';
import type { ArchiveReader } from '../archive/reader.js';
import type { LeadBound } from '../runtime/skew.js';

export interface GatewayDeps {
  store: Store;
  pool: ComputePool;
  registry: Registry;
  logger: Logger;
  clock: Clock;
}

export interface GatewayContext extends GatewayDeps {
  cfg: Readonly<Config>;
  /** the rooms in effect now (from the settings schedule: they change at a registered instant) */
  readonly rooms: readonly Room[];
  /** the settings schedule: each period's rules (paytable, limits, freeze) are those in effect when it opened */
  settings: SettingsFollower;
  metrics: GatewayMetrics;
  hub: Hub;
  /** how a worker opens its own store connection */
  storeOptions: StoreOptions;
  /** set by drain(): /ready fails, upgrades are refused */
  draining: boolean;
  /** background work the shutdown waits for */
  inflight: Set<Promise<unknown>>;
  /** last measured local clock minus the store's TIME (ms), at the round trip's midpoint; 0 until measured */
  skewMs: number;
  /**
   * An upper bound of how far this clock runs ahead of the store's (ms): local time when the TIME
   * reply was in hand minus that TIME (the store read its clock at or before that instant), plus
   * any forward step of this clock since. The midpoint estimate can be short by half a slow round
   * trip; this cannot. 0 until measured.
   */
  lead: LeadBound;
  /** The mirror bound: how far the store's clock may run ahead of this one (ms). 0 until measured. */
  behindMs: number;
  /** reads of the PostgreSQL archive (FIVED_ARCHIVE_URL; issue 14), null without one */
  archive: ArchiveReader | null;
  /** true while this gateway knows the period and has not delivered its result yet: an outcome
   *  read then waits for the result frame, whatever the clock says (a result timer running late
   *  on a loaded host must not be overtaken by a my_bets reply) */
  awaitingResult(duration: number, periodId: string): boolean;
  /** resolves once every period that has ended here has its result frame sent (or is void), within
   *  a bound: a balance or ledger read then cannot show a payout ahead of the result frame */
  untilDelivered(): Promise<void>;
}

/**
 * False while the local clock is off the store's by more than maxClockSkewMs: the gateway then
 * writes no commitments and voids nothing on its own, and holds results back by its lead.
 */
export function clockTrusted(ctx: GatewayContext): boolean {
  return Math.abs(ctx.skewMs) <= ctx.cfg.maxClockSkewMs;
}

/**
 * How long a result must wait past its end on this clock. The store's clock is the reference for
 * "the end" (rule 4): a clock that may run ahead waits the upper bound of its lead — also within
 * the allowed skew, which only decides readiness — plus 1 ms for the rounding of the measurement.
 * (The midpoint estimate was not enough: a long chaos run saw results 18 ms early from the gateway
 * 300 ms ahead, after a sample whose TIME request had waited ~36 ms before Redis answered it.)
 */
export function resultDelayMs(ctx: GatewayContext): number {
  const lead = ctx.lead.get();
  return lead > 0 ? Math.ceil(lead) + 1 : 0;
}

/** The instant (on this clock) from which a period that ends at `endsAt` may be revealed here. */
export function revealAt(ctx: GatewayContext, endsAt: number): number {
  return endsAt + resultDelayMs(ctx);
}

/**
 * THE gate of every read path (docs/design.md rule 4): the WebSocket result, the HTTP period
 * lookup and history, recovery, `my_bets` outcomes, `settled` notices and balances. Nothing of a
 * period (digits, seed, outcome, payout, settled state) is shown before this gateway has passed
 * `endsAt` by its corrected clock plus its measured lead.
 */
export function revealed(ctx: GatewayContext, endsAt: number, now: number = ctx.clock.now()): boolean {
  return now >= revealAt(ctx, endsAt);
}

/**
 * When a balance read now could show a payout this gateway may not reveal yet: the latest period
 * of any room that may have ended by the store's clock (this clock plus how far the store may run
 * ahead) but is not past this gateway's gate. Returns the instant to wait for (0: none). A
 * settlement is applied only after the end by the store's clock, so a balance read after this
 * instant shows nothing of a period this gateway has not revealed.
 */
export function balanceGateAt(ctx: GatewayContext, now: number = ctx.clock.now()): number {
  const storeMax = now + Math.max(0, ctx.behindMs) + 1;
  let until = 0;
  // a room removed by a settings switch a moment ago may have just ended its last period
  for (const room of ctx.settings.view.roomsBetween(storeMax - 60_000, storeMax)) {
    // periods are contiguous: the latest one ended by storeMax ends where the window holding storeMax starts
    const endsAt = windowAt(room, storeMax).startsAt;
    if (!revealed(ctx, endsAt, now)) until = Math.max(until, revealAt(ctx, endsAt));
  }
  return until;
}

/** Resolves once a balance read cannot show a payout this gateway has not revealed (balanceGateAt), nor one of a period whose result frame it has not sent. */
export async function untilBalanceGate(ctx: GatewayContext): Promise<void> {
  const until = balanceGateAt(ctx);
  if (until !== 0 && ctx.clock.now() < until) {
    await new Promise<void>((resolve) => {
      at(ctx.clock, until, resolve);
    });
  }
  // past the clock's gate, the result timer may still be late on a loaded host: wait for the frame
  await ctx.untilDelivered();
}

/**
 * A bet as a player may see it now: the outcome and payout of a period this gateway has not
 * revealed (revealed) stay `pending`/0 even when the store has them (a clock behind the store's).
 * A refund (void) is public at once.
 */
export function hideUnrevealed(ctx: GatewayContext, b: BetRecord, now: number): BetRecord {
  if (b.state !== 'won' && b.state !== 'lost') return b;
  const room = roomByDuration(ctx.settings.view.roomsBetween(now - 86_400_000, now), b.duration);
  if (!room) return b; // a room no longer configured: its periods are long over
  if (revealed(ctx, windowOf(room, b.periodId).endsAt, now) && !ctx.awaitingResult(b.duration, b.periodId)) return b;
  return { ...b, state: 'pending', payout: 0 };
}

/** Runs a background task, tracked for shutdown; errors are logged, never thrown. */
export function background(ctx: GatewayContext, where: string, fn: () => Promise<unknown>): void {
  let started: Promise<unknown>;
  try {
    started = fn();
  } catch (err) {
    started = Promise.reject(err); // a task that threw before its first await: counted the same way
  }
  const p = started
    .catch((err: unknown) => {
      ctx.metrics.errors.inc({ where });
      ctx.logger.error({ err, where }, `background task ${where} failed`);
    })
    .finally(() => ctx.inflight.delete(p));
  ctx.inflight.add(p);
}

export function periodKey(duration: number, periodId: string): string {
  return `${duration}:${periodId}`;
}
