// A minimal WebSocket client over a raw net.Socket: writes the upgrade request, reads the 101,
// then reads frames with FrameReader. Several times cheaper per message than the `ws` package, so
// 10,000 of them on this machine measure the server, not the client. The same client talks to all
// three stacks: `fived` (the gateway and the floor: msgpack binary or JSON text frames), `sio`
// (the Socket.IO peer: Engine.IO v4 websocket transport, packets parsed by hand) and `compat` (the
// gateways' Socket.IO compatibility layer, docs/socketio.md: the same transport, a token in the
// CONNECT packet, `joinGame`, and `timeUpdate` / `periodResult` read as ticks and results).

import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Packr, Unpackr } from 'msgpackr';
import {
  EIO_PATH,
  EIO_PONG,
  FrameReader,
  Opcode,
  SIO_CONNECT,
  encodeClientFrame,
  parseSioPacket,
  parseUpgradeResponse,
  sioEvent,
  upgradeRequest,
} from './frames.js';

export type Dialect = 'fived' | 'sio' | 'compat';
export type WireFormat = 'binary' | 'text';

export interface LightClientOptions {
  host: string;
  port: number;
  localAddress?: string;
  dialect: Dialect;
  /** fived only: the format of the subscribe message, which the gateway answers in kind */
  format: WireFormat;
  rooms: string[];
  /** compat only: the player's JWT, sent in the Socket.IO CONNECT packet */
  token?: string;
  /** a decoded server message and the receipt time (epoch ms, sub-ms resolution) */
  onMessage: (msg: Record<string, unknown>, receivedAt: number) => void;
  /** the socket is upgraded and the subscribe message is written */
  onReady: () => void;
  onClose: (reason: string) => void;
  /** fived only: decode result frames only, skip every other message unread (bench:scale) */
  resultsOnly?: boolean;
}

/**
 * A fived result frame, told without decoding it: the gateway and the floor put `type` first, so
 * msgpack starts map, "type" (0xa4 + 4 bytes), then "result" (0xa6 'r'…) and JSON `{"type":"result"`.
 */
export function isResultFrame(opcode: number, p: Buffer): boolean {
  if (opcode === Opcode.BINARY) return p.length > 12 && p[1] === 0xa4 && p[6] === 0xa6 && p[7] === 0x72 && p[8] === 0x65 && p[9] === 0x73;
  return p.length > 16 && p.toString('latin1', 0, 16) === '{"type":"result"';
}

const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** Epoch ms with sub-millisecond resolution (same clock as Date.now(), finer). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The subscribe message of the fived protocol in the chosen format, as a masked client frame. */
export function fivedSubscribeFrame(rooms: string[], format: WireFormat): Buffer {
  const msg = { type: 'subscribe', rooms };
  return format === 'binary' ? encodeClientFrame(Opcode.BINARY, packr.pack(msg)) : encodeClientFrame(Opcode.TEXT, JSON.stringify(msg));
}

/** Decodes one fived server message (msgpack binary or JSON text); null when it is not an object. */
export function decodeFived(opcode: number, payload: Buffer): Record<string, unknown> | null {
  const v = (opcode === Opcode.BINARY ? unpackr.unpack(payload) : JSON.parse(payload.toString('utf8'))) as unknown;
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : null;
}

export class LightClient {
  readonly socket: net.Socket;
  private upgraded = false;
  private head: Buffer | null = null;
  private closed = false;
  private readonly reader: FrameReader;
  /** compat: the end of each period, from its timeUpdates (periodResult carries no end) */
  private readonly endOf = new Map<string, number>();

  constructor(private readonly o: LightClientOptions) {
    this.reader = new FrameReader((op, payload) => this.message(op, payload));
    this.socket = net.connect({ host: o.host, port: o.port, ...(o.localAddress ? { localAddress: o.localAddress } : {}) });
    this.socket.setNoDelay(true);
    this.socket.on('connect', () => {
      const path = o.dialect === 'fived' ? '/ws' : EIO_PATH;
      this.socket.write(upgradeRequest(`${o.host}:${o.port}`, path, randomBytes(16).toString('base64')));
    });
    this.socket.on('data', (chunk: Buffer) => this.data(chunk));
    this.socket.on('error', (err) => this.finish(`error: ${err.message}`));
    this.socket.on('close', () => this.finish('closed'));
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.o.onClose(reason);
  }

  private receivedAt = 0;

  private data(chunk: Buffer): void {
    this.receivedAt = nowMs(); // one clock read per chunk: every frame in it arrived together
    if (!this.upgraded) {
      const buf = this.head ? Buffer.concat([this.head, chunk]) : chunk;
      const res = parseUpgradeResponse(buf);
      if (!res) {
        this.head = Buffer.from(buf);
        return;
      }
      this.head = null;
      if (res.status !== 101) {
        this.finish(`upgrade refused: HTTP ${res.status}`);
        this.socket.destroy();
        return;
      }
      this.upgraded = true;
      if (this.o.dialect === 'fived') {
        this.socket.write(fivedSubscribeFrame(this.o.rooms, this.o.format));
        this.o.onReady();
      }
      if (res.rest.length > 0) this.feed(res.rest);
      return;
    }
    this.feed(chunk);
  }

  private feed(buf: Buffer): void {
    try {
      this.reader.push(buf);
    } catch (err) {
      this.finish(`protocol: ${err instanceof Error ? err.message : String(err)}`);
      this.socket.destroy();
    }
  }

  private message(op: number, payload: Buffer): void {
    if (op === Opcode.PING) {
      this.socket.write(encodeClientFrame(Opcode.PONG, Buffer.from(payload)));
      return;
    }
    if (op === Opcode.CLOSE) {
      this.finish(`close frame ${payload.length >= 2 ? payload.readUInt16BE(0) : ''}`);
      this.socket.destroy();
      return;
    }
    if (op === Opcode.PONG) return;
    if (this.o.dialect === 'fived') {
      if (this.o.resultsOnly && !isResultFrame(op, payload)) return;
      const msg = decodeFived(op, payload);
      if (msg) this.o.onMessage(msg, this.receivedAt);
      return;
    }
    const p = parseSioPacket(payload.toString('utf8'));
    switch (p.kind) {
      case 'open':
        this.socket.write(encodeClientFrame(Opcode.TEXT, this.o.dialect === 'compat' ? `${SIO_CONNECT}${JSON.stringify({ token: this.o.token ?? '' })}` : SIO_CONNECT));
        break;
      case 'connect':
        this.socket.write(encodeClientFrame(Opcode.TEXT, this.o.dialect === 'compat'
          ? sioEvent('joinGame', { gameType: 'fiveD', duration: Number((this.o.rooms[0] ?? '').split('_')[1]) })
          : sioEvent('subscribe', { type: 'subscribe', rooms: this.o.rooms })));
        this.o.onReady();
        break;
      case 'ping':
        this.socket.write(encodeClientFrame(Opcode.TEXT, EIO_PONG));
        break;
      case 'event': {
        const a = p.args[0];
        if (typeof a !== 'object' || a === null) break;
        if (this.o.dialect === 'compat') this.compatEvent(p.name, a as Record<string, unknown>);
        else this.o.onMessage({ type: p.name, ...(a as Record<string, unknown>) }, this.receivedAt);
        break;
      }
      case 'close':
        this.finish('engine.io close');
        this.socket.destroy();
        break;
      default:
        break;
    }
  }

  /** The compatibility layer's events as the harness's ticks and results (receipt − boundary / − end). */
  private compatEvent(name: string, a: Record<string, unknown>): void {
    if (name === 'timeUpdate') {
      this.endOf.set(String(a.periodId), Date.parse(String(a.endTime)));
      this.o.onMessage({ type: 'tick', now: Date.parse(String(a.timestamp)) }, this.receivedAt);
    } else if (name === 'periodResult') {
      const endsAt = this.endOf.get(String(a.periodId));
      if (endsAt !== undefined) this.o.onMessage({ type: 'result', periodId: a.periodId, endsAt }, this.receivedAt);
    }
  }
}
