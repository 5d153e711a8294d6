// A tiny typed event emitter that runs in browsers and Node alike (no node:events).
// A listener that throws never breaks the client's message loop: the error goes to `onListenerError`.

import { ErrorCode, FivedError } from '../../../src/errors.js';

export type Listener<T> = (payload: T) => void;

export class TypedEmitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>();
  /** Where a throwing listener's error goes; defaults to console.error. */
  onListenerError: (err: unknown, event: PropertyKey) => void = (err, event) => {
    console.error(`fived client: a "${String(event)}" listener threw`, err);
  };

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(event: K, fn: Listener<Events[K]>): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(fn as Listener<never>);
    return () => this.off(event, fn);
  }

  once<K extends keyof Events>(event: K, fn: Listener<Events[K]>): () => void {
    const off = this.on(event, (payload) => {
      off();
      fn(payload);
    });
    return off;
  }

  off<K extends keyof Events>(event: K, fn: Listener<Events[K]>): void {
    this.#listeners.get(event)?.delete(fn as Listener<never>);
  }

  /** Resolves with the next payload of `event` (or rejects with E_TIMEOUT after `timeoutMs`, when given). */
  next<K extends keyof Events>(event: K, timeoutMs?: number): Promise<Events[K]> {
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const off = this.once(event, (p) => {
        if (timer !== undefined) clearTimeout(timer);
        resolve(p);
      });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          off();
          reject(new FivedError(ErrorCode.TIMEOUT, `no "${String(event)}" event within ${timeoutMs} ms`));
        }, timeoutMs);
      }
    });
  }

  listenerCount(event: keyof Events): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  protected emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        (fn as Listener<Events[K]>)(payload);
      } catch (err) {
        this.onListenerError(err, event);
      }
    }
  }
}
