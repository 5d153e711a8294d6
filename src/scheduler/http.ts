// The scheduler's own small HTTP server (node:http; the scheduler loads no uWS): /metrics,
// /health (alive) and /ready (store reachable and the clock within FIVED_MAX_CLOCK_SKEW_MS of
// Redis TIME; active and standby are both ready). An operational port: never exposed publicly.
// Every answer that is not a success is a coded JSON body { code, message } (src/errors.ts); an
// unexpected error is logged and counted (onError) and answered 500, never thrown: a throw in a
// request listener would end the process (issue 12).

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Config } from '../config.js';
import { ErrorCode, FivedError } from '../errors.js';
import type { Registry } from '../runtime/metrics.js';
import { fivedVersion, processStartedAt } from '../version.js';
import type { SchedulerReadiness } from './index.js';

type Readiness = () => SchedulerReadiness;

/** Answers one request: GET or HEAD of /metrics, /health or /ready; anything else a coded error. */
function answer(cfg: Pick<Config, 'instance'>, registry: Registry, readiness: Readiness, unexpected: (err: unknown) => void) {
  return (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      if (res.headersSent) return void res.end();
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers }).end(req.method === 'HEAD' ? undefined : text);
    };
    try {
      const url = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        json(405, { code: ErrorCode.METHOD_NOT_ALLOWED, message: `${String(req.method).slice(0, 20)} is not allowed; GET or HEAD` }, { allow: 'GET, HEAD' });
        return;
      }
      if (url === '/metrics') {
        registry.metrics().then(
          (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
          (err: unknown) => {
            unexpected(err);
            json(500, { code: ErrorCode.INTERNAL, message: 'metrics could not be rendered' });
          },
        ).catch(unexpected);
      } else if (url === '/health') {
        json(200, { ok: true, instance: cfg.instance, version: fivedVersion(), startedAt: processStartedAt() });
      } else if (url === '/ready') {
        const r = readiness();
        json(r.ready ? 200 : 503, { ...r, instance: cfg.instance });
      } else {
        json(404, { code: ErrorCode.NOT_FOUND, message: 'no such path; /health, /ready, /metrics' });
      }
    } catch (err) {
      unexpected(err);
      try {
        json(500, { code: ErrorCode.INTERNAL, message: 'internal error' });
      } catch {
        res.destroy();
      }
    }
  };
}

/** A request node's parser refuses (bad method token, header overflow, bad chunking, …): a coded
 *  400 / 431 on a closing connection, as far as the socket still takes it. */
function refuseMalformed(err: NodeJS.ErrnoException, socket: Duplex): void {
  try {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const big = err.code === 'HPE_HEADER_OVERFLOW';
    const body = JSON.stringify({ code: ErrorCode.BAD_REQUEST, message: big ? 'request headers too large' : 'malformed HTTP request' });
    socket.end(`HTTP/1.1 ${big ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  } catch {
    socket.destroy();
  }
}

export async function serveSchedulerHttp(
  cfg: Pick<Config, 'schedulerPort' | 'schedulerHost' | 'instance'>,
  registry: Registry,
  readiness: Readiness,
  onError: (err: unknown) => void = () => undefined,
): Promise<{ port: number; close(): Promise<void> }> {
  const unexpected = (err: unknown) => {
    try {
      onError(err);
    } catch {
      // a failing logger must not end the process
    }
  };
  const server = http.createServer(answer(cfg, registry, readiness, unexpected));
  server.on('clientError', refuseMalformed);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'in use by another process' : err.code === 'EADDRNOTAVAIL' ? 'not an address of this host' : err.message;
      reject(new FivedError(ErrorCode.LISTEN_FAILED, `cannot listen on ${cfg.schedulerHost}:${cfg.schedulerPort} (${why})`, { host: cfg.schedulerHost, port: cfg.schedulerPort }));
    });
    server.listen(cfg.schedulerPort, cfg.schedulerHost, () => resolve());
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
