// The bus over Redis pub/sub (at-most-once): one lazily opened subscriber connection, resubscribed
// on reconnect, with an application heartbeat that notices half-open sockets.
import { Redis } from 'ioredis';
import { DEFAULT_HEARTBEAT_MS, type RedisBase } from '../base/redis.js';
import { decode, encode } from '../codec.js';
import { keepConnected, roleOptions } from '../connection.js';
import type { BusHandler, BusStore } from '../types.js';
import { validateChannel } from '../validate.js';


export class RedisBus implements BusStore {
  private readonly handlers = new Map<string, Set<BusHandler>>();

  constructor(private readonly b: RedisBase) {}

  async publish(channel: string, message: unknown): Promise<void> {
    validateChannel(channel);
    await this.b.op(() => this.b.redis.publish(this.b.keys.channel(channel), encode(message)));
  }

  async subscribe(channel: string, handler: BusHandler): Promise<void> {
    validateChannel(channel);
    const sub = this.subscriber();
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      await this.b.op(() => sub.subscribe(this.b.keys.channel(channel)));
    }
    set.add(handler);
  }

  private subscriber(): Redis {
    if (this.b.sub) return this.b.sub;
    const sub = new Redis(roleOptions(this.b.opts, 'subscriber')); // autoResubscribe (default) resubscribes after a reconnect
    this.b.sub = sub;
    sub.on('error', () => undefined);
    keepConnected(sub, () => this.b.closed);
    const prefix = this.b.keys.prefix;
    sub.on('messageBuffer', (ch: Buffer, msg: Buffer) => this.deliver(ch.toString().slice(prefix.length), msg));
    // ioredis does not notice a half-open socket; a PING that gets no answer forces a reconnect
    const every = this.b.opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    this.b.heartbeat = setInterval(() => {
      if (sub.status !== 'ready') return;
      const timer = setTimeout(() => sub.disconnect(true), Math.max(1000, every * 0.6));
      sub.ping().then(() => clearTimeout(timer), () => clearTimeout(timer));
    }, every);
    this.b.heartbeat.unref();
    void sub.connect().catch(() => undefined);
    return sub;
  }

  private deliver(name: string, msg: Buffer): void {
    const set = this.handlers.get(name);
    if (!set) return;
    let value: unknown;
    try { value = decode(msg); } catch { return; } // not ours: ignore
    for (const h of set) {
      try { h(name, value); } catch (err) { console.error(JSON.stringify({ level: 'error', msg: 'bus handler threw', channel: name, err: String(err) })); }
    }
  }
}
