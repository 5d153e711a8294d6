// Rooms and users of the Socket.IO connections, and the fan-out of room events. No Socket.IO
// adapter and no Socket.IO rooms (docs/socketio.md "How it is built"): fived's bus already reaches
// every gateway, and each gateway's own clock and results drive its rooms. A room event is encoded
// once; WebSocket-transport connections get it through one uWS topic publish (in C++), polling
// connections through their Engine.IO socket. Per-connection sends made after an await are corked
// (uWS: writes outside a uWS callback must be corked, src/gateway/uws.ts).

import type { Socket } from 'socket.io';
import type { TemplatedApp, WebSocket } from '../uws.js';

/** Engine.IO "message" (4) + Socket.IO EVENT (2) to the default namespace, no ack id. */
export function encodeEvent(event: string, payload: unknown): string {
  return `2${JSON.stringify([event, payload])}`;
}

/** The uWS socket under a connection on the WebSocket transport, else null (polling). */
function uwsOf(socket: Socket): WebSocket<unknown> | null {
  const t = socket.conn.transport as unknown as { name: string; socket?: WebSocket<unknown> };
  return t.name === 'websocket' && t.socket ? t.socket : null;
}

/** Runs `fn` corked on the connection's uWS socket (a no-op wrapper on polling: Engine.IO corks its responses). */
export function corked(socket: Socket, fn: () => void): void {
  const ws = uwsOf(socket);
  if (!ws) return fn();
  try {
    ws.cork(fn);
  } catch {
    fn(); // closed between the check and the cork: Engine.IO drops the write itself
  }
}

const topicOf = (room: string): string => `sio/${room}`;

export class Fanout {
  private readonly byRoom = new Map<string, Set<Socket>>();
  private readonly roomOf = new Map<Socket, string>();
  private readonly byUser = new Map<string, Set<Socket>>();
  private total = 0;

  constructor(private readonly app: TemplatedApp, rooms: readonly string[]) {
    for (const r of rooms) this.byRoom.set(r, new Set());
  }

  addUser(socket: Socket, userId: string): void {
    let s = this.byUser.get(userId);
    if (!s) this.byUser.set(userId, (s = new Set()));
    if (!s.has(socket)) this.total += 1;
    s.add(socket);
    // a polling connection that upgrades to WebSocket moves to the room's topic
    socket.conn.on('upgrade', () => {
      const room = this.roomOf.get(socket);
      if (room !== undefined) uwsOf(socket)?.subscribe(topicOf(room));
    });
  }

  userSockets(userId: string): ReadonlySet<Socket> {
    return this.byUser.get(userId) ?? new Set();
  }

  get connections(): number {
    return this.total;
  }

  /** One game room per connection, as the replaced system: joining one leaves the other. */
  join(socket: Socket, room: string): void {
    this.leave(socket);
    this.byRoom.get(room)?.add(socket);
    this.roomOf.set(socket, room);
    uwsOf(socket)?.subscribe(topicOf(room));
  }

  leave(socket: Socket): string | undefined {
    const room = this.roomOf.get(socket);
    if (room === undefined) return undefined;
    this.byRoom.get(room)?.delete(socket);
    this.roomOf.delete(socket);
    try {
      uwsOf(socket)?.unsubscribe(topicOf(room));
    } catch {
      // already closed: uWS dropped its subscriptions
    }
    return room;
  }

  room(socket: Socket): string | undefined {
    return this.roomOf.get(socket);
  }

  count(room: string): number {
    return this.byRoom.get(room)?.size ?? 0;
  }

  remove(socket: Socket, userId: string): void {
    this.leave(socket);
    const s = this.byUser.get(userId);
    if (s?.delete(socket)) this.total -= 1;
    if (s && s.size === 0) this.byUser.delete(userId);
  }

  /** Sockets of a room whose uWS buffer is so full that a publish now would skip them. */
  laggards(room: string, limit: number): Socket[] {
    const out: Socket[] = [];
    for (const s of this.byRoom.get(room) ?? []) {
      const ws = uwsOf(s);
      if (ws && ws.getBufferedAmount() > limit) out.push(s);
    }
    return out;
  }

  /** A room event: encoded once, published once to the WebSocket connections, written to the polling ones. */
  emit(room: string, event: string, payload: unknown): number {
    const members = this.byRoom.get(room);
    if (!members || members.size === 0) return 0;
    const packet = encodeEvent(event, payload);
    this.app.publish(topicOf(room), `4${packet}`, false);
    for (const s of members) {
      if (uwsOf(s) === null && s.connected) s.conn.write(packet);
    }
    return members.size;
  }
}
