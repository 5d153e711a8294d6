// The client's estimate of the server's clock, from the server times stamped on messages.
// A message stamped S and received at local time L was sent no later than the server time at
// receipt, so (S - L) is a lower bound of (server - local); the largest recent bound is the best.
// Erring low means a result is never judged "on time" on a clock that runs ahead of the server's.

const WINDOW = 32;

export class ServerClock {
  readonly #samples: number[] = [];
  readonly #localNow: () => number;

  constructor(localNow: () => number = Date.now) {
    this.#localNow = localNow;
  }

  /** Records a server timestamp `serverTime` seen at local time `receivedAt`. */
  observe(serverTime: number, receivedAt: number = this.#localNow()): void {
    if (!Number.isFinite(serverTime)) return;
    this.#samples.push(serverTime - receivedAt);
    if (this.#samples.length > WINDOW) this.#samples.shift();
  }

  /** Forget every sample (a new connection may reach another gateway). */
  reset(): void {
    this.#samples.length = 0;
  }

  /** Estimated (server − local) offset in ms; 0 before any sample. */
  get offset(): number {
    return this.#samples.length === 0 ? 0 : Math.max(...this.#samples);
  }

  get synced(): boolean {
    return this.#samples.length > 0;
  }

  /** Estimated server time now. */
  now(): number {
    return this.#localNow() + this.offset;
  }
}
