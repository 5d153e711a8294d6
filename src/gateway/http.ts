// HTTP plumbing over uWS: a route wrapper that copies the request before any await, registers
// onAborted first, reads a bounded body, and writes the reply corked (it is written after awaits).

import { ErrorCode, FivedError, HTTP_STATUS, toFivedError } from '../errors.js';
import type { HttpRequest, HttpResponse, TemplatedApp } from './uws.js';

export interface Req {
  method: string;
  url: string;
  query: URLSearchParams;
  params: string[];
  /** origin: for the CORS answers of the Socket.IO compatibility routes (socketio/rest.ts) */
  headers: { authorization: string; contentType: string; origin?: string };
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
  200: 'OK', 201: 'Created', 204: 'No Content', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  409: 'Conflict', 413: 'Payload Too Large', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

export function statusLine(status: number): string {
  return `${status} ${STATUS_TEXT[status] ?? ''}`.trim();
}

export function json(status: number, body: unknown): Reply {
  return { status, body: JSON.stringify(body), contentType: 'application/json' };
}

export function errorReply(err: unknown): Reply {
  try {
    const e = toFivedError(err);
    return json(HTTP_STATUS[e.code] ?? 400, e.toJSON());
  } catch {
    // a thrown value that cannot even be described (a throwing toString, a cyclic detail)
    return json(500, { code: ErrorCode.INTERNAL, message: 'internal error' });
  }
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

/** A path parameter, percent-decoded; a broken encoding (`%E0%A4%A`, `%E0`) is E_BAD_REQUEST. */
export function decodeParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new FivedError(ErrorCode.BAD_REQUEST, `a path segment is not valid percent-encoded UTF-8: ${JSON.stringify(raw.slice(0, 64))}`);
  }
}

function copyRequest(req: HttpRequest, paramCount: number): Req {
  const params: string[] = [];
  for (let i = 0; i < paramCount; i++) params.push(decodeParam(req.getParameter(i) ?? ''));
  return {
    method: req.getMethod(),
    url: req.getUrl(),
    query: new URLSearchParams(req.getQuery() ?? ''),
    params,
    headers: { authorization: req.getHeader('authorization'), contentType: req.getHeader('content-type'), origin: req.getHeader('origin') },
    body: null,
    ip: '',
  };
}

/** Writes a reply corked, unless the request was aborted; a HEAD answer gets no body. */
function replier(res: HttpResponse, isAborted: () => boolean, isHead: () => boolean, unexpected: (err: unknown) => void): (reply: Reply) => void {
  return (reply) => {
    if (isAborted()) return;
    try {
      res.cork(() => {
        res.writeStatus(statusLine(reply.status)).writeHeader('content-type', reply.contentType);
        for (const [k, v] of Object.entries(reply.headers ?? {})) res.writeHeader(k, v);
        // uWS would send a HEAD answer's body, and a kept-alive client would read it as the next answer
        if (isHead()) res.endWithoutBody(typeof reply.body === 'string' ? Buffer.byteLength(reply.body) : reply.body.byteLength);
        else res.end(reply.body);
      });
    } catch (err) {
      // the response went away between the check and the write: nobody left to answer
      unexpected(err);
    }
  };
}

/**
 * Copies the request (it is invalid after the first await), after the app's request gate: the
 * per-address limits first, so a flood of broken requests is throttled like any other. Returns the
 * gate's refusal instead when it has one.
 */
function admitRequest(app: TemplatedApp, res: HttpResponse, req: HttpRequest, paramCount: number): Req | Reply {
  const gate = gates.get(app);
  let ip = '';
  if (gate) {
    ip = gate.clientIp(Buffer.from(res.getRemoteAddressAsText()).toString(), req.getHeader('x-forwarded-for'));
    const refused = gate.admit(ip, req.getUrl(), req.getHeader('authorization'));
    if (refused) return refused;
  }
  return { ...copyRequest(req, paramCount), ip };
}

/**
 * Registers a handler. `paramCount` path parameters are copied (percent-decoded) from the request.
 * Nothing thrown here may reach uWS: an exception in a uWS callback ends the process (issue 12 row
 * 1: a bad percent-encoding did). Every error becomes a coded reply; an unexpected one (not a
 * FivedError) is also handed to `onError` (logged and counted by the caller) and answered 500.
 */
export function route(app: TemplatedApp, method: 'get' | 'post' | 'del' | 'options' | 'any', pattern: string, paramCount: number, handler: Handler, onError?: (err: unknown) => void): void {
  const unexpected = (err: unknown) => {
    if (err instanceof FivedError) return;
    try {
      onError?.(err);
    } catch {
      // the logger or the metrics threw: nothing more can be done, the reply still goes out
    }
  };
  app[method](pattern, (res: HttpResponse, req: HttpRequest) => {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    let head = false;
    const send = replier(res, () => aborted, () => head, unexpected);
    let info: Req;
    try {
      head = req.getMethod() === 'head';
      const admitted = admitRequest(app, res, req, paramCount);
      if (!('params' in admitted)) return send(admitted);
      info = admitted;
    } catch (err) {
      unexpected(err);
      send(errorReply(err));
      return;
    }
    const hasBody = info.method === 'post' || info.method === 'put' || info.method === 'patch';
    void (async () => {
      let reply: Reply;
      try {
        if (hasBody) info.body = await readBody(res, MAX_BODY, () => aborted);
        reply = await handler(info);
      } catch (err) {
        unexpected(err);
        reply = errorReply(err);
      }
      send(reply);
    })().catch(unexpected);
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
