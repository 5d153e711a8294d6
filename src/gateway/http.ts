// HTTP plumbing over uWS: a route wrapper that copies the request before any await, registers
// onAborted first, reads a bounded body, and writes the reply corked (it is written after awaits).

import { ErrorCode, FivedError, HTTP_STATUS, toFivedError } from '../errors.js';
import type { HttpRequest, HttpResponse, TemplatedApp } from './uws.js';

export interface Req {
  method: string;
  url: string;
  query: URLSearchParams;
  params: string[];
  headers: { authorization: string; contentType: string };
  body: Buffer | null;
  /** the client's address (limits.ts: the peer, or X-Forwarded-For from a trusted proxy); '' without a gate */
  ip: string;
}

/**
 * Runs before every route of an app (the per-address HTTP limit): given the client address and
 * the request, a Reply refuses it before the handler runs; null lets it through.
 */
export interface RequestGate {
  clientIp(peer: string, forwarded: string): string;
  admit(ip: string, url: string, authorization: string): Reply | null;
}
const gates = new WeakMap<TemplatedApp, RequestGate>();
export function setRequestGate(app: TemplatedApp, gate: RequestGate): void {
  gates.set(app, gate);
}

export interface Reply {
  status: number;
  body: string | Uint8Array;
  contentType: string;
  headers?: Record<string, string>;
}

export type Handler = (req: Req) => Promise<Reply> | Reply;

const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 201: 'Created', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  409: 'Conflict', 413: 'Payload Too Large', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

export function statusLine(status: number): string {
  return `${status} ${STATUS_TEXT[status] ?? ''}`.trim();
}

export function json(status: number, body: unknown): Reply {
  return { status, body: JSON.stringify(body), contentType: 'application/json' };
}

export function errorReply(err: unknown): Reply {
  const e = toFivedError(err);
  return json(HTTP_STATUS[e.code] ?? 400, e.toJSON());
}

const MAX_BODY = 64 * 1024;

function readBody(res: HttpResponse, limit: number, isAborted: () => boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.onData((chunk, isLast) => {
      if (isAborted()) return;
      size += chunk.byteLength;
      if (size > limit) {
        reject(new FivedError(ErrorCode.PAYLOAD_TOO_LARGE, `request body over ${limit} bytes`));
        return;
      }
      // the chunk is neutered after this callback: copy it
      chunks.push(Buffer.from(new Uint8Array(chunk)));
      if (isLast) resolve(Buffer.concat(chunks));
    });
  });
}

/** Registers a handler. `paramCount` path parameters are copied from the request. */
export function route(app: TemplatedApp, method: 'get' | 'post' | 'del' | 'any', pattern: string, paramCount: number, handler: Handler, onError?: (err: unknown) => void): void {
  app[method](pattern, (res: HttpResponse, req: HttpRequest) => {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    // copy everything from req now: it is invalid after the first await
    const params: string[] = [];
    for (let i = 0; i < paramCount; i++) params.push(decodeURIComponent(req.getParameter(i) ?? ''));
    const info: Req = {
      method: req.getMethod(),
      url: req.getUrl(),
      query: new URLSearchParams(req.getQuery() ?? ''),
      params,
      headers: { authorization: req.getHeader('authorization'), contentType: req.getHeader('content-type') },
      body: null,
      ip: '',
    };
    const gate = gates.get(app);
    if (gate) {
      info.ip = gate.clientIp(Buffer.from(res.getRemoteAddressAsText()).toString(), req.getHeader('x-forwarded-for'));
      const refused = gate.admit(info.ip, info.url, info.headers.authorization);
      if (refused) {
        res.cork(() => {
          res.writeStatus(statusLine(refused.status)).writeHeader('content-type', refused.contentType);
          for (const [k, v] of Object.entries(refused.headers ?? {})) res.writeHeader(k, v);
          res.end(refused.body);
        });
        return;
      }
    }
    const hasBody = info.method === 'post' || info.method === 'put' || info.method === 'patch';
    void (async () => {
      let reply: Reply;
      try {
        if (hasBody) info.body = await readBody(res, MAX_BODY, () => aborted);
        reply = await handler(info);
      } catch (err) {
        if (!(err instanceof FivedError)) onError?.(err);
        reply = errorReply(err);
      }
      if (aborted) return;
      res.cork(() => {
        res.writeStatus(statusLine(reply.status)).writeHeader('content-type', reply.contentType);
        for (const [k, v] of Object.entries(reply.headers ?? {})) res.writeHeader(k, v);
        res.end(reply.body);
      });
    })();
  });
}

/** Parses a JSON object body, or E_BAD_REQUEST. */
export function jsonBody(req: Req): Record<string, unknown> {
  if (!req.body || req.body.length === 0) throw new FivedError(ErrorCode.BAD_REQUEST, 'a JSON object body is required');
  let v: unknown;
  try {
    v = JSON.parse(req.body.toString('utf8'));
  } catch {
    throw new FivedError(ErrorCode.MALFORMED, 'the body is not valid JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new FivedError(ErrorCode.BAD_REQUEST, 'the body must be a JSON object');
  return v as Record<string, unknown>;
}
