// HTTP routes, mounted from their modules (routes/): health, readiness, metrics and the public
// read API (public.ts), the operator API (operator.ts: bearer token, disabled when
// FIVED_OPERATOR_TOKEN is empty; never exposed through the public frontend), the demo session
// (demo.ts, FIVED_DEMO only), then the static page. Unknown paths 404, wrong methods 405, always
// as JSON { code, message }.

import { ErrorCode } from '../errors.js';
import { operatorAllowed, type TokenVerifier } from './auth.js';
import type { GatewayContext } from './context.js';
import { json, setRequestGate, type RequestGate } from './http.js';
import type { GatewayLimits } from './limits.js';
import type { Periods } from './periods.js';
import { mountDemo } from './routes/demo.js';
import { mountOperator } from './routes/operator.js';
import { mountHealth, mountPublic } from './routes/public.js';
import { routesOf, type ApiHooks, type Routes } from './routes/shared.js';
import { PeriodReader } from './routes/views.js';
import type { StaticFile } from './static.js';
import type { TemplatedApp } from './uws.js';

export { DEMO_BALANCE } from './routes/demo.js';
export type { ApiHooks } from './routes/shared.js';
export { periodView, type PeriodView } from './routes/views.js';

export function mountApi(app: TemplatedApp, ctx: GatewayContext, periods: Periods, verifier: TokenVerifier, files: Map<string, StaticFile>, hooks: ApiHooks, limits: GatewayLimits): void {
  setRequestGate(app, requestGate(ctx, limits));
  const r = routesOf(app, ctx);
  const reader = new PeriodReader(ctx, hooks);
  mountHealth(r);
  mountPublic(r, periods, reader);
  mountOperator(r, { periods, reader, hooks, limits });
  mountDemo(r, verifier, limits);
  mountStatic(r, files);
}

/**
 * Per client address: FIVED_HTTP_RATE_PER_IP requests a second (a burst of twice that); health
 * checks and the platform's own servers (a valid operator token) are not counted.
 */
function requestGate(ctx: GatewayContext, limits: GatewayLimits): RequestGate {
  const { cfg, clock } = ctx;
  return {
    clientIp: (peer, forwarded) => limits.address.resolve(peer, forwarded),
    admit: (ip, url, authorization) => {
      if (!limits.http.enabled || url === '/health' || url === '/ready') return null;
      if (authorization !== '' && operatorAllowed(authorization, cfg.operatorToken)) return null;
      if (limits.http.take(ip, clock.now())) return null;
      ctx.metrics.refused.inc({ reason: 'http_rate' });
      return { ...json(429, { code: ErrorCode.RATE_LIMITED, message: `over ${cfg.httpRatePerIp} requests per second from this address (FIVED_HTTP_RATE_PER_IP)` }), headers: { 'retry-after': '1' } };
    },
  };
}

/** The static page, then 404 for everything else. */
function mountStatic(r: Routes, files: Map<string, StaticFile>): void {
  r.add('get', '/*', 0, (req) => {
    const f = files.get(req.url);
    if (!f) return json(404, { code: ErrorCode.NOT_FOUND, message: `no such path ${req.url}` });
    return { status: 200, body: f.body, contentType: f.contentType, headers: { 'cache-control': 'no-cache' } };
  });
  r.add('any', '/*', 0, (req) => json(404, { code: ErrorCode.NOT_FOUND, message: `no such path ${req.method.toUpperCase()} ${req.url}` }));
}
