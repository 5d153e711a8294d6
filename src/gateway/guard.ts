// Guards for uWS callbacks. An exception thrown in any uWS callback ends the process (uWS.js
// rethrows it as uncaught), and so does a rejection of an async one (unhandled): one bad request
// would take every socket of the gateway — and in `fived all` every in-memory balance — with it
// (issue 12 row 1). Each callback a request or a frame reaches runs behind one of these: an
// unexpected error is handed to `onError` (logged and counted by the caller) and answered where
// there is still someone to answer; the process stays up.

import type { HttpResponse, WebSocket } from './uws.js';
import type { WebSocketBehavior } from 'uWebSockets.js';

export type OnUnexpected = (where: string, err: unknown) => void;

/** Calls onError, swallowing what it throws itself (a failing logger must not end the process). */
export function report(onError: OnUnexpected, where: string, err: unknown): void {
  try {
    onError(where, err);
  } catch {
    // nothing more can be done
  }
}

/** Runs fn; a throw or a rejection goes to onError and then to `after` (itself guarded). */
export function guarded(onError: OnUnexpected, where: string, fn: () => unknown, after?: (err: unknown) => void): void {
  const failed = (err: unknown) => {
    report(onError, where, err);
    if (!after) return;
    try {
      after(err);
    } catch (e) {
      report(onError, where, e);
    }
  };
  try {
    const r = fn();
    if (r instanceof Promise) r.catch(failed);
  } catch (err) {
    failed(err);
  }
}

export interface WsAnswers<T> {
  /** answers a failed upgrade (e.g. 500 with a coded body); writing to a response already answered or aborted throws, which is caught */
  upgrade(res: HttpResponse, err: unknown): void;
  /** tells a socket its frame failed (a coded E_INTERNAL error) */
  message(ws: WebSocket<T>, err: unknown): void;
}

/** The same behaviour with every callback guarded. */
export function guardWs<T>(b: WebSocketBehavior<T>, onError: OnUnexpected, answer: WsAnswers<T>): WebSocketBehavior<T> {
  const out: WebSocketBehavior<T> = { ...b };
  const { upgrade, open, message, drain, close, ping, pong, subscription } = b;
  if (upgrade) out.upgrade = (res, req, context) => guarded(onError, 'ws-upgrade', () => upgrade(res, req, context), (err) => answer.upgrade(res, err));
  if (open) out.open = (ws) => guarded(onError, 'ws-open', () => open(ws));
  if (message) out.message = (ws, data, isBinary) => guarded(onError, 'ws-message', () => message(ws, data, isBinary), (err) => answer.message(ws, err));
  if (drain) out.drain = (ws) => guarded(onError, 'ws-drain', () => drain(ws));
  if (close) out.close = (ws, code, msg) => guarded(onError, 'ws-close', () => close(ws, code, msg));
  if (ping) out.ping = (ws, msg) => guarded(onError, 'ws-ping', () => ping(ws, msg));
  if (pong) out.pong = (ws, msg) => guarded(onError, 'ws-pong', () => pong(ws, msg));
  if (subscription) out.subscription = (ws, topic, n, o) => guarded(onError, 'ws-subscription', () => subscription(ws, topic, n, o));
  return out;
}
