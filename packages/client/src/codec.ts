// Frame encoding shared by browsers and Node: msgpack (binary frames, the default) or JSON (text).
// Maps stay plain objects (useRecords: false) so any msgpack decoder can read what we send.

import { Packr, Unpackr } from 'msgpackr';
import { ErrorCode, FivedError } from '../../../src/errors.js';
import type { ClientMessage, ServerMessage } from '../../../src/protocol.js';

export type WireFormat = 'msgpack' | 'json';

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false });

export function encodeMessage(msg: ClientMessage, format: WireFormat): string | Uint8Array {
  return format === 'json' ? JSON.stringify(msg) : packr.pack(msg);
}

function toBytes(data: unknown): Uint8Array | null {
  if (data instanceof Uint8Array) return data; // Node Buffer too
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (Array.isArray(data) && data.every((b) => b instanceof Uint8Array)) {
    // ws with binaryType 'fragments'
    const total = data.reduce((n: number, b: Uint8Array) => n + b.length, 0);
    const out = new Uint8Array(total);
    let off = 0;
    for (const b of data as Uint8Array[]) {
      out.set(b, off);
      off += b.length;
    }
    return out;
  }
  return null;
}

/** Decodes one frame (text → JSON, binary → msgpack); anything that is not a typed object is E_MALFORMED. */
export function decodeMessage(data: unknown): ServerMessage {
  let value: unknown;
  try {
    if (typeof data === 'string') value = JSON.parse(data);
    else {
      const bytes = toBytes(data);
      if (!bytes) throw new Error('unsupported frame data');
      value = unpackr.unpack(bytes);
    }
  } catch (err) {
    throw new FivedError(ErrorCode.MALFORMED, `undecodable frame from the server: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof value !== 'object' || value === null || typeof (value as { type?: unknown }).type !== 'string') {
    throw new FivedError(ErrorCode.MALFORMED, 'a server message must be an object with a string `type`');
  }
  return value as ServerMessage;
}
