// Frames on the wire: binary frames are msgpack, text frames JSON. A client is answered in the
// format it used last. Broadcasts are encoded once per format (Frames), never once per socket.

import { Packr, Unpackr } from 'msgpackr';
import { ErrorCode, FivedError } from '../errors.js';
import type { ServerMessage } from '../protocol.js';

export type Format = 'binary' | 'text';

// Plain maps only: records/structures would make frames unreadable to other msgpack decoders.
const packr = new Packr({ useRecords: false, variableMapSize: true });
// int64 decodes to a Number (possibly inexact): validation refuses anything over the safe limits.
const unpackr = new Unpackr({ useRecords: false, int64AsType: 'number', mapsAsObjects: true });
const textDecoder = new TextDecoder('utf-8', { fatal: true });

export function encode(msg: ServerMessage, format: Format): Uint8Array | string {
  return format === 'binary' ? packr.pack(msg) : JSON.stringify(msg);
}

/** One broadcast encoded lazily once per format. */
export class Frames {
  private bin: Uint8Array | null = null;
  private txt: string | null = null;
  constructor(readonly msg: ServerMessage) {}
  get(format: Format): Uint8Array | string {
    if (format === 'binary') return (this.bin ??= packr.pack(this.msg));
    return (this.txt ??= JSON.stringify(this.msg));
  }
  size(format: Format): number {
    const f = this.get(format);
    return typeof f === 'string' ? Buffer.byteLength(f) : f.byteLength;
  }
}

/**
 * Decodes a frame into a plain value (not yet validated). The ArrayBuffer from uWS is only valid
 * during the message callback: this copies what it needs synchronously.
 */
export function decode(data: ArrayBuffer, isBinary: boolean): unknown {
  try {
    if (isBinary) return unpackr.unpack(new Uint8Array(data));
    return JSON.parse(textDecoder.decode(new Uint8Array(data)));
  } catch (err) {
    throw new FivedError(ErrorCode.MALFORMED, `cannot decode the ${isBinary ? 'msgpack' : 'JSON'} frame: ${err instanceof Error ? err.message : String(err)}`);
  }
}
