// The fived client: one WebSocket to a gateway, kept alive across drops. It reconnects with
// exponential backoff and jitter, resubscribes its rooms with the last period it saw in each
// (`since`, so the gateway replays missed results), correlates requests with replies by `id`,
// verifies every result against its commitment before handing it out, and never hands out a
// result before its period's end by the server's clock.
// Runs in browsers (globalThis.WebSocket, WebCrypto) and in Node 20 (pass `WebSocket` from `ws`).

import { ErrorCode, FivedError } from '../../../src/errors.js';
import {
  ClientType,
  CloseCode,
  ServerType,
  WS_PATH,
  WS_PROTOCOL,
  WS_TOKEN_PROTOCOL_PREFIX,
  type BetAckMsg,
  type BetMsg,
  type ClientMessage,
  type ClosedMsg,
  type HelloMsg,
  type LedgerReplyMsg,
  type MyBetsReplyMsg,
  type PeriodMsg,
  type ResultPayload,
  type RoomInfo,
  type ServerMessage,
  type SettledMsg,
  type SubscribedMsg,
  type TickMsg,
  type UnsubscribedMsg,
  type VoidMsg,
} from '../../../src/protocol.js';
import type { BetKind, BetPick } from '../../../src/core/types.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { decodeMessage, encodeMessage, type WireFormat } from './codec.js';
import { TypedEmitter } from './emitter.js';
import { frameProblem, isResultPayload, roomInfos } from './frames.js';
import { PeriodBook } from './periods.js';
import { RecoveryCursor } from './recovery-cursor.js';
import { PendingRequests, type RequestMessage, type RequestReply } from './requests.js';
import { ServerClock } from './server-clock.js';
import { verifyResult, type ResultVerification } from './verify.js';

/** The part of the WebSocket API the client uses: the browser's and the `ws` package's both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  readonly protocol: string;
  binaryType: string;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
/** A WebSocket constructor (`globalThis.WebSocket`, or `WebSocket` from the `ws` package). */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => unknown;

export type TokenSource = string | null | undefined | (() => string | null | undefined | Promise<string | null | undefined>);

export interface ClientOptions {
  /** player JWT, or a function asked before every (re)connect (to refresh an expiring token) */
  token?: TokenSource;
  /** WebSocket implementation; defaults to globalThis.WebSocket */
  WebSocket?: WebSocketConstructor;
  /** frame format; msgpack (binary) by default */
  format?: WireFormat;
  /** rooms to subscribe to at once */
  rooms?: string[];
  /** reconnect after a drop (default true) */
  reconnect?: boolean;
  backoff?: Partial<BackoffOptions>;
  /** a request without a reply within this time rejects with E_TIMEOUT (default 10 s) */
  requestTimeoutMs?: number;
  /** a socket that does not open and say hello within this time is dropped (default 10 s) */
  connectTimeoutMs?: number;
  /** no message for this long while connected: ping, then drop and reconnect (default 10 s) */
  staleAfterMs?: number;
  /** verify every result against its commitment (default true) */
  verify?: boolean;
  /** @deprecated ignored: results are verified with @noble/hashes in every context (no WebCrypto needed) */
  subtle?: SubtleCrypto;
  /**
   * a result arriving more than this before its end by the estimated server clock is held until
   * then and flagged `early`; one arriving less than this before it is handed out at once (the
   * estimate's error: the gateway sends at the end by its own clock) (default 250 ms)
   */
  earlyToleranceMs?: number;
  /** local clock (tests) */
  now?: () => number;
}

export type ConnectionState = 'connecting' | 'open' | 'ready' | 'reconnecting' | 'closed';

export interface VerifiedResult extends ResultPayload {
  /** the result verifies against its commitment (see `verification` for each check) */
  verified: boolean;
  verification: ResultVerification;
  /** it arrived more than `earlyToleranceMs` before its end by the estimated server clock: it was held until then */
  early: boolean;
  /** it came in a recovery batch (after a reconnect) rather than live; it is in that batch's `recovery` event too */
  recovered: boolean;
  /** estimated server time when it arrived */
  receivedAt: number;
}

/**
 * A `settled` notice: the player's outcomes in one period and the balance after it. `recovered:
 * true` when it was sent after a reconnect (a `subscribe` with `since`) for a period settled while
 * this client was away; absent on a live one. Handed out once per room and period, after the
 * results received before it.
 */
export type SettledEvent = SettledMsg;

export interface ClientErrorEvent {
  code: string;
  message: string;
  id?: string | number;
}
export interface WarningEvent {
  code: string;
  message: string;
  room?: string;
  periodId?: string;
}

export interface ClientEvents {
  state: ConnectionState;
  open: { url: string; protocol: string };
  hello: HelloMsg;
  subscribed: SubscribedMsg;
  unsubscribed: UnsubscribedMsg;
  period: PeriodMsg;
  tick: TickMsg;
  closed: ClosedMsg;
  result: VerifiedResult;
  void: VoidMsg;
  settled: SettledEvent;
  recovery: { room: string; results: VerifiedResult[] };
  error: ClientErrorEvent;
  warning: WarningEvent;
  close: { code: number; reason: string; willReconnect: boolean };
  reconnect: { attempt: number; delayMs: number };
}

export interface BetInput {
  room: string;
  /** defaults to the room's current period as last announced */
  periodId?: string;
  kind: BetKind;
  pick: BetPick;
  amount: number;
  /** idempotency key: resend with the same one after E_ABORTED / E_TIMEOUT; generated when absent */
  clientBetId?: string;
}

export interface MyBetsQuery {
  room?: string;
  periodId?: string;
  limit?: number;
}

// Bounded memories (a long-lived page must not grow without end).
const MAX_REMEMBERED = 512;
/**
 * A result is never held longer than this: one that arrives further ahead of its period's end (by
 * the period id and the room's announced clock) is refused; no honest gateway sends one.
 */
export const MAX_HOLD_MS = 60_000;
/** Slack on a hold's local deadline (the server-clock estimate may move while holding). */
const HOLD_MARGIN_MS = 1_000;
/** A connection that lasted this long resets the backoff. */
const STABLE_MS = 5_000;

function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_REMEMBERED) map.delete(map.keys().next().value as K);
}

/** ws:// URL of a gateway from ws(s)://, http(s):// or a path relative to the page; `/ws` when no path. */
export function gatewayUrl(url: string): string {
  const base = (globalThis as { location?: { href: string } }).location?.href;
  const u = base ? new URL(url, base) : new URL(url);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  if (u.pathname === '' || u.pathname === '/') u.pathname = WS_PATH;
  return u.toString();
}

/** A random client bet id (32 hex chars); getRandomValues works in every browser context. */
export function newClientBetId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

export class FivedClient extends TypedEmitter<ClientEvents> {
  readonly url: string;
  readonly format: WireFormat;
  readonly #opts: ClientOptions;
  readonly #Ctor: WebSocketConstructor;
  readonly #backoff: BackoffOptions;
  readonly #localNow: () => number;
  readonly #clock: ServerClock;
  readonly #cursor = new RecoveryCursor();
  readonly #rooms = new Set<string>(); // wanted subscriptions, kept across reconnects
  readonly #roomInfo = new Map<string, RoomInfo>();
  readonly #book = new PeriodBook(); // what the announcements said: first commitment per period, room clocks
  readonly #held = new Map<string, Promise<void>>(); // room/periodId of results held until their end
  readonly #holdTimers = new Set<ReturnType<typeof setTimeout>>();
  readonly #seenResults = new Map<string, true>(); // room/periodId of results handed out
  readonly #seenSettled = new Map<string, true>(); // room/periodId of settled notices handed out
  readonly #requests: PendingRequests;
  #ws: WebSocketLike | null = null;
  #gen = 0; // bumps per socket: handlers of an old socket do nothing
  #state: ConnectionState = 'connecting';
  #attempt = 0;
  #readyAt = 0;
  #userClosed = false;
  #lastMessageAt = 0;
  #pingSent = false;
  #hello: HelloMsg | null = null;
  #results: Promise<void> = Promise.resolve(); // results are handed out in arrival order
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  #livenessTimer: ReturnType<typeof setInterval> | undefined;

  constructor(url: string, opts: ClientOptions = {}) {
    super();
    const Ctor = opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Ctor) {
      throw new FivedError(ErrorCode.BAD_REQUEST, 'no WebSocket implementation here: pass { WebSocket } (from the `ws` package on Node 20)');
    }
    this.url = gatewayUrl(url);
    this.format = opts.format ?? 'msgpack';
    this.#opts = opts;
    this.#Ctor = Ctor;
    this.#backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
    this.#localNow = opts.now ?? Date.now;
    this.#clock = new ServerClock(this.#localNow);
    this.#requests = new PendingRequests((m) => this.#send(m), opts.requestTimeoutMs ?? 10_000);
    for (const r of opts.rooms ?? []) this.#rooms.add(r);
  }

  // ---- state ----

  get state(): ConnectionState {
    return this.#state;
  }
  /** the last hello (server time, rooms, user id) or null before the first */
  get hello(): HelloMsg | null {
    return this.#hello;
  }
  get userId(): string | null {
    return this.#hello?.userId ?? null;
  }
  /** current period of every room this client has heard of */
  get rooms(): RoomInfo[] {
    return [...this.#roomInfo.values()];
  }
  room(room: string): RoomInfo | undefined {
    return this.#roomInfo.get(room);
  }
  get subscriptions(): string[] {
    return [...this.#rooms];
  }
  /** the last period whose outcome was seen in `room` (the `since` sent on resubscribe) */
  lastSeen(room: string): string | undefined {
    return this.#cursor.get(room);
  }
  /** the commitment announced when a period opened (null when this client did not see it) */
  announcedCommitment(room: string, periodId: string): string | null {
    return this.#book.announced(room, periodId)?.commitment ?? null;
  }
  /** estimated server time (epoch ms) */
  serverNow(): number {
    return this.#clock.now();
  }

  /** Resolves once connected and greeted (immediately if already). */
  ready(timeoutMs?: number): Promise<void> {
    if (this.#state === 'ready') return Promise.resolve();
    if (this.#state === 'closed') return Promise.reject(new FivedError(ErrorCode.ABORTED, 'the client is closed'));
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const off = this.on('state', (s) => {
        if (s !== 'ready' && s !== 'closed') return;
        off();
        if (timer !== undefined) clearTimeout(timer);
        if (s === 'ready') resolve();
        else reject(new FivedError(ErrorCode.ABORTED, 'the client is closed'));
      });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          off();
          reject(new FivedError(ErrorCode.TIMEOUT, `not connected within ${timeoutMs} ms`));
        }, timeoutMs);
      }
    });
  }

  // ---- lifecycle ----

  /** Opens the connection (connect() calls this). */
  start(): this {
    if (this.#ws === null && this.#reconnectTimer === undefined && !this.#userClosed) void this.#open();
    return this;
  }

  /** Closes for good: no reconnect; pending requests reject with E_ABORTED. */
  close(): void {
    if (this.#userClosed) return;
    this.#userClosed = true;
    this.#gen++;
    this.#clearTimers();
    const ws = this.#ws;
    this.#ws = null;
    this.#requests.fail(true, 'the client was closed');
    for (const t of this.#holdTimers) clearTimeout(t);
    this.#holdTimers.clear();
    if (ws) {
      detach(ws);
      try {
        ws.close(1000, 'client closed');
      } catch {
        // already closing
      }
    }
    this.#setState('closed');
    this.emit('close', { code: 1000, reason: 'client closed', willReconnect: false });
  }

  // ---- rooms ----

  /** Subscribes to rooms (kept across reconnects). */
  subscribe(rooms: string | string[]): void {
    const fresh = (Array.isArray(rooms) ? rooms : [rooms]).filter((r) => !this.#rooms.has(r));
    if (fresh.length === 0) return;
    for (const r of fresh) this.#rooms.add(r);
    if (this.#state === 'ready') this.#sendSubscribe(fresh);
  }

  unsubscribe(rooms: string | string[]): void {
    const gone = (Array.isArray(rooms) ? rooms : [rooms]).filter((r) => this.#rooms.delete(r));
    for (const r of gone) this.#cursor.forget(r);
    if (gone.length > 0 && this.#state === 'ready') this.#send({ type: ClientType.UNSUBSCRIBE, rooms: gone });
  }

  // ---- requests ----

  /** Places a bet; resolves with the acknowledgement, rejects with the server's coded error. */
  bet(input: BetInput): Promise<BetAckMsg> {
    // the current period only of a subscribed room: this client gets that room's updates (and results)
    const periodId = input.periodId ?? (this.#rooms.has(input.room) ? this.#roomInfo.get(input.room)?.periodId : undefined);
    if (periodId === undefined) {
      const why = this.#rooms.has(input.room) ? 'no current period known yet' : 'not subscribed';
      return Promise.reject(new FivedError(ErrorCode.INVALID_PERIOD, `room ${input.room}: ${why}: subscribe first (and wait for \`subscribed\`) or pass periodId`));
    }
    const msg: BetMsg = {
      type: ClientType.BET,
      room: input.room,
      periodId,
      kind: input.kind,
      pick: input.pick,
      amount: input.amount,
      clientBetId: input.clientBetId ?? newClientBetId(),
    };
    return this.#request(msg, ServerType.BET_ACK);
  }

  /** The player's bets (newest first), optionally of one room or period. */
  async myBets(query: MyBetsQuery = {}): Promise<MyBetsReplyMsg['bets']> {
    const reply = await this.#request({ type: ClientType.MY_BETS, ...query }, ServerType.MY_BETS);
    return reply.bets;
  }

  async balance(): Promise<number> {
    return (await this.#request({ type: ClientType.BALANCE }, ServerType.BALANCE)).balance;
  }

  /** The player's ledger entries (issue 14), newest first; `next` is the `before` of the following page. */
  async ledger(query: { before?: string; limit?: number } = {}): Promise<{ entries: LedgerReplyMsg['entries']; next: string | null }> {
    const reply = await this.#request({ type: ClientType.LEDGER, ...query }, ServerType.LEDGER);
    return { entries: reply.entries, next: reply.next };
  }

  /** Round trip to the gateway: its time and the measured round-trip time. */
  async ping(): Promise<{ now: number; rttMs: number }> {
    const t0 = this.#localNow();
    const reply = await this.#request({ type: ClientType.PING }, ServerType.PONG);
    return { now: reply.now, rttMs: this.#localNow() - t0 };
  }

  // ---- internals: connection ----

  #setState(s: ConnectionState): void {
    if (this.#state === s) return;
    this.#state = s;
    this.emit('state', s);
  }

  async #open(): Promise<void> {
    const gen = ++this.#gen;
    this.#setState('connecting');
    let token: string | null | undefined;
    try {
      const src = this.#opts.token;
      token = typeof src === 'function' ? await src() : src;
    } catch (err) {
      this.emit('error', { code: ErrorCode.UNAUTHORIZED, message: `token source failed: ${err instanceof Error ? err.message : String(err)}; connecting anonymously` });
      token = null;
    }
    if (gen !== this.#gen || this.#userClosed) return;
    const protocols = token ? [WS_PROTOCOL, WS_TOKEN_PROTOCOL_PREFIX + token] : [WS_PROTOCOL];
    let ws: WebSocketLike;
    try {
      ws = new this.#Ctor(this.url, protocols) as WebSocketLike;
    } catch (err) {
      this.emit('error', { code: ErrorCode.BAD_REQUEST, message: `cannot open ${this.url}: ${err instanceof Error ? err.message : String(err)}` });
      this.#disconnected(gen, 1006, 'open failed');
      return;
    }
    this.#ws = ws;
    ws.binaryType = 'arraybuffer';
    this.#connectTimer = setTimeout(() => {
      this.#abandon(gen, `no hello within ${this.#opts.connectTimeoutMs ?? 10_000} ms`);
    }, this.#opts.connectTimeoutMs ?? 10_000);
    ws.onopen = () => {
      if (gen !== this.#gen) return;
      this.#lastMessageAt = this.#localNow();
      this.#setState('open');
      this.emit('open', { url: this.url, protocol: ws.protocol });
    };
    ws.onmessage = (ev) => {
      if (gen !== this.#gen) return;
      this.#lastMessageAt = this.#localNow();
      this.#pingSent = false;
      let msg: ServerMessage;
      try {
        msg = decodeMessage(ev.data);
      } catch (err) {
        const e = err as FivedError;
        this.emit('error', { code: e.code ?? ErrorCode.MALFORMED, message: e.message });
        return;
      }
      try {
        this.#dispatch(msg);
      } catch (err) {
        // never out of the handler: a frame the checks missed is reported and dropped
        this.emit('error', { code: ErrorCode.MALFORMED, message: `cannot handle a ${String(msg.type)} frame: ${err instanceof Error ? err.message : String(err)}` });
      }
    };
    ws.onerror = () => {
      // a close event always follows; reconnecting is decided there
    };
    ws.onclose = (ev) => {
      if (gen !== this.#gen) return;
      this.#disconnected(gen, ev.code, ev.reason);
    };
  }

  /** Drops a socket that stopped answering without waiting for its close handshake. */
  #abandon(gen: number, reason: string): void {
    if (gen !== this.#gen) return;
    const ws = this.#ws;
    if (ws) {
      detach(ws);
      try {
        ws.close(4900, reason.slice(0, 100));
      } catch {
        // ignore
      }
    }
    this.#disconnected(gen, 1006, reason);
  }

  #disconnected(gen: number, code: number, reason: string): void {
    if (gen !== this.#gen) return;
    this.#gen++;
    this.#clearTimers();
    this.#ws = null;
    if (this.#readyAt > 0 && this.#localNow() - this.#readyAt >= STABLE_MS) this.#attempt = 0;
    this.#readyAt = 0;
    this.#requests.fail(false, `connection closed (${code}${reason ? ` ${reason}` : ''}) before the reply`);
    const willReconnect = !this.#userClosed && this.#opts.reconnect !== false;
    this.#setState(willReconnect ? 'reconnecting' : 'closed');
    this.emit('close', { code, reason, willReconnect });
    const why = CLOSE_ERRORS[code];
    if (why) this.emit('error', { code: why[0], message: `${why[1]}${reason ? ` (${reason})` : ''}` });
    if (!willReconnect) {
      this.#requests.fail(true, 'the connection closed and reconnecting is off');
      return;
    }
    const delayMs = backoffDelay(this.#attempt, this.#backoff);
    this.#attempt++;
    this.emit('reconnect', { attempt: this.#attempt, delayMs });
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (!this.#userClosed) void this.#open();
    }, delayMs);
  }

  #clearTimers(): void {
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    if (this.#connectTimer !== undefined) clearTimeout(this.#connectTimer);
    if (this.#livenessTimer !== undefined) clearInterval(this.#livenessTimer);
    this.#reconnectTimer = this.#connectTimer = this.#livenessTimer = undefined;
  }

  /** While connected: ping when quiet for half of staleAfterMs, drop the socket when quiet for all of it. */
  #startLiveness(gen: number): void {
    const staleMs = this.#opts.staleAfterMs ?? 10_000;
    const every = Math.max(100, Math.min(1000, Math.floor(staleMs / 4)));
    this.#livenessTimer = setInterval(() => {
      const quiet = this.#localNow() - this.#lastMessageAt;
      if (quiet >= staleMs) this.#abandon(gen, `no message for ${quiet} ms`);
      else if (quiet >= staleMs / 2 && !this.#pingSent) {
        this.#pingSent = true;
        this.ping().catch(() => undefined);
      }
    }, every);
  }

  #send(msg: ClientMessage): boolean {
    const ws = this.#ws;
    if (ws?.readyState !== 1) return false;
    try {
      ws.send(encodeMessage(msg, this.format));
      return true;
    } catch (err) {
      this.emit('error', { code: ErrorCode.INTERNAL, message: `send failed: ${err instanceof Error ? err.message : String(err)}` });
      return false;
    }
  }

  #sendSubscribe(rooms: string[]): void {
    const since = this.#cursor.since(rooms);
    this.#send(since ? { type: ClientType.SUBSCRIBE, rooms, since } : { type: ClientType.SUBSCRIBE, rooms });
  }

  // ---- internals: requests ----

  #request<T extends RequestReply['type']>(msg: RequestMessage, expected: T): Promise<Extract<RequestReply, { type: T }>> {
    if (this.#userClosed) return Promise.reject(new FivedError(ErrorCode.ABORTED, 'the client is closed'));
    return this.#requests.request(msg, expected, this.#state === 'ready');
  }

  // ---- internals: messages ----

  /**
   * Records a period's announcement (the first commitment, duration and timeline of a period stand:
   * a later, different one raises a warning and the period's result will not verify);
   * `subscribed`: it reached us on a subscription.
   */
  #learnPeriod(info: RoomInfo, subscribed = true): void {
    const changed = this.#book.learn(info);
    const prev = this.#roomInfo.get(info.room);
    if (!prev || info.periodId >= prev.periodId) {
      const { room, duration, timeline, periodId, startsAt, freezeAt, endsAt } = info;
      const commitment = this.#book.announced(room, periodId)?.commitment ?? null; // the first one announced
      this.#roomInfo.set(room, { room, duration, timeline, periodId, startsAt, freezeAt, endsAt, commitment });
    }
    if (changed !== null) {
      this.emit('warning', { code: ErrorCode.RESULT_MISMATCH, message: `${info.room} ${info.periodId}: ${changed}; the first announcement stands and its result will not verify`, room: info.room, periodId: info.periodId });
    }
    if (subscribed && this.#rooms.has(info.room)) this.#cursor.sawPeriod(info.room, info.periodId, info.duration);
  }

  #malformed(message: string): void {
    this.emit('error', { code: ErrorCode.MALFORMED, message: `malformed frame from the server: ${message}` });
  }

  #dispatch(msg: ServerMessage): void {
    const problem = frameProblem(msg as unknown as Record<string, unknown>);
    if (problem !== null) return this.#malformed(problem);
    switch (msg.type) {
      case ServerType.HELLO:
        return this.#onHello(msg);
      case ServerType.SUBSCRIBED: {
        const { rooms, bad } = roomInfos(msg.rooms);
        if (bad) this.#malformed('subscribed with malformed rooms (the valid ones are kept)');
        for (const info of rooms) this.#learnPeriod(info);
        return this.emit('subscribed', { ...msg, rooms });
      }
      case ServerType.UNSUBSCRIBED:
        return this.emit('unsubscribed', msg);
      case ServerType.PERIOD:
        this.#learnPeriod(msg);
        return this.emit('period', msg);
      case ServerType.TICK:
        this.#clock.observe(msg.now);
        return this.emit('tick', msg);
      case ServerType.CLOSED:
        return this.emit('closed', msg);
      case ServerType.RESULT:
        return this.#queueResults(msg.room, [msg], false);
      case ServerType.RECOVERY:
        return this.#queueResults(msg.room, msg.results, true);
      case ServerType.VOID:
        if (this.#periodStarted(msg.room, msg.periodId)) this.#cursor.sawOutcome(msg.room, msg.periodId);
        return this.emit('void', msg);
      case ServerType.SETTLED:
        return this.#queueSettled(msg);
      case ServerType.PONG:
        this.#clock.observe(msg.now);
        this.#requests.settle(msg);
        return;
      case ServerType.BET_ACK:
      case ServerType.MY_BETS:
      case ServerType.BALANCE:
      case ServerType.LEDGER:
        this.#requests.settle(msg);
        return;
      case ServerType.ERROR:
        if (!this.#requests.settle(msg)) this.emit('error', msg.id === undefined ? { code: msg.code, message: msg.message } : { code: msg.code, message: msg.message, id: msg.id });
        return;
      default:
        // a newer gateway may send types this client does not know: ignore them
        return;
    }
  }

  /**
   * A subscribed room's period that has started by the server clock (derived from its id): only
   * then may its void move the recovery cursor (a void of a future period must not skip the
   * current one's result).
   */
  #periodStarted(room: string, periodId: string): boolean {
    const w = this.#book.windowOf(room, periodId);
    return this.#rooms.has(room) && w !== null && w.startsAt <= this.#clock.now();
  }

  #onHello(msg: HelloMsg): void {
    if (this.#connectTimer !== undefined) clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
    this.#clock.reset(); // maybe another gateway than before
    this.#clock.observe(msg.serverTime);
    const { rooms, bad } = roomInfos(msg.rooms);
    if (bad) this.#malformed('hello with malformed rooms (the valid ones are kept)');
    this.#hello = { ...msg, rooms };
    for (const info of rooms) this.#learnPeriod(info, false);
    this.#readyAt = this.#localNow();
    this.#setState('ready');
    this.#startLiveness(this.#gen);
    if (this.#rooms.size > 0) this.#sendSubscribe([...this.#rooms]);
    this.#requests.flush();
    this.emit('hello', this.#hello);
  }

  /**
   * Verifies results in arrival order; each is handed out as a `result` event (recovered ones too,
   * `recovered: true`) when it is due, and a recovery batch is also reported as one `recovery`
   * event. A result held until its end does not hold up the others. The chain never stays
   * rejected: a bad entry is reported and the next results still go out.
   */
  #queueResults(room: string, results: unknown[], recovered: boolean): void {
    this.#results = this.#results
      .then(async () => {
        const due: Array<Promise<VerifiedResult | null>> = [];
        for (const r of results) {
          if (!isResultPayload(r)) {
            this.#malformed(`a ${recovered ? 'recovered ' : ''}result with malformed fields in ${room}`);
            continue;
          }
          try {
            const checked = await this.#checkResult(r, recovered);
            if (checked) due.push(this.#handOut(checked.v, checked.holdUntil));
          } catch (err) {
            this.emit('error', { code: ErrorCode.INTERNAL, message: `result handling failed: ${err instanceof Error ? err.message : String(err)}` });
          }
        }
        if (!recovered) return;
        const emitBatch = (out: Array<VerifiedResult | null>) => this.emit('recovery', { room, results: out.filter((v): v is VerifiedResult => v !== null) });
        if (this.#held.size === 0) emitBatch(await Promise.all(due));
        else void Promise.all(due).then(emitBatch);
      })
      .catch((err: unknown) => {
        this.emit('error', { code: ErrorCode.INTERNAL, message: `result handling failed: ${err instanceof Error ? err.message : String(err)}` });
      });
  }

  /**
   * After the results queued before it (its period's result is verified and handed out first,
   * even when that result is held until its end); once per room and period: around a reconnect
   * the live notice and the recovered one can both arrive.
   */
  #queueSettled(msg: SettledMsg): void {
    this.#results = this.#results.then(() => {
      const key = `${msg.room}/${msg.periodId}`;
      if (this.#seenSettled.has(key)) return;
      remember(this.#seenSettled, key, true);
      const held = this.#held.get(key);
      if (held) void held.then(() => this.emit('settled', msg));
      else this.emit('settled', msg);
    }).catch(() => undefined); // (emit never throws; the chain must never stay rejected)
  }

  /** Hands a checked result out now, or at `holdUntil` (server time) without blocking the queue. */
  #handOut(v: VerifiedResult, holdUntil: number | null): Promise<VerifiedResult | null> {
    if (holdUntil === null) {
      this.#deliver(v);
      return Promise.resolve(v);
    }
    const key = `${v.room}/${v.periodId}`;
    const p = this.#waitUntilServerTime(holdUntil).then(() => {
      this.#held.delete(key);
      if (this.#userClosed) return null;
      this.#deliver(v);
      return v;
    });
    this.#held.set(key, p.then(() => undefined));
    return p;
  }

  #deliver(v: VerifiedResult): void {
    // only a verified result moves the recovery cursor (a bad frame must not make the next
    // reconnect skip real results); with verification off, one of a period that has ended does
    const ended = this.#book.windowOf(v.room, v.periodId);
    const moves = v.verified || (this.#opts.verify === false && ended !== null && ended.endsAt <= this.#clock.now() + this.#tolerance());
    if (moves && this.#rooms.has(v.room)) this.#cursor.sawOutcome(v.room, v.periodId);
    if (!v.verified && this.#opts.verify !== false) {
      this.emit('warning', { code: ErrorCode.RESULT_MISMATCH, message: `result of ${v.room} ${v.periodId} does not verify: ${v.verification.reason}`, room: v.room, periodId: v.periodId });
    }
    this.emit('result', v);
  }

  #tolerance(): number {
    const t = this.#opts.earlyToleranceMs ?? 250;
    return Number.isFinite(t) && t >= 0 ? Math.min(t, MAX_HOLD_MS) : 250;
  }

  /**
   * Verifies one result against what this client was told (the room's duration and timeline, the
   * period's first announced commitment) and decides until when to hold it: its period's end as
   * derived from its id and the room's clock (never the result's own `endsAt`). Null for a
   * duplicate, or for a result so far ahead of its end that no honest gateway sends it (refused:
   * not remembered, so the real one still gets through).
   */
  async #checkResult(r: ResultPayload, recovered: boolean): Promise<{ v: VerifiedResult; holdUntil: number | null } | null> {
    const key = `${r.room}/${r.periodId}`;
    if (this.#seenResults.has(key) || this.#held.has(key)) return null;
    const receivedAt = this.#clock.now();
    const ann = this.#book.announced(r.room, r.periodId);
    // the later of the end announced for the period and the end its id implies on the room's clock
    const derived = this.#book.windowOf(r.room, r.periodId)?.endsAt;
    const endsAt = derived === undefined && ann === undefined ? null : Math.max(derived ?? -Infinity, ann?.endsAt ?? -Infinity);
    const ahead = endsAt === null ? 0 : endsAt - receivedAt;
    if (ahead > MAX_HOLD_MS) {
      this.emit('warning', { code: ErrorCode.TOO_EARLY, message: `result of ${r.room} ${r.periodId} arrived ${Math.round(ahead)} ms before its period's end: refused`, room: r.room, periodId: r.periodId });
      return null;
    }
    remember(this.#seenResults, key, true);
    const early = ahead > this.#tolerance();
    if (early) {
      this.emit('warning', { code: ErrorCode.TOO_EARLY, message: `result of ${r.room} ${r.periodId} arrived ${Math.round(ahead)} ms before the period's end; held until then`, room: r.room, periodId: r.periodId });
    }
    const verification = await this.#verify(r, ann);
    const v: VerifiedResult = { ...r, verified: verification.verified, verification, early, recovered, receivedAt };
    return { v, holdUntil: early ? endsAt : null };
  }

  async #verify(r: ResultPayload, ann: ReturnType<PeriodBook['announced']>): Promise<ResultVerification> {
    if (this.#opts.verify === false) return { verified: false, commitmentOk: false, digitsOk: false, announcedOk: null, reason: 'verification is turned off' };
    const facts = this.#book.room(r.room);
    const duration = ann?.duration ?? facts?.duration;
    const timeline = ann?.timeline ?? facts?.timeline;
    const v = await verifyResult(r, { commitment: ann?.commitment ?? null, ...(duration !== undefined && timeline !== undefined ? { duration, timeline } : {}) });
    if (!v.verified) return v;
    if (duration === undefined || timeline === undefined) return { ...v, verified: false, reason: `room ${r.room} was never announced to this client: its duration and timeline are unknown (the result is only self-consistent)` };
    if (ann?.changed) return { ...v, verified: false, reason: 'the commitment (or duration/timeline) changed after it was announced' };
    return v;
  }

  /** Waits until the estimated server clock reaches `t`, at most MAX_HOLD_MS (+ a margin) in all. */
  async #waitUntilServerTime(t: number): Promise<void> {
    const deadline = this.#localNow() + Math.min(MAX_HOLD_MS, Math.max(0, t - this.#clock.now())) + HOLD_MARGIN_MS;
    for (;;) {
      const left = Math.min(t - this.#clock.now(), deadline - this.#localNow());
      if (!(left > 0) || this.#userClosed) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.#holdTimers.delete(timer);
          resolve();
        }, Math.ceil(Math.min(left, MAX_HOLD_MS)));
        this.#holdTimers.add(timer);
      });
    }
  }
}

/** Closes that mean something is wrong on this side: surfaced as an error event as well. */
const CLOSE_ERRORS: Partial<Record<number, [ErrorCode, string]>> = {
  [CloseCode.POLICY]: [ErrorCode.FORBIDDEN, 'the gateway refused this origin'],
  [CloseCode.TOO_BIG]: [ErrorCode.PAYLOAD_TOO_LARGE, 'a frame exceeded the gateway\'s maximum payload'],
  [CloseCode.RATE_LIMITED]: [ErrorCode.RATE_LIMITED, 'closed for sending too many messages'],
  [CloseCode.MALFORMED_FLOOD]: [ErrorCode.MALFORMED, 'closed for sending malformed frames'],
  [CloseCode.AUTH_EXPIRED]: [ErrorCode.UNAUTHORIZED, 'the token expired: pass `token` as a function to refresh it on reconnect'],
};

function detach(ws: WebSocketLike): void {
  ws.onopen = ws.onmessage = ws.onclose = null;
  // not null: the `ws` package emits 'error' when a connecting socket is closed, and an
  // EventEmitter 'error' without a listener would crash a Node process
  ws.onerror = () => {};
}

/** Creates a client and starts connecting. */
export function connect(url: string, opts: ClientOptions = {}): FivedClient {
  return new FivedClient(url, opts).start();
}
