// The scheduler's own small HTTP server (node:http; the scheduler loads no uWS): /metrics,
// /health (alive) and /ready (store reachable and the clock within FIVED_MAX_CLOCK_SKEW_MS of
// Redis TIME; active and standby are both ready). An operational port: never exposed publicly.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config.js';
import type { Registry } from '../runtime/metrics.js';
import type { SchedulerReadiness } from './index.js';

export async function serveSchedulerHttp(
  cfg: Pick<Config, 'schedulerPort' | 'bindHost' | 'instance'>,
  registry: Registry,
  readiness: () => SchedulerReadiness,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (url === '/metrics') {
      registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
        (err: unknown) => json(500, { error: String(err) }),
      );
    } else if (url === '/health') {
      json(200, { ok: true, instance: cfg.instance });
    } else if (url === '/ready') {
      const r = readiness();
      json(r.ready ? 200 : 503, { ...r, instance: cfg.instance });
    } else {
      json(404, { error: 'not found' });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.schedulerPort, cfg.bindHost, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
