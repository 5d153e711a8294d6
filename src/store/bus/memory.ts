// The bus in memory (at-most-once): same copy semantics as Redis, handlers get a decoded copy.
import { EventEmitter } from 'node:events';
import type { MemState } from '../base/memory.js';
import { decode, encode } from '../codec.js';
import type { BusHandler, BusStore } from '../types.js';
import { validateChannel } from '../validate.js';

export class MemBus implements BusStore {
  private readonly bus = new EventEmitter();

  constructor(private readonly s: MemState) {
    this.bus.setMaxListeners(0);
    s.onClose.push(() => this.bus.removeAllListeners());
  }

  async publish(channel: string, message: unknown): Promise<void> {
    validateChannel(channel);
    this.s.open();
    const bytes = encode(message);
    setImmediate(() => this.bus.emit(channel, bytes));
  }

  async subscribe(channel: string, handler: BusHandler): Promise<void> {
    validateChannel(channel);
    this.s.open();
    this.bus.on(channel, (bytes: Uint8Array) => {
      try { handler(channel, decode(bytes)); } catch (err) { console.error(JSON.stringify({ level: 'error', msg: 'bus handler threw', channel, err: String(err) })); }
    });
  }
}
