// The light client's wire layer: a streaming WebSocket frame reader (server → client frames),
// a masked client frame writer, and the Engine.IO v4 / Socket.IO v5 packet parser used to talk to
// the Socket.IO peer over its websocket transport directly. Kept allocation-light: a chunk that
// holds whole frames is read in place; only a frame split across chunks is copied.

import { randomBytes } from 'node:crypto';

export const Opcode = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

/** One complete message: opcode of its first frame, payload (a view into the chunk when possible). */
export type MessageHandler = (opcode: number, payload: Buffer) => void;

export class FrameError extends Error {}

/**
 * Incremental frame reader. push() every chunk from the socket; complete messages go to onMessage
 * (fragmented messages are reassembled; control frames may arrive between fragments and are
 * delivered on their own). Payload buffers may be views into the pushed chunk: copy before keeping.
 */
export class FrameReader {
  private pending: Buffer | null = null;
  private fragments: Buffer[] = [];
  private fragmentOpcode = -1;

  constructor(private readonly onMessage: MessageHandler, private readonly maxPayload = 16 * 1024 * 1024) {}

  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.pending !== null) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    let off = 0;
    const len = buf.length;
    while (len - off >= 2) {
      const b0 = buf[off]!;
      const b1 = buf[off + 1]!;
      let plen = b1 & 0x7f;
      let hdr = 2;
      if (plen === 126) {
        if (len - off < 4) break;
        plen = buf.readUInt16BE(off + 2);
        hdr = 4;
      } else if (plen === 127) {
        if (len - off < 10) break;
        const hi = buf.readUInt32BE(off + 2);
        if (hi !== 0) throw new FrameError('frame payload over 4 GiB');
        plen = buf.readUInt32BE(off + 6);
        hdr = 10;
      }
      if (plen > this.maxPayload) throw new FrameError(`frame payload ${plen} over the limit ${this.maxPayload}`);
      const masked = (b1 & 0x80) !== 0;
      if (masked) hdr += 4;
      if (len - off < hdr + plen) break;
      let payload = buf.subarray(off + hdr, off + hdr + plen);
      if (masked) payload = unmask(payload, buf.subarray(off + hdr - 4, off + hdr));
      off += hdr + plen;
      this.frame((b0 & 0x80) !== 0, b0 & 0x0f, payload);
    }
    if (off < len) this.pending = Buffer.from(buf.subarray(off)); // copy: the chunk may be reused
  }

  private frame(fin: boolean, opcode: number, payload: Buffer): void {
    if (opcode >= 0x8) {
      if (!fin) throw new FrameError('fragmented control frame');
      this.onMessage(opcode, payload);
      return;
    }
    if (opcode === Opcode.CONTINUATION) {
      if (this.fragmentOpcode < 0) throw new FrameError('continuation frame without a first fragment');
      this.fragments.push(Buffer.from(payload));
      if (fin) {
        const whole = Buffer.concat(this.fragments);
        const op = this.fragmentOpcode;
        this.fragments = [];
        this.fragmentOpcode = -1;
        this.onMessage(op, whole);
      }
      return;
    }
    if (opcode !== Opcode.TEXT && opcode !== Opcode.BINARY) throw new FrameError(`reserved opcode ${opcode}`);
    if (this.fragmentOpcode >= 0) throw new FrameError('new data frame inside a fragmented message');
    if (fin) {
      this.onMessage(opcode, payload);
      return;
    }
    this.fragmentOpcode = opcode;
    this.fragments.push(Buffer.from(payload));
  }
}

function unmask(payload: Buffer, mask: Buffer): Buffer {
  const out = Buffer.allocUnsafe(payload.length);
  for (let i = 0; i < payload.length; i++) out[i] = payload[i]! ^ mask[i & 3]!;
  return out;
}

/** A client frame (FIN set, masked as RFC 6455 requires of clients). */
export function encodeClientFrame(opcode: number, data: Buffer | string, mask: Buffer = randomBytes(4)): Buffer {
  const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const n = payload.length;
  const hdr = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(hdr + 4 + n);
  out[0] = 0x80 | opcode;
  if (n < 126) out[1] = 0x80 | n;
  else if (n < 65536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeUInt32BE(0, 2);
    out.writeUInt32BE(n, 6);
  }
  mask.copy(out, hdr, 0, 4);
  for (let i = 0; i < n; i++) out[hdr + 4 + i] = payload[i]! ^ mask[i & 3]!;
  return out;
}

/** A server frame (unmasked): for tests and for the harness's own fake servers. */
export function encodeServerFrame(opcode: number, data: Buffer | string, fin = true): Buffer {
  const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const n = payload.length;
  const hdr = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(hdr + n);
  out[0] = (fin ? 0x80 : 0) | opcode;
  if (n < 126) out[1] = n;
  else if (n < 65536) {
    out[1] = 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(0, 2);
    out.writeUInt32BE(n, 6);
  }
  payload.copy(out, hdr);
  return out;
}

/** The HTTP/1.1 upgrade request of a WebSocket handshake. */
export function upgradeRequest(host: string, path: string, key: string, protocol?: string): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
    (protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : '') +
    '\r\n'
  );
}

/**
 * Reads the handshake response from the start of the stream: null while the header block is
 * incomplete, else the status and the bytes after the headers (the first frames).
 */
export function parseUpgradeResponse(buf: Buffer): { status: number; rest: Buffer } | null {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const line = buf.toString('latin1', 0, Math.min(end, buf.indexOf('\r\n')));
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(line);
  return { status: m ? Number(m[1]) : 0, rest: buf.subarray(end + 4) };
}

// ---- Engine.IO v4 / Socket.IO v5 over the websocket transport ----
// Engine.IO packet = one char type + data: 0 open, 1 close, 2 ping, 3 pong, 4 message.
// A message carries a Socket.IO packet: one char type (0 CONNECT, 1 DISCONNECT, 2 EVENT, 3 ACK,
// 4 CONNECT_ERROR), an optional `/nsp,`, an optional ack id, then JSON: ["event", ...args].

export const EIO_PATH = '/socket.io/?EIO=4&transport=websocket';

export type SioPacket =
  | { kind: 'open'; data: string }
  | { kind: 'ping' }
  | { kind: 'close' }
  | { kind: 'connect'; data: string }
  | { kind: 'event'; name: string; args: unknown[] }
  | { kind: 'other'; raw: string };

export function parseSioPacket(text: string): SioPacket {
  const eio = text.charCodeAt(0);
  if (eio === 0x32 /* 2 */) return { kind: 'ping' };
  if (eio === 0x30 /* 0 */) return { kind: 'open', data: text.slice(1) };
  if (eio === 0x31 /* 1 */) return { kind: 'close' };
  if (eio !== 0x34 /* 4 */) return { kind: 'other', raw: text };
  const sio = text.charCodeAt(1);
  if (sio === 0x30 /* 0 */) return { kind: 'connect', data: text.slice(2) };
  if (sio !== 0x32 /* 2 */) return { kind: 'other', raw: text };
  // default namespace and no ack id: the JSON array starts right away (the common case)
  let i = 2;
  if (text.charCodeAt(i) === 0x2f /* / */) {
    const comma = text.indexOf(',', i);
    if (comma < 0) return { kind: 'other', raw: text };
    i = comma + 1;
  }
  while (i < text.length && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
  const arr = JSON.parse(text.slice(i)) as unknown;
  if (!Array.isArray(arr) || typeof arr[0] !== 'string') return { kind: 'other', raw: text };
  return { kind: 'event', name: arr[0], args: arr.slice(1) };
}

/** `42["name",payload]`: a Socket.IO event on the default namespace, as an Engine.IO message. */
export function sioEvent(name: string, payload: unknown): string {
  return `42${JSON.stringify([name, payload])}`;
}
export const SIO_CONNECT = '40';
export const EIO_PONG = '3';
