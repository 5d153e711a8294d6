// The scheduler: one active instance (lease + fencing epoch) commits upcoming periods, at each
// room's freeze snapshots the bets and pre-computes in the worker pool, stores the result once
// (SET … NX, the runbook key), announces it, and applies the settlement at the period's end.
// A standby polls the lease and takes over when it lapses. The draw depends only on the committed
// seed (docs/design.md rule 1): nothing here reads the bets except through the worker's settlement.
// The parts: the period runner (runner.ts: precalc.ts at the freeze, complete.ts at the end), the
// reconciler (reconciler.ts), the clock watch (clock-watch.ts), the lease (lease.ts); wired here.

import type { Config } from '../config.js';
import type { PeriodWindow } from '../core/types.js';
import { toFivedError } from '../errors.js';
import type { Clock } from '../runtime/clock.js';
import { SettingsFollower, startupLog } from '../runtime/follow.js';
import { logTag, TAGS, type Logger } from '../runtime/log.js';
import type { Registry } from '../runtime/metrics.js';
import { storeOptionsOf } from '../runtime/pool.js';
import { watchHeldCredits } from '../runtime/wallet.js';
import type { Lease, Store, StoreOptions } from '../store/types.js';
import type { ComputePool } from '../worker/pool.js';
import { CLOCK_CHECK_MS, ClockWatch } from './clock-watch.js';
import type { SchedulerContext } from './context.js';
import { serveSchedulerHttp } from './http.js';
import { LeaseKeeper, type LeaseEvents } from './lease.js';
import { schedulerMetrics, type SchedulerMetrics } from './metrics.js';
import { Reconciler } from './reconciler.js';
import { PeriodRunner } from './runner.js';

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

/** What the lease keeper tells the scheduler: the runner starts on acquiring, stops on losing. */
function leaseEvents(cfg: Readonly<Config>, log: Logger, m: SchedulerMetrics, runner: () => PeriodRunner): LeaseEvents {
  return {
    onAcquired: (l: Lease) => {
      m.leaseActive.set(1);
      m.leaseEpoch.set(l.epoch);
      m.leaseChanges.inc({ event: 'acquired' });
      logTag(log, 'info', TAGS.LEASE, { epoch: l.epoch }, `Lease acquired: ${cfg.instance}@${cfg.host} is the active scheduler (epoch ${l.epoch})`);
      runner().activate();
    },
    onLost: (l: Lease, why: string) => {
      m.leaseActive.set(0);
      m.leaseChanges.inc({ event: 'lost' });
      logTag(log, 'warn', TAGS.LEASE, { epoch: l.epoch, why }, `Lease lost (epoch ${l.epoch}): ${why}; standing by`);
      runner().deactivate(new Error('lease lost'));
    },
    onError: (err: unknown) => log.warn({ err: toFivedError(err) }, 'lease call failed'),
  };
}

/** The scheduler's parts, wired: an instance started with other game settings, or whose clock is
 *  off the store's, does not take the lease (it says why). */
async function wire(cfg: Readonly<Config>, deps: SchedulerDeps) {
  const { store, logger: log } = deps;
  // the settings schedule decides the rooms and each period's rules (docs/operations.md, "Changing game settings")
  const settings = await SettingsFollower.start(store, cfg, cfg.instance, deps.clock, log);
  startupLog(settings, log);
  const m = schedulerMetrics(deps.registry);
  watchHeldCredits(store, deps.registry, log);
  const watch = new ClockWatch(deps.clock, store, cfg.maxClockSkewMs);
  const state = { stopping: false, runner: null as PeriodRunner | null };
  const runner = () => state.runner as PeriodRunner;
  const keeper = new LeaseKeeper(store, cfg.instance, cfg.leaseTtlMs, leaseEvents(cfg, log, m, runner), () => watch.veto() ?? (settings.reasons()[0] ?? null));
  const storeOptions = deps.storeOptions ?? storeOptionsOf(cfg);
  const ctx: SchedulerContext = {
    cfg, store, log, m, clock: watch.clock, keeper,
    computeDeps: { store, pool: deps.pool, cfg, storeOptions, paytableFor: (w: PeriodWindow) => settings.paytableOf(w) },
    view: () => settings.view,
    signal: () => runner().signal(),
    stopping: () => state.stopping,
  };
  state.runner = new PeriodRunner(ctx, new Reconciler(ctx));
  const readiness = (): SchedulerReadiness => {
    const reasons: string[] = [];
    if (!store.healthy()) reasons.push('store unavailable or inconsistent');
    const cv = watch.veto();
    if (cv !== null) reasons.push(cv);
    else if (watch.error !== null) reasons.push(`store check failed: ${watch.error}`);
    reasons.push(...settings.reasons());
    return { ready: reasons.length === 0, reasons, role: keeper.isActive() ? 'active' : 'standby', skewMs: watch.skewMs };
  };
  return { ctx, settings, watch, state, runner: state.runner, readiness };
}

type Wired = Awaited<ReturnType<typeof wire>>;

/** One measurement against Redis TIME; a clock beyond the limit steps down at once. */
async function checkClock({ ctx, watch, readiness }: Wired): Promise<void> {
  const { log, m, keeper, cfg } = ctx;
  const r = await watch.measure();
  if (r.measured && watch.skewMs !== null) {
    m.clockSkew.set(watch.skewMs / 1000);
    const veto = watch.veto();
    if (veto !== null && (r.wasTrusted || keeper.isActive())) {
      log.error({ skewMs: watch.skewMs, limit: cfg.maxClockSkewMs }, `scheduler not ready: ${veto}; not holding the lease (the standby or the gateways' fallback carries on)`);
      await keeper.stepDown(veto);
    } else if (veto === null && !r.wasTrusted) log.info({ skewMs: watch.skewMs }, 'scheduler clock agrees with the store');
  }
  m.ready.set(readiness().ready ? 1 : 0);
}

/** Finish in-flight work (bounded), then release the lease so a standby takes over at once. */
async function stopScheduler(w: Wired, clockTimer: NodeJS.Timeout, http: { close(): Promise<void> } | null): Promise<void> {
  const { ctx, runner } = w;
  clearInterval(clockTimer);
  w.settings.stop();
  runner.cancelAll();
  const drained = Promise.allSettled(runner.pending());
  let t: NodeJS.Timeout | undefined;
  await Promise.race([drained, new Promise((r) => (t = setTimeout(r, Math.max(1000, ctx.cfg.drainMs))))]);
  clearTimeout(t);
  runner.deactivate(new Error('scheduler stopping'));
  const wasActive = ctx.keeper.isActive();
  await ctx.keeper.stop(true);
  ctx.m.leaseActive.set(0);
  if (wasActive) ctx.m.leaseChanges.inc({ event: 'released' });
  await http?.close();
  logTag(ctx.log, 'info', TAGS.LEASE, {}, wasActive ? 'scheduler stopped; lease released' : 'scheduler stopped');
}

export async function startScheduler(cfg: Readonly<Config>, deps: SchedulerDeps): Promise<SchedulerHandle> {
  const w = await wire(cfg, deps);
  const { ctx, watch, readiness } = w;
  const { log, m, keeper } = ctx;
  const http = deps.http === false || cfg.schedulerPort === 0 ? null : await serveSchedulerHttp(cfg, deps.registry, readiness, (err) => {
    m.errors.inc({ where: 'http' });
    log.error({ err }, 'scheduler http handler failed');
  });
  m.leaseActive.set(0);
  // measure before acting, then every second
  await checkClock(w);
  const clockTimer = setInterval(() => void checkClock(w), CLOCK_CHECK_MS);
  clockTimer.unref();
  if (watch.veto() !== null) log.error({ skewMs: watch.skewMs, limit: cfg.maxClockSkewMs }, `scheduler not ready: ${watch.veto()}; standing by`);
  keeper.start();
  log.info({ rooms: ctx.view().roomsAt(ctx.clock.now()).map((r) => r.name), leaseTtlMs: cfg.leaseTtlMs, port: http?.port ?? null }, 'scheduler started (standby until the lease is acquired)');
  return {
    port: http?.port ?? null,
    readiness,
    isActive: () => keeper.isActive(),
    epoch: () => keeper.epoch(),
    async stop() {
      if (w.state.stopping) return;
      w.state.stopping = true;
      await stopScheduler(w, clockTimer, http);
    },
  };
}
