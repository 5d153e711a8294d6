// msgpack for every binary value the store writes (results, bus messages). Plain maps, no msgpackr
// records extension, so any msgpack reader (redis-cli piped to a decoder, other languages) works.
import { Packr } from 'msgpackr';

const packr = new Packr({ useRecords: false, moreTypes: false, int64AsType: 'number' });

export function encode(value: unknown): Buffer {
  return packr.pack(value);
}

export function decode<T = unknown>(buf: Uint8Array): T {
  return packr.unpack(buf) as T;
}

/** f64 little-endian packing of a Float64Array (copy-free on little-endian hosts). */
export function f64Buffer(a: Float64Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}
