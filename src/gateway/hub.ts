// Connections and rooms: per-socket state, the room → sockets and user → sockets indexes (Sets:
// O(1) add/remove), sends that check uWS's result, and broadcasts encoded once per format.
// A room has two uWS topics, one per wire format, so each frame is encoded once per room per
// format and app.publish fans it out in C++.

import { CloseCode, roomTopic, ServerType, type ServerMessage } from '../protocol.js';
import { Frames, encode, type Format } from './codec.js';
import type { GatewayMetrics } from './metrics.js';
import { watchFlush, type FlushWatch } from './flush.js';
import type { RateBucket } from './ratelimit.js';
import type { TemplatedApp, WebSocket } from './uws.js';

export interface SocketData {
  id: number;
  userId: string | null;
  /** epoch ms the token expires, null when none / anonymous */
  expiresAt: number | null;
  format: Format;
  rooms: Set<string>;
  bucket: RateBucket;
  malformed: number;
  malformedWindow: number;
  open: boolean;
  remote: string;
  /** messages received (a diagnostic for disconnects) */
  messages: number;
}

export type Socket = WebSocket<SocketData>;

// uWS send() results
const SEND_DROPPED = 2;

export function topicOf(room: string, format: Format): string {
  return format === 'binary' ? roomTopic(room) : `${roomTopic(room)}/json`;
}

/**
 * A second client protocol served beside the WebSocket one (the Socket.IO compatibility layer,
 * src/gateway/socketio/): it sees every room broadcast after the WebSocket clients got it, and the
 * per-user notices (settlement) — so it inherits the same timing and the same reveal gate.
 */
export interface HubMirror {
  broadcast(room: string, msg: ServerMessage): void;
  hasUser(userId: string): boolean;
  toUser(userId: string, msg: ServerMessage): void;
}

/** Bytes uWS still holds for a socket (0 once closed: a closed socket must not be touched). */
function bufferedOf(ws: Socket): number {
  return ws.getUserData().open ? ws.getBufferedAmount() : 0;
}

export class Hub {
  readonly all = new Set<Socket>();
  private readonly mirrors: HubMirror[] = [];
  private readonly byRoom = new Map<string, Set<Socket>>();
  private readonly byUser = new Map<string, Set<Socket>>();
  /** rooms whose boundary frames wait for the ended period's result (holdUntilResult) */
  private readonly held = new Map<string, { msgs: ServerMessage[]; timer: NodeJS.Timeout }>();
  private app: TemplatedApp | null = null;

  constructor(private readonly metrics: GatewayMetrics, roomNames: readonly string[]) {
    for (const r of roomNames) this.byRoom.set(r, new Set());
  }

  attach(app: TemplatedApp): void {
    this.app = app;
  }

  addMirror(m: HubMirror): void {
    this.mirrors.push(m);
  }

  /** Whether the user has a connection here, on any protocol. */
  hasUser(userId: string): boolean {
    return (this.byUser.get(userId)?.size ?? 0) > 0 || this.mirrors.some((m) => m.hasUser(userId));
  }

  /** One message to every connection of a user, on any protocol (corked: called after awaits). */
  toUser(userId: string, msg: ServerMessage): void {
    for (const ws of this.byUser.get(userId) ?? []) this.sendLater(ws, msg);
    for (const m of this.mirrors) m.toUser(userId, msg);
  }

  add(ws: Socket): void {
    const d = ws.getUserData();
    this.all.add(ws);
    if (d.userId !== null) {
      let s = this.byUser.get(d.userId);
      if (!s) this.byUser.set(d.userId, (s = new Set()));
      s.add(ws);
    }
    this.metrics.connections.set(this.all.size);
  }

  /** Called from uWS's close handler: the socket must not be used any more. */
  remove(ws: Socket): void {
    const d = ws.getUserData();
    d.open = false;
    this.all.delete(ws);
    for (const room of d.rooms) {
      const s = this.byRoom.get(room);
      s?.delete(ws);
      this.metrics.subscriptions.set({ room }, s?.size ?? 0);
    }
    if (d.userId !== null) {
      const s = this.byUser.get(d.userId);
      s?.delete(ws);
      if (s && s.size === 0) this.byUser.delete(d.userId);
    }
    this.metrics.connections.set(this.all.size);
  }

  join(ws: Socket, room: string): void {
    const d = ws.getUserData();
    // a room added by a settings change (runtime/schedule.ts) gets its set on first use
    let s = this.byRoom.get(room);
    if (!s) this.byRoom.set(room, (s = new Set()));
    ws.subscribe(topicOf(room, d.format));
    d.rooms.add(room);
    s.add(ws);
    this.metrics.subscriptions.set({ room }, s.size);
  }

  leave(ws: Socket, room: string): void {
    const d = ws.getUserData();
    ws.unsubscribe(topicOf(room, d.format));
    d.rooms.delete(room);
    const s = this.byRoom.get(room);
    s?.delete(ws);
    this.metrics.subscriptions.set({ room }, s?.size ?? 0);
  }

  /** The client switched wire format: move its topic subscriptions so broadcasts follow. */
  setFormat(ws: Socket, format: Format): void {
    const d = ws.getUserData();
    if (d.format === format) return;
    for (const room of d.rooms) {
      ws.unsubscribe(topicOf(room, d.format));
      ws.subscribe(topicOf(room, format));
    }
    d.format = format;
  }

  roomSockets(room: string): ReadonlySet<Socket> {
    return this.byRoom.get(room) ?? new Set();
  }

  userSockets(userId: string): ReadonlySet<Socket> | undefined {
    return this.byUser.get(userId);
  }

  /**
   * Sends one message to one socket in its format. A dropped send (over the backpressure limit)
   * closes the socket with BACKPRESSURE: the client reconnects and recovers with `since`.
   * Call inside ws.cork() when not in a uWS callback (after an await).
   */
  send(ws: Socket, msg: ServerMessage): boolean {
    const d = ws.getUserData();
    if (!d.open) return false;
    const data = encode(msg, d.format);
    const r = ws.send(data, d.format === 'binary');
    this.metrics.messagesOut.inc({ kind: msg.type });
    if (r === SEND_DROPPED) {
      // closeOnBackpressureLimit: uWS has already closed the socket (no close frame: 1006 at the
      // client) and run the close handler inside send(); count it, or it leaves no trace at all
      if (!d.open) this.metrics.closes.inc({ code: 'dropped' });
      this.close(ws, CloseCode.BACKPRESSURE, 'too slow: reconnect and recover');
      return false;
    }
    return true;
  }

  /** send() corked, for replies after an await. */
  sendLater(ws: Socket, msg: ServerMessage): void {
    const d = ws.getUserData();
    if (!d.open) return;
    ws.cork(() => this.send(ws, msg));
  }

  close(ws: Socket, code: CloseCode, reason: string): void {
    const d = ws.getUserData();
    if (!d.open) return;
    d.open = false;
    this.metrics.closes.inc({ code: String(code) });
    ws.end(code, reason);
  }

  /**
   * Results first at a period boundary: the room's broadcasts are queued until its ended period's
   * RESULT (or VOID) goes out, at most `maxMs`, then sent right behind it in the same turn. uWS
   * drains a turn's publishes to each socket in one write, so every client gets result, tick and
   * new period in one send instead of a second pass over every socket a few ms later for the
   * result (which waits out the clock's measured lead, docs/design.md rule 4).
   */
  holdUntilResult(room: string, maxMs: number): void {
    if (this.held.has(room)) return;
    const timer = setTimeout(() => this.release(room), maxMs);
    timer.unref();
    this.held.set(room, { msgs: [], timer });
  }

  private release(room: string): void {
    const h = this.held.get(room);
    if (!h) return;
    clearTimeout(h.timer);
    this.held.delete(room);
    for (const msg of h.msgs) this.broadcast(room, msg);
  }

  /** Publishes one message to a room: encoded once per format that has subscribers. */
  broadcast(room: string, msg: ServerMessage): void {
    const h = this.held.get(room);
    const ends = msg.type === ServerType.RESULT || msg.type === ServerType.VOID;
    if (h && !ends) {
      h.msgs.push(msg);
      return;
    }
    this.publishNow(room, msg);
    if (h) this.release(room);
  }

  private publishNow(room: string, msg: ServerMessage): void {
    const frames = new Frames(msg);
    const app = this.app;
    if (!app) return;
    for (const format of ['binary', 'text'] as const) {
      const topic = topicOf(room, format);
      const n = app.numSubscribers(topic);
      if (n === 0) continue;
      app.publish(topic, frames.get(format), format === 'binary');
      this.metrics.messagesOut.inc({ kind: msg.type }, n);
    }
    for (const m of this.mirrors) m.broadcast(room, msg);
  }

  /** Calls done(ms) once every socket of the room has handed what was published to the kernel. */
  whenFlushed(room: string, done: (flushedAt: number, stillPending: number) => void): FlushWatch {
    return watchFlush(this.roomSockets(room), bufferedOf, done);
  }

  /**
   * Sockets of a room whose buffered amount is so high that a frame of `frameBytes` published now
   * would be skipped by uWS (publish drops silently above maxBackpressure). Checked before an
   * important publish (the result); the caller closes them after publishing.
   */
  laggards(room: string, maxBackpressure: number, frameBytes: number): Socket[] {
    const out: Socket[] = [];
    // leave room for the other frames published in the same turn (ticks, period start)
    const margin = Math.min(4096, Math.floor(maxBackpressure / 4));
    const limit = maxBackpressure - margin - frameBytes;
    for (const ws of this.roomSockets(room)) {
      if (ws.getUserData().open && ws.getBufferedAmount() > limit) out.push(ws);
    }
    return out;
  }
}
