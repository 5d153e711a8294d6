// A Socket.IO player for the compatibility tests and the bench: the real `socket.io-client`, every
// event recorded with its arrival time, and awaitable (no sleeping where an event can be awaited).
import { SignJWT } from 'jose';
import { io, type Socket } from 'socket.io-client';
import type { JsonBody } from './gateway.js';

export interface Seen {
  event: string;
  payload: JsonBody;
  at: number;
}

/** `upgrade`: the client's default, polling first and then the upgrade to WebSocket */
export type Transport = 'websocket' | 'polling' | 'upgrade';

export interface SioOptions {
  transport: Transport;
  auth?: Record<string, unknown>;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** reconnect on a lost connection (socket.io-client's default); off unless asked */
  reconnection?: boolean;
}

export class SioPlayer {
  readonly seen: Seen[] = [];
  readonly socket: Socket;
  private waiters: Array<{ pred: (s: Seen) => boolean; resolve: (s: Seen) => void }> = [];

  constructor(url: string, o: SioOptions) {
    this.socket = io(url, {
      transports: o.transport === 'upgrade' ? ['polling', 'websocket'] : [o.transport], auth: o.auth ?? {}, query: o.query ?? {}, extraHeaders: o.headers ?? {},
      reconnection: o.reconnection ?? false, forceNew: true, timeout: 10_000,
    });
    this.socket.onAny((event: string, payload: unknown) => this.record(event, payload));
    this.socket.on('connect_error', (err: Error) => this.record('connect_error', { message: err.message }));
    this.socket.on('disconnect', (reason: string) => this.record('disconnect', { reason }));
  }

  private record(event: string, payload: unknown): void {
    const s = { event, payload, at: Date.now() };
    this.seen.push(s);
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(s)) return true;
      w.resolve(s);
      return false;
    });
  }

  /** The first event (already seen or still to come) matching; rejects after timeoutMs. */
  next(event: string, pred: (p: JsonBody) => boolean = () => true, timeoutMs = 20_000, from = 0): Promise<JsonBody> {
    const hit = this.seen.slice(from).find((s) => s.event === event && pred(s.payload));
    if (hit) return Promise.resolve(hit.payload);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms; seen: ${this.seen.map((s) => s.event).join(',')}`)), timeoutMs);
      this.waiters.push({ pred: (s) => s.event === event && pred(s.payload), resolve: (s) => { clearTimeout(t); resolve(s.payload); } });
    });
  }

  /** Waits for the next `event` after this call (ignores the ones already seen). */
  fresh(event: string, pred: (p: JsonBody) => boolean = () => true, timeoutMs = 20_000): Promise<JsonBody> {
    return this.next(event, pred, timeoutMs, this.seen.length);
  }

  /** Emits and waits for the first of `events` that arrives after the emit. */
  ask(event: string, payload: unknown, answers: string[], timeoutMs = 10_000): Promise<Seen> {
    const from = this.seen.length;
    const p = new Promise<Seen>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${answers.join('/')} after ${event}`)), timeoutMs);
      const hit = () => this.seen.slice(from).find((s) => answers.includes(s.event));
      this.waiters.push({ pred: (s) => answers.includes(s.event), resolve: () => { clearTimeout(t); resolve(hit()!); } });
    });
    if (payload === undefined) this.socket.emit(event);
    else this.socket.emit(event, payload);
    return p;
  }

  events(event: string): Seen[] {
    return this.seen.filter((s) => s.event === event);
  }

  close(): void {
    this.socket.close();
  }
}

/** An HS256 token with the given claims (exp 1 h ahead unless given). */
export async function claimsToken(secret: string, claims: Record<string, unknown>, opts: { expS?: number; nbfS?: number; noExp?: boolean } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt(now - 5);
  if (!opts.noExp) jwt.setExpirationTime(now + (opts.expS ?? 3600));
  if (opts.nbfS !== undefined) jwt.setNotBefore(now + opts.nbfS);
  return jwt.sign(new TextEncoder().encode(secret));
}
