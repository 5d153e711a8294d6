// One WebSocket route at /socket.io/ for both paths (docs/socketio.md "Two paths"). uWS keeps one
// handler per route pattern, so two `ws('/socket.io/')` registrations would leave which one serves
// to the router's order. Instead engine.io's route is taken aside when socket.io attaches
// (withoutWsRoute) and the gateway registers the only one (routeWebSockets): its upgrade sends a
// request without a sid for the WebSocket transport to the native path and everything else (the
// upgrades from polling) to engine.io; each socket's later callbacks follow its user data.

import type { HttpRequest, HttpResponse, TemplatedApp, WebSocket, WebSocketBehavior } from 'uWebSockets.js';
import { NativeConn, nativeQuery, type NativeData, type NativePath } from './native.js';

type Behavior = WebSocketBehavior<unknown>;

/** A view of the app for io.attachApp whose `ws()` records the behavior instead of registering it. */
export function withoutWsRoute(app: TemplatedApp): { app: TemplatedApp; taken(): Behavior } {
  let behavior: Behavior | null = null;
  const view: TemplatedApp = new Proxy(app, {
    get(target, key) {
      if (key === 'ws') {
        return (_pattern: string, b: Behavior) => {
          behavior = b;
          return view;
        };
      }
      const v = Reflect.get(target, key) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        const r = (v as (...a: unknown[]) => unknown).apply(target, args);
        return r === target ? view : r;
      };
    },
  });
  return {
    app: view,
    taken: () => {
      if (!behavior) throw new Error('socket.io registered no WebSocket route');
      return behavior;
    },
  };
}

type OnError = (where: string, err: unknown) => void;

function guard<A extends unknown[]>(where: string, onError: OnError, fn: (...a: A) => void): (...a: A) => void {
  return (...a: A) => {
    try {
      fn(...a);
    } catch (err) {
      onError(where, err);
    }
  };
}

const isNative = (ws: WebSocket<unknown>): boolean => (ws.getUserData() as Partial<NativeData>).native instanceof NativeConn;

export function routeWebSockets(app: TemplatedApp, path: string, engine: Behavior, native: NativePath, onError: OnError): void {
  app.ws<unknown>(path, {
    ...engine, // compression, idleTimeout, maxBackpressure, maxPayloadLength: the same for both paths
    upgrade: (res: HttpResponse, req: HttpRequest, context) => {
      const query = nativeQuery(req);
      if (query === null) return engine.upgrade!(res, req, context);
      guard('sio-upgrade', onError, () => native.upgrade(res, req, context, query))();
    },
    open: (ws) => (isNative(ws) ? guard('sio-open', onError, () => native.onOpen(ws as WebSocket<NativeData>))() : engine.open!(ws)),
    message: (ws, message, isBinary) =>
      isNative(ws) ? guard('sio-message', onError, () => native.onMessage(ws as WebSocket<NativeData>, message, isBinary))() : engine.message!(ws, message, isBinary),
    close: (ws, code, message) => (isNative(ws) ? guard('sio-close', onError, () => native.onClose(ws as WebSocket<NativeData>))() : engine.close!(ws, code, message)),
  });
}
