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
import { LIBUS_LISTEN_EXCLUSIVE_PORT, loadUws, type TemplatedApp, type us_listen_socket } from './uws.js';
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

export async function startGateway(cfg: Readonly<Config>, deps: GatewayDeps): Promise<GatewayHandle> {
  const { uws, native, path } = loadUws({ allowFallback: cfg.allowUwsFallback });
  const logger = deps.logger;
  if (!native) logger.warn({ path }, 'running on the pure-JS uWebSockets.js fallback (FIVED_ALLOW_UWS_FALLBACK): not for production');

  // the settings schedule decides the rooms and each period's rules (docs/operations.md, "Changing game settings")
  const settings = await SettingsFollower.start(deps.store, cfg, cfg.instance, deps.clock, logger);
  startupLog(settings, logger);
  const rooms = settings.view.roomsAt(deps.clock.now());
  const metrics = gatewayMetrics(deps.registry);
  watchHeldCredits(deps.store, deps.registry, logger);
  const hub = new Hub(metrics, rooms.map((r) => r.name));
  const archive = openArchive(cfg.archiveUrl, logger);
  const ctx: GatewayContext = {
    ...deps, cfg, settings, metrics, hub, storeOptions: storeOptionsOf(cfg), draining: false, inflight: new Set(), skewMs: 0, leadMs: 0, behindMs: 0,
    archive: archive?.reader ?? null,
    awaitingResult: () => false, // set below, once the periods exist
    get rooms() { return settings.view.roomsAt(deps.clock.now()); },
  };
  const periods = new Periods(() => ctx.rooms);
  ctx.awaitingResult = (duration, periodId) => {
    const s = periods.get(duration, periodId);
    return s !== undefined && s.status !== 'void' && s.delivered === null;
  };
  const settlement = new Settlement(ctx, periods);
  const timingRef: { t: Timing | null } = { t: null };
  const results = new Results(
    ctx,
    periods,
    (s) => settlement.afterEnd(s),
    (s, reason) => background(ctx, 'void-at-end', async () => timingRef.t?.voidPeriod(s, reason)),
  );
  const timing = new Timing(ctx, periods, results, settlement);
  timingRef.t = timing;
  const verifier = new TokenVerifier(cfg.jwtSecret, cfg.maxTokenAgeS, () => deps.clock.now());
  const limits = new GatewayLimits(cfg, () => deps.clock.now());

  deps.store.on('inconsistent', () => timing.voidOpen('store data lost (Redis restored from an older state or emptied)'));

  // a bus message is input too (anything able to PUBLISH on a 5d_precalc: channel): a handler that
  // throws on it is logged and counted here, never left to the store's last-resort catch
  const onBus = (where: string, fn: (m: unknown) => void) => (_c: string, m: unknown) =>
    guarded((w, err) => {
      metrics.errors.inc({ where: w });
      logger.error({ err, where: w }, 'bus message handler failed');
    }, where, () => fn(m));
  await deps.store.subscribe(CHANNELS.completed, onBus('bus-completed', (m) => results.onCompleted(m)));
  await deps.store.subscribe(CHANNELS.settled, onBus('bus-settled', (m) => settlement.onSettled(m)));
  await deps.store.subscribe(CHANNELS.void, onBus('bus-void', (m) => timing.onVoidNotice(m)));

  const app = uws.App();
  hub.attach(app);
  const ws = mountWs(app, uws, ctx, periods, verifier, limits);
  mountApi(app, ctx, periods, verifier, loadStatic(), {
    voidPeriod: async (room, periodId, reason) => {
      const s = periods.get(room.duration, periodId);
      if (s) return timing.voidPeriod(s, reason);
      const ref = { duration: room.duration, timeline: room.timeline, periodId };
      const r = await deps.store.voidPeriod(ref, reason);
      await deps.store.publish(CHANNELS.void, { room: room.name, ...ref, reason, refunded: r.refunded });
      return r;
    },
    voided: async (room, periodId, reason) => {
      const s = periods.get(room.duration, periodId);
      if (s && s.status !== 'void') await timing.voidPeriod(s, reason, false);
    },
  }, limits);
  // issue 15: the replaced system's Socket.IO protocol and REST routes on the same app (docs/socketio.md)
  const sio: SocketIoHandle | null = cfg.socketIo ? mountSocketIo(app, ctx, periods, limits) : null;

  // measure the clock against the store before deciding anything from it, then every few seconds
  await checkReadiness(ctx).catch(() => undefined);
  const skewTimer = setInterval(() => background(ctx, 'clock-check', () => checkReadiness(ctx)), SKEW_CHECK_MS);
  skewTimer.unref();
  if (!clockTrusted(ctx)) logger.error({ skewMs: ctx.skewMs, limit: cfg.maxClockSkewMs }, 'local clock differs from the store beyond the limit: not ready, no commitments, results held back');
  await timing.start();
  let listenSocket: us_listen_socket;
  try {
    listenSocket = await listen(app, cfg.bindHost, cfg.port);
  } catch (err) {
    // nothing may keep running behind a port we never got (issue 13): the caller exits non-zero
    timing.stop();
    ws.stop();
    limits.stop();
    clearInterval(skewTimer);
    closeApp(app);
    throw new FivedError(ErrorCode.LISTEN_FAILED, (err as Error).message, { host: cfg.bindHost, port: cfg.port });
  }
  const port = uws.us_socket_local_port(listenSocket);
  const stopLoopDelay = sampleLoopDelay(metrics);
  logger.info({ port, host: cfg.bindHost, rooms: rooms.map((r) => r.name), native, store: deps.store.kind }, `gateway listening on ${cfg.bindHost}:${port}`);

  let listening = true;
  let drained: Promise<void> | null = null;
  let stopped: Promise<void> | null = null;

  const drain = (): Promise<void> =>
    (drained ??= (async () => {
      ctx.draining = true;
      metrics.ready.set(0);
      if (listening) {
        uws.us_listen_socket_close(listenSocket); // refuse new connections
        listening = false;
      }
      for (const ws of [...hub.all]) hub.close(ws, CloseCode.GOING_AWAY, 'gateway shutting down: reconnect');
      sio?.drain();
      const done = await settle(ctx.inflight, cfg.drainMs);
      if (!done) logger.warn({ inflight: ctx.inflight.size }, 'drain timed out with work in flight');
      logger.info('gateway drained');
    })());

  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await drain();
      timing.stop();
      ws.stop();
      limits.stop();
      await sio?.stop();
      clearInterval(skewTimer);
      settings.stop();
      stopLoopDelay();
      closeApp(app);
      await archive?.pool.end();
    })());

  return { port, stop, drain };
}

function closeApp(app: TemplatedApp): void {
  // uWS ≥ 20.x: App.close() closes the listen sockets and every connection
  const closable = app as TemplatedApp & { close?: () => void };
  closable.close?.();
}
