// Rooms and users of the Socket.IO connections, and the fan-out of room events. No Socket.IO
// adapter and no Socket.IO rooms (docs/socketio.md "How it is built"): fived's bus already reaches
// every gateway, and each gateway's own clock and results drive its rooms. A room event is encoded
// once; every connection on the WebSocket transport (native or upgraded) gets it through one uWS
// topic publish (in C++), polling connections through their Engine.IO socket.

import type { TemplatedApp } from '../uws.js';
import { encodeEvent, PackageConn, type CompatConn } from './conn.js';

const topicOf = (room: string): string => `sio/${room}`;

export class Fanout {
  private readonly byRoom = new Map<string, Set<CompatConn>>();
  private readonly roomOf = new Map<CompatConn, string>();
  private readonly byUser = new Map<string, Set<CompatConn>>();
  private total = 0;

  constructor(private readonly app: TemplatedApp, rooms: readonly string[]) {
    for (const r of rooms) this.byRoom.set(r, new Set());
  }

  addUser(c: CompatConn): void {
    let s = this.byUser.get(c.userId);
    if (!s) this.byUser.set(c.userId, (s = new Set()));
    if (!s.has(c)) this.total += 1;
    s.add(c);
    // a polling connection that upgrades to WebSocket moves to the room's topic
    if (c instanceof PackageConn) {
      c.onUpgrade(() => {
        const room = this.roomOf.get(c);
        if (room !== undefined) c.uws()?.subscribe(topicOf(room));
      });
    }
  }

  userSockets(userId: string): ReadonlySet<CompatConn> {
    return this.byUser.get(userId) ?? new Set();
  }

  get connections(): number {
    return this.total;
  }

  /** One game room per connection, as the replaced system: joining one leaves the other. */
  join(c: CompatConn, room: string): void {
    this.leave(c);
    this.byRoom.get(room)?.add(c);
    this.roomOf.set(c, room);
    c.uws()?.subscribe(topicOf(room));
  }

  leave(c: CompatConn): string | undefined {
    const room = this.roomOf.get(c);
    if (room === undefined) return undefined;
    this.byRoom.get(room)?.delete(c);
    this.roomOf.delete(c);
    try {
      c.uws()?.unsubscribe(topicOf(room));
    } catch {
      // already closed: uWS dropped its subscriptions
    }
    return room;
  }

  room(c: CompatConn): string | undefined {
    return this.roomOf.get(c);
  }

  count(room: string): number {
    return this.byRoom.get(room)?.size ?? 0;
  }

  remove(c: CompatConn): void {
    this.leave(c);
    const s = this.byUser.get(c.userId);
    if (s?.delete(c)) this.total -= 1;
    if (s && s.size === 0) this.byUser.delete(c.userId);
  }

  /** Connections of a room whose uWS buffer is so full that a publish now would skip them. */
  laggards(room: string, limit: number): CompatConn[] {
    const out: CompatConn[] = [];
    for (const c of this.byRoom.get(room) ?? []) {
      const ws = c.uws();
      if (ws && ws.getBufferedAmount() > limit) out.push(c);
    }
    return out;
  }

  /** A room event: encoded once, published once to the WebSocket connections, written to the polling ones. */
  emit(room: string, event: string, payload: unknown): number {
    const members = this.byRoom.get(room);
    if (!members || members.size === 0) return 0;
    const packet = encodeEvent(event, payload);
    this.app.publish(topicOf(room), `4${packet}`, false);
    for (const c of members) {
      if (c.uws() === null) c.write(packet);
    }
    return members.size;
  }
}
