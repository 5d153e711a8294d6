// Limits per client address and per user (issue 12, row 7), all in this gateway's memory:
// - the client address: the peer, or the last X-Forwarded-For entry when the peer is a trusted
//   proxy (HAProxy sets the header; a client cannot forge it past a proxy that overwrites it);
// - counters (open sockets per address) and token buckets per key (HTTP requests per address,
//   bets per user across its sockets, demo sessions per address), O(1) per event; idle buckets
//   are dropped by a sweep once a minute so a scan of many addresses cannot grow the maps forever;
// - token expiry: sockets in buckets per second, checked every 250 ms (O(sockets expiring now),
//   never a scan of all sockets), so a silent socket is closed within 250 ms of its token's exp.
// Everything here is per gateway: docs/operations.md says why that is enough.

import { BlockList, isIP } from 'node:net';

/** Where a request or connection comes from, as the limits see it. */
export class ClientAddress {
  private readonly trusted = new BlockList();
  private readonly any: boolean;

  constructor(proxies: readonly string[]) {
    for (const p of proxies) {
      const [addr, bits] = p.split('/');
      const family = isIP(addr ?? '') === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.trusted.addAddress(addr!, family);
      else this.trusted.addSubnet(addr!, Number(bits), family);
    }
    this.any = proxies.length > 0;
  }

  /** peer: the socket's remote address; forwarded: the X-Forwarded-For header ('' when none). */
  resolve(peer: string, forwarded: string): string {
    const p = normalize(peer);
    if (!this.any || forwarded === '' || !this.isTrusted(p)) return p;
    // the entry the proxy appended is the last one; earlier ones are whatever the client sent
    const last = forwarded.slice(forwarded.lastIndexOf(',') + 1).trim();
    const a = normalize(last);
    return isIP(a) === 0 ? p : a;
  }

  isTrusted(addr: string): boolean {
    const family = isIP(addr);
    if (family === 0) return false;
    return this.trusted.check(addr, family === 6 ? 'ipv6' : 'ipv4');
  }
}

/** uWS gives IPv4 peers as IPv4-mapped IPv6 on dual-stack sockets (::ffff:1.2.3.4): one key per client. */
export function normalize(addr: string): string {
  const a = addr.trim().toLowerCase();
  if (a.startsWith('::ffff:') && isIP(a.slice(7)) === 4) return a.slice(7);
  if (a.startsWith('0000:0000:0000:0000:0000:ffff:')) {
    // uWS's text form of a mapped address: the last two groups hold the IPv4 address
    const groups = a.split(':');
    const hi = parseInt(groups[6] ?? '', 16);
    const lo = parseInt(groups[7] ?? '', 16);
    if (Number.isFinite(hi) && Number.isFinite(lo)) return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return a;
}

/** Open things per key (sockets per address). */
export class Counter {
  private readonly counts = new Map<string, number>();

  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  inc(key: string): void {
    this.counts.set(key, this.get(key) + 1);
  }

  dec(key: string): void {
    const n = this.get(key) - 1;
    if (n <= 0) this.counts.delete(key);
    else this.counts.set(key, n);
  }

  get size(): number {
    return this.counts.size;
  }
}

interface Bucket {
  tokens: number;
  last: number;
}

/**
 * Token buckets per key: `ratePerS` refill, `burst` capacity; 0 = unlimited. A key's bucket
 * starts full. Refilled lazily when taken (O(1)); sweep() drops buckets that are full again.
 */
export class KeyedBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly ratePerS: number, private readonly burst: number) {}

  get enabled(): boolean {
    return this.ratePerS > 0;
  }

  /** true when allowed (and a token is taken) */
  take(key: string, now: number): boolean {
    if (this.ratePerS <= 0) return true;
    let b = this.buckets.get(key);
    if (!b) this.buckets.set(key, (b = { tokens: this.burst, last: now }));
    else {
      b.tokens = Math.min(this.burst, b.tokens + (Math.max(0, now - b.last) * this.ratePerS) / 1000);
      b.last = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Drops the buckets that would be full by now (nothing to remember about those keys). */
  sweep(now: number): void {
    for (const [k, b] of this.buckets) {
      if (b.tokens + ((now - b.last) * this.ratePerS) / 1000 >= this.burst) this.buckets.delete(k);
    }
  }

  get size(): number {
    return this.buckets.size;
  }
}

/**
 * Failures per key in a fixed window: after `max` failures a key is refused until its window
 * (`windowMs` from its first failure) ends. For the operator token: a guesser gets `max` tries a
 * window per address, the real operator (who does not fail) is never slowed.
 */
export class FailureWindow {
  private readonly windows = new Map<string, { start: number; fails: number }>();

  constructor(private readonly max: number, private readonly windowMs: number) {}

  blocked(key: string, now: number): boolean {
    if (this.max <= 0) return false; // 0 = off
    const w = this.windows.get(key);
    if (!w) return false;
    if (now - w.start >= this.windowMs) {
      this.windows.delete(key);
      return false;
    }
    return w.fails >= this.max;
  }

  /** records a failure; returns the failures of the key in its window */
  fail(key: string, now: number): number {
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) this.windows.set(key, (w = { start: now, fails: 0 }));
    w.fails += 1;
    return w.fails;
  }

  sweep(now: number): void {
    for (const [k, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(k);
  }
}

/**
 * Things that expire at a given ms, kept in buckets per second: check(now) hands over everything
 * whose second has passed, visiting only those buckets (the seconds since the last check), never
 * the whole set. An item expiring at t (ms) is due from t on: its bucket is ceil(t / 1000).
 */
export class ExpiryWheel<T> {
  private readonly buckets = new Map<number, Set<T>>();
  private readonly secondOf = new Map<T, number>();
  private checked: number; // every bucket <= this second was handed over

  constructor(now: number) {
    this.checked = Math.floor(now / 1000);
  }

  add(item: T, expiresAt: number): void {
    const sec = Math.max(Math.ceil(expiresAt / 1000), this.checked + 1);
    let b = this.buckets.get(sec);
    if (!b) this.buckets.set(sec, (b = new Set()));
    b.add(item);
    this.secondOf.set(item, sec);
  }

  remove(item: T): void {
    const sec = this.secondOf.get(item);
    if (sec === undefined) return;
    this.secondOf.delete(item);
    const b = this.buckets.get(sec);
    b?.delete(item);
    if (b && b.size === 0) this.buckets.delete(sec);
  }

  /** Everything due by `now` (removed from the wheel). */
  due(now: number): T[] {
    const until = Math.floor(now / 1000);
    const out: T[] = [];
    // after a long stall (or a clock jump) walk at most the buckets that exist
    if (until - this.checked > this.buckets.size + 1) {
      for (const [sec, b] of this.buckets) if (sec <= until) this.take(sec, b, out);
    } else {
      for (let sec = this.checked + 1; sec <= until; sec++) {
        const b = this.buckets.get(sec);
        if (b) this.take(sec, b, out);
      }
    }
    if (until > this.checked) this.checked = until;
    return out;
  }

  private take(sec: number, b: Set<T>, out: T[]): void {
    for (const item of b) {
      out.push(item);
      this.secondOf.delete(item);
    }
    this.buckets.delete(sec);
  }

  get size(): number {
    return this.secondOf.size;
  }
}

const SWEEP_MS = 60_000;

/** The limits of one gateway, built from its config. */
export class GatewayLimits {
  readonly address: ClientAddress;
  readonly connsPerIp = new Counter();
  readonly http: KeyedBuckets;
  readonly userBets: KeyedBuckets;
  readonly demoSessions: KeyedBuckets;
  readonly operatorFailures: FailureWindow;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly cfg: Readonly<{ trustedProxies: readonly string[]; httpRatePerIp: number; userBetRatePerS: number; demoSessionsPerIpPerHour: number; operatorFailuresPerMin: number }>,
    now: () => number,
  ) {
    this.address = new ClientAddress(cfg.trustedProxies);
    this.http = new KeyedBuckets(cfg.httpRatePerIp, cfg.httpRatePerIp * 2);
    this.userBets = new KeyedBuckets(cfg.userBetRatePerS, cfg.userBetRatePerS * 2);
    this.operatorFailures = new FailureWindow(cfg.operatorFailuresPerMin, 60_000);
    this.demoSessions = new KeyedBuckets(cfg.demoSessionsPerIpPerHour / 3600, cfg.demoSessionsPerIpPerHour);
    this.timer = setInterval(() => {
      const t = now();
      this.http.sweep(t);
      this.userBets.sweep(t);
      this.demoSessions.sweep(t);
      this.operatorFailures.sweep(t);
    }, SWEEP_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
