// The scheduler: one active instance (lease + fencing epoch) commits upcoming periods, at each
// room's freeze snapshots the bets and pre-computes in the worker pool, stores the result once
// (SET … NX, the runbook key), announces it, and applies the settlement at the period's end.
// A standby polls the lease and takes over when it lapses. The draw depends only on the committed
// seed (docs/design.md rule 1): nothing here reads the bets except through the worker's settlement.

import type { Config } from '../config.js';
import type { PeriodWindow } from '../core/types.js';
import { ErrorCode, isFivedError, toFivedError } from '../errors.js';
import type { Fence, Lease, Store, StoreOptions } from '../store/types.js';
import { periodMember } from '../store/keys.js';
import type { ComputePool } from '../worker/pool.js';
import { at, everySecond, type Cancel, type Clock } from '../runtime/clock.js';
import { measureClock, storeAlignedClock } from '../runtime/skew.js';
import { commitPeriod, commitTargets } from '../runtime/commit.js';
import { assertResultVerifies, buildResult, computeInPool, readCommitted } from '../runtime/compute.js';
import { CHANNELS, type CompletedMessage } from '../runtime/bus.js';
import { logTag, TAGS, type Logger } from '../runtime/log.js';
import type { Registry } from '../runtime/metrics.js';
import { nextWindow, windowAt, type Room } from '../runtime/rooms.js';
import { SettingsFollower, startupLog } from '../runtime/follow.js';
import { GAP_REWIND_MS, GapSweep } from '../runtime/gaps.js';
import { finish, reconcile, type Finished } from '../runtime/reconcile.js';
import { storeOptionsOf } from '../runtime/pool.js';
import { watchHeldCredits } from '../runtime/wallet.js';
import { LeaseKeeper } from './lease.js';
import { schedulerMetrics } from './metrics.js';
import { serveSchedulerHttp } from './http.js';

export interface SchedulerDeps {
  store: Store;
  pool: Pick<ComputePool, 'run'>;
  registry: Registry;
  logger: Logger;
  clock: Clock;
  /** how workers open their own store connection; defaults to the config's */
  storeOptions?: StoreOptions;
  /** serve /metrics, /health, /ready on cfg.schedulerPort (default true; `fived all` passes false) */
  http?: boolean;
}

export interface SchedulerHandle {
  stop(): Promise<void>;
  isActive(): boolean;
  epoch(): number;
  /** the metrics port actually bound, or null */
  port: number | null;
  /** what the scheduler's /ready answers */
  readiness(): SchedulerReadiness;
}

export interface SchedulerReadiness {
  ready: boolean;
  reasons: string[];
  role: 'active' | 'standby';
  /** local clock minus Redis TIME at the last measurement, null before the first */
  skewMs: number | null;
}

/** How often the scheduler measures its clock against the store's. */
const CLOCK_CHECK_MS = 1000;
const CLOCK_TIMEOUT_MS = 1000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e: unknown) => { clearTimeout(t); reject(e instanceof Error ? e : new Error(String(e))); });
  });
}

export async function startScheduler(cfg: Readonly<Config>, deps: SchedulerDeps): Promise<SchedulerHandle> {
  const { store, pool } = deps;
  const log = deps.logger;
  // the settings schedule decides the rooms and each period's rules (docs/operations.md, "Changing game settings")
  const settings = await SettingsFollower.start(store, cfg, cfg.instance, deps.clock, log);
  startupLog(settings, log);
  const view = () => settings.view;
  const m = schedulerMetrics(deps.registry);
  watchHeldCredits(store, deps.registry, log);

  // The store's clock decides the freeze and the end (docs/design.md rule 4). The scheduler measures
  // its clock against Redis TIME like the gateways; beyond the allowed skew it neither takes nor
  // keeps the lease, and within it every instant it acts on comes from a clock that never runs
  // ahead of the store's (the local clock minus the upper bound of its measured lead).
  const skew: { skewMs: number | null; leadMs: number; error: string | null } = { skewMs: null, leadMs: 0, error: null };
  const clock: Clock = storeAlignedClock(deps.clock, () => skew.leadMs);
  const clockVeto = (): string | null => {
    if (skew.skewMs === null) return `clock not yet measured against the store${skew.error ? ` (${skew.error})` : ''}`;
    if (Math.abs(skew.skewMs) > cfg.maxClockSkewMs) return `clock skew ${skew.skewMs} ms vs the store exceeds ${cfg.maxClockSkewMs} ms`;
    return null;
  };
  const storeOptions = deps.storeOptions ?? storeOptionsOf(cfg);
  const computeDeps = { store, pool, cfg, storeOptions, paytableFor: (w: PeriodWindow) => settings.paytableOf(w) };
  /** an instance started with other game settings does not take the lease (it says what differs) */
  const veto = (): string | null => clockVeto() ?? (settings.reasons()[0] ?? null);

  const inflight = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>): void => {
    const q = p.catch((err) => log.error({ err: toFivedError(err) }, 'scheduler task failed')).finally(() => inflight.delete(q));
    inflight.add(q);
  };

  // per-activation state; replaced on every lease acquisition
  let timers = new Map<string, Cancel>();
  let ticker: Cancel | null = null;
  let abort = new AbortController();
  const lastCommitted = new Map<string, number>(); // `${room}:${periodId}` committed (or found void) this activation -> its end
  const precalculated = new Set<string>(); // periods this process pre-calculated (settled-elsewhere metric)
  const running = new Map<string, Promise<void>>(); // pre-calculations in flight, by period
  let reconciling = false;
  /** periods that ended while the store refused writes (issue 13), walked from this process's start on */
  const gaps = new GapSweep({ roomAt: (d, t) => view().roomAt(d, t), roomsBetween: (a, b) => view().roomsBetween(a, b) }, clock.now());
  // a reconnect may be a failover that rolled back what the walk saw finished: look again
  store.on('ready', () => gaps.rewind(clock.now() - GAP_REWIND_MS));
  let stopping = false;

  const cancelAll = () => {
    ticker?.();
    ticker = null;
    for (const c of timers.values()) c();
    timers = new Map();
  };

  const keeper = new LeaseKeeper(store, cfg.instance, cfg.leaseTtlMs, {
    onAcquired: (l: Lease) => {
      m.leaseActive.set(1);
      m.leaseEpoch.set(l.epoch);
      m.leaseChanges.inc({ event: 'acquired' });
      logTag(log, 'info', TAGS.LEASE, { epoch: l.epoch }, `Lease acquired: ${cfg.instance}@${cfg.host} is the active scheduler (epoch ${l.epoch})`);
      activate();
    },
    onLost: (l: Lease, why: string) => {
      m.leaseActive.set(0);
      m.leaseChanges.inc({ event: 'lost' });
      logTag(log, 'warn', TAGS.LEASE, { epoch: l.epoch, why }, `Lease lost (epoch ${l.epoch}): ${why}; standing by`);
      cancelAll();
      abort.abort(new Error('lease lost'));
    },
    onError: (err: unknown) => log.warn({ err: toFivedError(err) }, 'lease call failed'),
  }, veto);

  /** One measurement against Redis TIME; a clock beyond the limit steps down at once. */
  async function checkClock(): Promise<void> {
    try {
      const s = await withTimeout(measureClock(deps.clock, () => store.serverTime()), CLOCK_TIMEOUT_MS, 'store TIME');
      const wasTrusted = clockVeto() === null;
      skew.skewMs = s.skewMs;
      skew.leadMs = s.leadMs;
      skew.error = null;
      m.clockSkew.set(s.skewMs / 1000);
      const veto = clockVeto();
      if (veto !== null && (wasTrusted || keeper.isActive())) {
        log.error({ skewMs: s.skewMs, limit: cfg.maxClockSkewMs }, `scheduler not ready: ${veto}; not holding the lease (the standby or the gateways' fallback carries on)`);
        await keeper.stepDown(veto);
      } else if (veto === null && !wasTrusted) log.info({ skewMs: s.skewMs }, 'scheduler clock agrees with the store');
    } catch (err) {
      skew.error = err instanceof Error ? err.message : String(err);
    }
    m.ready.set(readiness().ready ? 1 : 0);
  }

  function readiness(): SchedulerReadiness {
    const reasons: string[] = [];
    if (!store.healthy()) reasons.push('store unavailable or inconsistent');
    const cv = clockVeto();
    if (cv !== null) reasons.push(cv);
    else if (skew.error !== null) reasons.push(`store check failed: ${skew.error}`);
    reasons.push(...settings.reasons());
    return { ready: reasons.length === 0, reasons, role: keeper.isActive() ? 'active' : 'standby', skewMs: skew.skewMs };
  }

  function activate(): void {
    cancelAll();
    abort = new AbortController();
    lastCommitted.clear();
    // what the previous holder (or this one, before it lost the lease) saw finished may have been
    // rolled back; a standby's walk starts where this process started, at most GAP_LOOKBACK_MS back
    gaps.rewind(clock.now() - GAP_REWIND_MS);
    ticker = everySecond(clock, () => {
      track(commitTick());
      scheduleNewRooms();
      // periods its end timer did not finish (a failed call, a Redis restart): after half the grace
      track(reconcileOverdue(clock.now() - Math.floor(cfg.settleGraceMs / 2)));
    });
    track(commitTick());
    // on taking over: everything the previous holder left unfinished, at once
    track(reconcileOverdue(clock.now()));
    const now = clock.now();
    for (const room of view().roomsAt(now)) schedulePeriod(room, windowAt(room, now));
  }

  /** A room added by a settings change gets its timers from the instant it is in effect. */
  function scheduleNewRooms(): void {
    const now = clock.now();
    for (const room of view().roomsAt(now)) if (!timers.has(room.name)) schedulePeriod(room, windowAt(room, now));
  }

  /** Commit ahead: the next period of every room, and at a cold start the current one while
   *  before its freeze (opened late, issue 13); once per period (create-if-absent). */
  async function commitTick(): Promise<void> {
    if (!keeper.isActive()) return;
    const now = clock.now();
    await Promise.all(
      commitTargets(view(), now).map(async ({ room, w }) => {
        const key = `${room.name}:${w.periodId}`;
        if (lastCommitted.has(key)) return;
        const r = await commitPeriod(store, w, now);
        lastCommitted.set(key, w.endsAt);
        if (r.created) {
          m.commits.inc({ room: room.name });
          const late = now >= w.startsAt;
          logTag(log, late ? 'info' : 'debug', TAGS.COMMIT, { room: room.name, periodId: w.periodId, commitment: r.commitment, late }, late ? `Period ${w.periodId} opened late: committed now, betting until the freeze` : `Committed period ${w.periodId}`);
        }
      }),
    );
    // forget the periods that are over
    for (const [key, endsAt] of lastCommitted) if (endsAt <= now) lastCommitted.delete(key);
  }

  /** Finish every period with bets that ended by `endedBy` and is not settled (or refunded) yet. */
  /** Voids or finishes the periods that ended with nothing (or only a commitment) stored. */
  async function fillGaps(endedBy: number, fence: Fence): Promise<void> {
    const filled = await gaps.sweep(computeDeps, { now: clock.now(), endedBy, who: who(fence.epoch), fence, signal: abort.signal }, (w, err) => {
      logTag(log, 'warn', TAGS.VOID, { room: `fiveD_${w.duration}`, periodId: w.periodId, err: toFivedError(err) }, `Period ${w.periodId} ended with nothing stored and could not be finished yet; retrying next second`);
    });
    for (const w of filled) logTag(log, 'warn', TAGS.VOID, { room: `fiveD_${w.duration}`, periodId: w.periodId }, `Period ${w.periodId} ended while the store refused writes: finished now (void, or result from its commitment)`);
  }

  async function reconcileOverdue(endedBy: number): Promise<void> {
    const fence = keeper.fence();
    if (!fence || reconciling || stopping) return;
    reconciling = true;
    try {
      const done = await reconcile(computeDeps, { now: clock.now(), endedBy, who: who(fence.epoch), fence, signal: abort.signal }, (w, err) => {
        if (isFivedError(err, ErrorCode.RESULT_MISMATCH)) {
          m.resultMismatch.inc({ room: `fiveD_${w.duration}` });
          logTag(log, 'error', TAGS.RESULT_MISMATCH, { room: `fiveD_${w.duration}`, periodId: w.periodId, err: toFivedError(err), alert: true }, `Stored result of period ${w.periodId} does not verify against its commitment and could not be voided`);
          return;
        }
        logTag(log, 'error', TAGS.SETTLE, { room: `fiveD_${w.duration}`, periodId: w.periodId, err: toFivedError(err) }, `Completing period ${w.periodId} failed; retrying next second`);
      });
      for (const d of done) {
        if (d.how === 'busy' || d.how === 'already') continue;
        if (d.how === 'rejected') {
          m.resultMismatch.inc({ room: `fiveD_${d.w.duration}` });
          logTag(log, 'error', TAGS.RESULT_MISMATCH, { room: `fiveD_${d.w.duration}`, periodId: d.w.periodId }, `Stored result of period ${d.w.periodId} does not verify against its commitment: period voided, bets refunded`);
          continue;
        }
        m.settled.inc({ room: `fiveD_${d.w.duration}` });
        logTag(log, 'warn', TAGS.SETTLE, { room: `fiveD_${d.w.duration}`, periodId: d.w.periodId, how: d.how, credited: d.credited }, `Completed period ${d.w.periodId} left unfinished at its end (${d.how})`);
      }
      await fillGaps(endedBy, fence);
    } catch (err) {
      if (isFivedError(err, ErrorCode.STALE_EPOCH)) keeper.lose('the store refused our epoch (E_STALE_EPOCH)');
      else throw err;
    } finally {
      reconciling = false;
    }
  }

  const who = (epoch: number) => ({ instance: cfg.instance, host: cfg.host, pid: process.pid, source: 'scheduler' as const, epoch });

  /** Timers of one period of a room: pre-calculate at the freeze, settle at the end, then the next. */
  function schedulePeriod(room: Room, w: PeriodWindow): void {
    // the seed is read shortly before the freeze (it never leaves this process before the end)
    let committed: Promise<{ seed: string; commitment: string } | null> | null = null;
    const prefetch = at(clock, w.freezeAt - Math.min(500, Math.floor(room.spec.freezeMs / 2)), () => {
      if (keeper.isActive()) committed = readCommitted(store, w).catch(() => null);
    });
    const freeze = at(clock, w.freezeAt, () => {
      m.lateStartMs.observe({ event: 'freeze' }, Math.max(0, clock.now() - w.freezeAt) / 1000);
      const key = periodMember(w);
      const p = precalc(room, w, committed).finally(() => running.delete(key));
      running.set(key, p);
      track(p);
    });
    const end = at(clock, w.endsAt, () => {
      m.lateStartMs.observe({ event: 'end' }, Math.max(0, clock.now() - w.endsAt) / 1000);
      track(endOf(w));
      // the next period under the settings in effect when it opens; none for a room removed then
      const next = nextWindow(room, w);
      const nextRoom = view().roomAt(room.duration, next.startsAt);
      if (nextRoom) schedulePeriod(nextRoom, windowAt(nextRoom, next.startsAt));
      else timers.delete(room.name);
    });
    timers.set(room.name, () => {
      prefetch();
      freeze();
      end();
    });
  }

  async function precalc(room: Room, w: PeriodWindow, prefetched: Promise<{ seed: string; commitment: string } | null> | null = null): Promise<void> {
    const fence = keeper.fence();
    if (!fence || stopping) return;
    const f = { room: room.name, periodId: w.periodId, epoch: fence.epoch };
    logTag(log, 'info', TAGS.PRECALC_EXEC, f, `Starting pre-calculation for period ${w.periodId}`);
    const end = m.computeSeconds.startTimer({ room: room.name });
    try {
      const committed = (await prefetched) ?? undefined;
      const out = await computeInPool(computeDeps, w, { fence, signal: abort.signal, ...(committed ? { committed } : {}) });
      logTag(log, 'info', TAGS.PRECALC_EXEC, { ...f, betCount: out.betCount, patternCount: out.exposure.patternCount }, `Retrieved bet patterns for period ${w.periodId}`);
      const tracking = {
        instance: cfg.instance,
        host: cfg.host,
        pid: process.pid,
        computedAt: clock.now(),
        computeMs: out.computeMs,
        patternCount: out.exposure.patternCount,
        totalStake: out.totalStake,
        totalExposure: out.exposure.totalExposure,
        maxLiability: out.exposure.maxLiability,
        source: 'scheduler' as const,
        epoch: fence.epoch,
        betCount: out.betCount,
      };
      const kept = await store.storeResult(buildResult(w, out.draw, out.seed, out.commitment, tracking), fence);
      assertResultVerifies(kept.result, out.commitment);
      precalculated.add(periodMember(w));
      if (kept.stored) logTag(log, 'info', TAGS.PRECALC_EXEC, f, `Result stored in ${store.label} for period ${w.periodId}`);
      else logTag(log, 'info', TAGS.PRECALC_EXEC, { ...f, by: kept.result.tracking.instance }, `Result already stored by another instance for period ${w.periodId}`);
      const notice: CompletedMessage = { room: room.name, duration: w.duration, timeline: w.timeline, periodId: w.periodId, endsAt: w.endsAt, tracking: kept.result.tracking };
      await store.publish(CHANNELS.completed, notice);
      end();
      m.precalc.inc({ room: room.name, outcome: kept.stored ? 'stored' : 'exists' });
      logTag(log, 'info', TAGS.PRECALC_EXEC, { ...f, computeMs: out.computeMs, workerMs: out.workerMs, snapshotMs: out.snapshotMs, saveMs: out.saveMs }, `Pre-calculation completed for period ${w.periodId} in ${Math.round(out.computeMs)}ms`);
      logTag(
        log,
        'info',
        TAGS.PRECALC_EXEC,
        { ...f, scheduler: `${cfg.instance}@${cfg.host}`, patternCount: tracking.patternCount, totalExposure: tracking.totalExposure, maxLiability: tracking.maxLiability, betCount: out.betCount },
        `Scheduler: ${cfg.instance}@${cfg.host}, Bet patterns: ${tracking.patternCount}, Total exposure: ${tracking.totalExposure}`,
      );
    } catch (err) {
      end();
      if (isFivedError(err, ErrorCode.NOT_COMMITTED)) {
        m.precalc.inc({ room: room.name, outcome: 'void' });
        logTag(log, 'warn', TAGS.VOID, f, `Period ${w.periodId} reached its freeze without a commitment: void`);
        await store.voidPeriod(w, 'no commitment before the freeze');
      } else if (isFivedError(err, ErrorCode.STALE_EPOCH)) {
        m.precalc.inc({ room: room.name, outcome: 'stale' });
        keeper.lose('the store refused our epoch (E_STALE_EPOCH)');
      } else if (isFivedError(err, ErrorCode.RESULT_MISMATCH)) {
        m.precalc.inc({ room: room.name, outcome: 'error' });
        logTag(log, 'error', TAGS.RESULT_MISMATCH, { ...f, err: toFivedError(err) }, `The stored result of period ${w.periodId} does not verify against its commitment; it is voided at the end`);
      } else if (abort.signal.aborted) {
        m.precalc.inc({ room: room.name, outcome: 'stale' });
        logTag(log, 'warn', TAGS.PRECALC_EXEC, f, `Pre-calculation of period ${w.periodId} abandoned: lease lost`);
      } else {
        m.precalc.inc({ room: room.name, outcome: 'error' });
        logTag(log, 'error', TAGS.PRECALC_EXEC, { ...f, err: toFivedError(err) }, `Pre-calculation failed for period ${w.periodId}; the gateways will fall back at the end`);
      }
    }
  }

  /** At (or after) the end: reveal to history and apply the saved settlement, exactly once. */
  async function endOf(w: PeriodWindow): Promise<void> {
    // a pre-calculation still running at the end (overloaded host) finishes first: its plan is the one to apply
    await running.get(periodMember(w));
    const fence = keeper.fence();
    if (!fence) return;
    const room = `fiveD_${w.duration}`;
    const f = { room, periodId: w.periodId, epoch: fence.epoch };
    try {
      // the saved plan applied; with none (the pre-calculation failed or never ran), computed now
      const out: { how: Finished; credited: number } = await finish(computeDeps, w, { now: clock.now(), who: who(fence.epoch), fence, signal: abort.signal });
      if (out.how === 'computed') logTag(log, 'warn', TAGS.FALLBACK, f, `No settlement plan at the end of period ${w.periodId}: computed it then`);
      if (out.how === 'applied' || out.how === 'computed') {
        m.settled.inc({ room });
        logTag(log, 'info', TAGS.PERIOD_END, { ...f, credited: out.credited }, `${room}: settlement applied for period ${w.periodId}, credited ${out.credited}`);
      } else if (out.how === 'rejected') {
        m.resultMismatch.inc({ room });
        logTag(log, 'error', TAGS.RESULT_MISMATCH, f, `${room}: the stored result of period ${w.periodId} does not verify against its commitment: period voided, bets refunded`);
      } else if (out.how === 'void' || out.how === 'refunded') {
        logTag(log, 'info', TAGS.VOID, f, `${room}: period ${w.periodId} is void`);
      } else if (out.how === 'already' && precalculated.has(periodMember(w))) {
        m.settledElsewhere.inc({ room });
        logTag(log, 'info', TAGS.PERIOD_END, f, `${room}: period ${w.periodId} was already settled by another instance`);
      }
    } catch (err) {
      if (isFivedError(err, ErrorCode.STALE_EPOCH)) keeper.lose('the store refused our epoch (E_STALE_EPOCH)');
      else if (isFivedError(err, ErrorCode.PERIOD_VOID)) logTag(log, 'info', TAGS.VOID, f, `${room}: period ${w.periodId} is void`);
      else if (isFivedError(err, ErrorCode.RESULT_MISMATCH)) {
        m.resultMismatch.inc({ room });
        logTag(log, 'error', TAGS.RESULT_MISMATCH, { ...f, err: toFivedError(err), alert: true }, `${room}: the stored result of period ${w.periodId} does not verify against its commitment and could not be voided (settled already): operator action needed`);
      }
      else logTag(log, 'error', TAGS.PERIOD_END, { ...f, err: toFivedError(err) }, `${room}: settlement of period ${w.periodId} failed`);
    } finally {
      precalculated.delete(periodMember(w));
    }
  }

  const http = deps.http === false || cfg.schedulerPort === 0 ? null : await serveSchedulerHttp(cfg, deps.registry, readiness, (err) => {
    m.errors.inc({ where: 'http' });
    log.error({ err }, 'scheduler http handler failed');
  });
  m.leaseActive.set(0);
  // measure before acting, then every second
  await checkClock();
  const clockTimer = setInterval(() => void checkClock(), CLOCK_CHECK_MS);
  clockTimer.unref();
  if (clockVeto() !== null) log.error({ skewMs: skew.skewMs, limit: cfg.maxClockSkewMs }, `scheduler not ready: ${clockVeto()}; standing by`);
  keeper.start();
  log.info({ rooms: view().roomsAt(clock.now()).map((r) => r.name), leaseTtlMs: cfg.leaseTtlMs, port: http?.port ?? null }, 'scheduler started (standby until the lease is acquired)');

  return {
    port: http?.port ?? null,
    readiness,
    isActive: () => keeper.isActive(),
    epoch: () => keeper.epoch(),
    async stop() {
      if (stopping) return;
      stopping = true;
      clearInterval(clockTimer);
      settings.stop();
      cancelAll();
      // in-flight work finishes (bounded), then the lease is released so a standby takes over at once
      const drained = Promise.allSettled([...inflight]);
      let t: NodeJS.Timeout | undefined;
      await Promise.race([drained, new Promise((r) => (t = setTimeout(r, Math.max(1000, cfg.drainMs))))]);
      clearTimeout(t);
      abort.abort(new Error('scheduler stopping'));
      const wasActive = keeper.isActive();
      await keeper.stop(true);
      m.leaseActive.set(0);
      if (wasActive) m.leaseChanges.inc({ event: 'released' });
      await http?.close();
      logTag(log, 'info', TAGS.LEASE, {}, wasActive ? 'scheduler stopped; lease released' : 'scheduler stopped');
    },
  };
}
