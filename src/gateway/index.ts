// startGateway: one uWebSockets.js app on one port — rooms as topics, ticks, bets, results at the
// end with the fallback, settlement notices, HTTP API — wired from the injected store, pool,
// metrics registry, logger and clock. The caller owns those and closes them after stop().

import { CHANNELS } from '../runtime/bus.js';
import { ErrorCode, FivedError } from '../errors.js';
import type { Config } from '../config.js';
import { SettingsFollower, startupLog } from '../runtime/follow.js';
import { CloseCode } from '../protocol.js';
import { mountApi } from './api.js';
import { TokenVerifier } from './auth.js';
import { background, clockTrusted, type GatewayContext, type GatewayDeps } from './context.js';
import { checkReadiness } from './readiness.js';
import { LeadBound } from '../runtime/skew.js';
import { storeOptionsOf } from '../runtime/pool.js';
import { watchHeldCredits } from '../runtime/wallet.js';
import { Hub } from './hub.js';
import { guarded } from './guard.js';
import { gatewayMetrics, sampleLoopDelay } from './metrics.js';
import { Periods } from './periods.js';
import { Results } from './results.js';
import { Settlement } from './settlement.js';
import { loadStatic } from './static.js';
import { Timing } from './timing.js';
import { Voids } from './voids.js';
import { LIBUS_LISTEN_EXCLUSIVE_PORT, loadUws, type TemplatedApp, type Uws, type us_listen_socket } from './uws.js';
import { mountWs } from './ws.js';
import { GatewayLimits } from './limits.js';
import { mountSocketIo, type SocketIoHandle } from './socketio/index.js';
import { openArchive } from './archive.js';

export type { GatewayDeps } from './context.js';

const SKEW_CHECK_MS = 5000;

export interface GatewayHandle {
  port: number;
  /** drain (if not yet), stop timers, close every socket and the app */
  stop(): Promise<void>;
  /** /ready → 503, refuse new connections, GOING_AWAY to clients, wait for in-flight work (≤ drainMs) */
  drain(): Promise<void>;
}

/**
 * Listens with the port to itself. uWS otherwise sets SO_REUSEPORT, and a second process started
 * on the same port (a typo in a unit, a test's port handed out twice) would silently take half of
 * the new connections instead of failing.
 */
function listen(app: TemplatedApp, host: string, port: number): Promise<us_listen_socket> {
  // the native binding takes (host, port, options, cb); its typings only list (port, options, cb)
  const withOptions = app.listen as unknown as (h: string, p: number, o: number, cb: (s: us_listen_socket | false) => void) => TemplatedApp;
  return new Promise((resolve, reject) => {
    withOptions.call(app, host, port, LIBUS_LISTEN_EXCLUSIVE_PORT, (sock) =>
      sock ? resolve(sock) : reject(new Error(`cannot listen on ${host}:${port} (in use by another process, or not an address of this host)`)));
  });
}

async function settle(promises: Iterable<Promise<unknown>>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const all = Promise.allSettled([...promises]).then(() => true);
  const done = await Promise.race([all, timeout]);
  clearTimeout(timer);
  return done;
}

/** The context every module shares, and the periods it knows (one per startGateway call). */
async function openContext(cfg: Readonly<Config>, deps: GatewayDeps) {
  const logger = deps.logger;
  // the settings schedule decides the rooms and each period's rules (docs/operations.md, "Changing game settings")
  const settings = await SettingsFollower.start(deps.store, cfg, cfg.instance, deps.clock, logger);
  startupLog(settings, logger);
  const roomsNow = () => settings.view.roomsAt(deps.clock.now());
  const metrics = gatewayMetrics(deps.registry);
  watchHeldCredits(deps.store, deps.registry, logger);
  const hub = new Hub(metrics, roomsNow().map((r) => r.name));
  const archive = openArchive(cfg.archiveUrl, logger);
  const periods = new Periods(roomsNow);
  const ctx: GatewayContext = {
    ...deps, cfg, settings, metrics, hub, storeOptions: storeOptionsOf(cfg), draining: false, inflight: new Set(), skewMs: 0, lead: new LeadBound(deps.clock), behindMs: 0,
    archive: archive?.reader ?? null,
    awaitingResult: (duration, periodId) => {
      const s = periods.get(duration, periodId);
      return s !== undefined && s.status !== 'void' && s.delivered === null;
    },
    untilDelivered: () => periods.untilDelivered(deps.clock.now()),
    get rooms() { return roomsNow(); },
  };
  return { ctx, periods, archive };
}

/**
 * The room clock and what hangs off it, built in the order they depend on each other: voids and
 * settlement need only the periods, results end into both, timing drives results.
 */
function roomClock(ctx: GatewayContext, periods: Periods) {
  const settlement = new Settlement(ctx, periods);
  const voids = new Voids(ctx, periods);
  const results = new Results(ctx, periods, (s) => settlement.afterEnd(s), (s, reason) => background(ctx, 'void-at-end', () => voids.voidPeriod(s, reason)));
  const timing = new Timing(ctx, periods, results, settlement, voids);
  return { settlement, voids, results, timing };
}

/**
 * A bus message is input too (anything able to PUBLISH on a 5d_precalc: channel): a handler that
 * throws on it is logged and counted here, never left to the store's last-resort catch.
 */
async function followBus(ctx: GatewayContext, c: ReturnType<typeof roomClock>): Promise<void> {
  const onBus = (where: string, fn: (m: unknown) => void) => (_c: string, m: unknown) =>
    guarded((w, err) => {
      ctx.metrics.errors.inc({ where: w });
      ctx.logger.error({ err, where: w }, 'bus message handler failed');
    }, where, () => fn(m));
  ctx.store.on('inconsistent', () => c.voids.voidOpen('store data lost (Redis restored from an older state or emptied)'));
  await ctx.store.subscribe(CHANNELS.completed, onBus('bus-completed', (m) => c.results.onCompleted(m)));
  await ctx.store.subscribe(CHANNELS.settled, onBus('bus-settled', (m) => c.settlement.onSettled(m)));
  await ctx.store.subscribe(CHANNELS.void, onBus('bus-void', (m) => c.voids.onVoidNotice(m)));
}

/** The WebSocket route, the HTTP API and (FIVED_SOCKETIO) the Socket.IO compatibility layer on one app. */
function mountAll(uws: Uws, ctx: GatewayContext, periods: Periods, voids: Voids, limits: GatewayLimits) {
  const verifier = new TokenVerifier(ctx.cfg.jwtSecret, ctx.cfg.maxTokenAgeS, () => ctx.clock.now());
  const app = uws.App();
  ctx.hub.attach(app);
  const ws = mountWs(app, uws, ctx, periods, verifier, limits);
  mountApi(app, ctx, periods, verifier, loadStatic(), {
    voidPeriod: (room, periodId, reason) => voids.byOperator(room, periodId, reason),
    voided: (room, periodId, reason) => voids.voidedInStore(room, periodId, reason),
  }, limits);
  // issue 15: the replaced system's Socket.IO protocol and REST routes on the same app (docs/socketio.md)
  const sio: SocketIoHandle | null = ctx.cfg.socketIo ? mountSocketIo(app, ctx, periods, limits) : null;
  return { app, ws, sio };
}

/** Measures the clock against the store before deciding anything from it, then every few seconds. */
async function watchClock(ctx: GatewayContext): Promise<() => void> {
  await checkReadiness(ctx).catch(() => undefined);
  const skewTimer = setInterval(() => background(ctx, 'clock-check', () => checkReadiness(ctx)), SKEW_CHECK_MS);
  skewTimer.unref();
  if (!clockTrusted(ctx)) ctx.logger.error({ skewMs: ctx.skewMs, limit: ctx.cfg.maxClockSkewMs }, 'local clock differs from the store beyond the limit: not ready, no commitments, results held back');
  return () => clearInterval(skewTimer);
}

export async function startGateway(cfg: Readonly<Config>, deps: GatewayDeps): Promise<GatewayHandle> {
  const { uws, native, path } = loadUws({ allowFallback: cfg.allowUwsFallback });
  if (!native) deps.logger.warn({ path }, 'running on the pure-JS uWebSockets.js fallback (FIVED_ALLOW_UWS_FALLBACK): not for production');
  const { ctx, periods, archive } = await openContext(cfg, deps);
  const clock = roomClock(ctx, periods);
  const limits = new GatewayLimits(cfg, () => deps.clock.now());
  await followBus(ctx, clock);
  const { app, ws, sio } = mountAll(uws, ctx, periods, clock.voids, limits);
  const stopClockWatch = await watchClock(ctx);
  await clock.timing.start();
  // stops everything started so far, in order (also when the port was never got)
  const stopAll = () => {
    clock.timing.stop();
    ws.stop();
    limits.stop();
    stopClockWatch();
  };
  let listenSocket: us_listen_socket;
  try {
    listenSocket = await listen(app, cfg.bindHost, cfg.port);
  } catch (err) {
    // nothing may keep running behind a port we never got (issue 13): the caller exits non-zero
    stopAll();
    closeApp(app);
    throw new FivedError(ErrorCode.LISTEN_FAILED, (err as Error).message, { host: cfg.bindHost, port: cfg.port });
  }
  const port = uws.us_socket_local_port(listenSocket);
  const stopLoopDelay = sampleLoopDelay(ctx.metrics);
  deps.logger.info({ port, host: cfg.bindHost, rooms: ctx.rooms.map((r) => r.name), native, store: deps.store.kind }, `gateway listening on ${cfg.bindHost}:${port}`);
  const drain = drainer(uws, ctx, listenSocket, sio);
  let stopped: Promise<void> | null = null;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await drain();
      stopAll();
      await sio?.stop();
      ctx.settings.stop();
      stopLoopDelay();
      closeApp(app);
      await archive?.pool.end();
    })());
  return { port, stop, drain };
}

/** /ready → 503, refuse new connections, GOING_AWAY to clients, wait for in-flight work (≤ drainMs); once. */
function drainer(uws: Uws, ctx: GatewayContext, listenSocket: us_listen_socket, sio: SocketIoHandle | null): () => Promise<void> {
  let drained: Promise<void> | null = null;
  return () =>
    (drained ??= (async () => {
      ctx.draining = true;
      ctx.metrics.ready.set(0);
      uws.us_listen_socket_close(listenSocket); // refuse new connections
      for (const ws of [...ctx.hub.all]) ctx.hub.close(ws, CloseCode.GOING_AWAY, 'gateway shutting down: reconnect');
      sio?.drain();
      const done = await settle(ctx.inflight, ctx.cfg.drainMs);
      if (!done) ctx.logger.warn({ inflight: ctx.inflight.size }, 'drain timed out with work in flight');
      ctx.logger.info('gateway drained');
    })());
}

function closeApp(app: TemplatedApp): void {
  // uWS ≥ 20.x: App.close() closes the listen sockets and every connection
  const closable = app as TemplatedApp & { close?: () => void };
  closable.close?.();
}
