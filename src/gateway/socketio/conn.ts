// One Socket.IO connection as the handlers, the fan-out and the mirror see it, whichever path
// serves it (docs/socketio.md "Two paths"): the gateway's own native WebSocket path (native.ts) or
// the socket.io package (polling, and the upgrades from it). The session fields are the same on
// both; what differs is only how a packet reaches the client.

import type { Socket } from 'socket.io';
import type { RateBucket } from '../ratelimit.js';
import type { WebSocket } from '../uws.js';

export type CompatPath = 'native' | 'package';

export interface CompatConn {
  readonly path: CompatPath;
  /** the Socket.IO session id (socket.id at the client) */
  readonly id: string;
  /** true from the admitted CONNECT to the disconnect */
  readonly connected: boolean;
  userId: string;
  bucket: RateBucket | null;
  /** the uWS socket under the connection while it is on the WebSocket transport, else null */
  uws(): WebSocket<unknown> | null;
  /** an event now (inside a uWS or Engine.IO callback) */
  emit(event: string, payload: unknown): void;
  /** an event after an await: corked, and only while the connection is open */
  later(event: string, payload: unknown): void;
  /** a pre-encoded Socket.IO packet (`2[…]`) to a connection off the WebSocket transport */
  write(packet: string): void;
  /** closed under the session ("transport close" at the client: it reconnects on its own) */
  closeTransport(): void;
  /** ended by the server ("io server disconnect": the client does not reconnect) */
  disconnect(): void;
}

/** Engine.IO "message" (4) is added by the transport; this is Socket.IO EVENT (2) to "/" with no ack id. */
export function encodeEvent(event: string, payload: unknown): string {
  return `2${JSON.stringify([event, payload])}`;
}

/** A connection of the socket.io package (polling, or WebSocket after an upgrade). */
export class PackageConn implements CompatConn {
  readonly path = 'package' as const;
  userId = '';
  bucket: RateBucket | null = null;

  constructor(private readonly socket: Socket) {}

  get id(): string {
    return this.socket.id;
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  uws(): WebSocket<unknown> | null {
    const t = this.socket.conn.transport as unknown as { name: string; socket?: WebSocket<unknown> };
    return t.name === 'websocket' && t.socket ? t.socket : null;
  }

  /** an Engine.IO event of the underlying connection (the fan-out follows an upgrade) */
  onUpgrade(fn: () => void): void {
    this.socket.conn.on('upgrade', fn);
  }

  emit(event: string, payload: unknown): void {
    this.socket.emit(event, payload);
  }

  later(event: string, payload: unknown): void {
    if (!this.socket.connected) return;
    const ws = this.uws();
    if (!ws) return void this.socket.emit(event, payload); // Engine.IO corks its polling responses
    try {
      ws.cork(() => this.socket.emit(event, payload));
    } catch {
      this.socket.emit(event, payload); // closed between the check and the cork: Engine.IO drops it
    }
  }

  write(packet: string): void {
    if (this.socket.connected) this.socket.conn.write(packet);
  }

  closeTransport(): void {
    this.socket.conn.close();
  }

  disconnect(): void {
    this.socket.disconnect(true);
  }
}
