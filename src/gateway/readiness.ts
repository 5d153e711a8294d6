// /ready: the gateway takes traffic only when the store is reachable, the pool is alive, the local
// clock agrees with Redis TIME within maxClockSkewMs (periods are derived from the local clock:
// a skewed gateway would tick and close betting at the wrong instants), every instance runs the
// game settings registered in the store (or a pending change of them; what differs is listed
// field by field otherwise: runtime/follow.ts), and it is not draining.

import type { SettingDifference } from '../runtime/settings.js';
import { clockSample } from '../runtime/skew.js';
import type { GatewayContext } from './context.js';

export interface Readiness {
  ready: boolean;
  reasons: string[];
  skewMs: number | null;
  fingerprint: string;
  registeredFingerprint: string | null;
  /** this gateway's game settings against the registered ones, field by field (empty: the same) */
  differences: SettingDifference[];
  /** a registered change not yet in effect */
  pending: { at: string; fingerprint: string } | null;
}

const STORE_TIMEOUT_MS = 1000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e: unknown) => { clearTimeout(t); reject(e instanceof Error ? e : new Error(String(e))); });
  });
}

/** The clock comparison lives in runtime/skew.ts (the scheduler measures the same way). */
export { clockSample } from '../runtime/skew.js';

export async function checkReadiness(ctx: GatewayContext): Promise<Readiness> {
  const { store, pool, clock, cfg } = ctx;
  const { settings } = ctx;
  const fingerprint = settings.fingerprint;
  const reasons: string[] = [];
  let skewMs: number | null = null;
  let registered: string | null = null;
  if (ctx.draining) reasons.push('draining');
  if (pool.threads < 1) reasons.push('compute pool has no live thread');
  if (!store.healthy()) reasons.push('store unavailable or inconsistent');
  else {
    try {
      const before = clock.now();
      const server = await withTimeout(store.serverTime(), STORE_TIMEOUT_MS, 'store TIME');
      const after = clock.now();
      const sample = clockSample(before, server, after);
      skewMs = sample.skewMs;
      ctx.skewMs = sample.skewMs;
      ctx.lead.set(sample.leadMs);
      ctx.behindMs = sample.behindMs;
      if (Math.abs(skewMs) > cfg.maxClockSkewMs) reasons.push(`clock skew ${skewMs} ms vs the store exceeds ${cfg.maxClockSkewMs} ms`);
      await withTimeout(settings.refresh(), STORE_TIMEOUT_MS, 'settings schedule');
      registered = settings.inEffect().fingerprint;
      reasons.push(...settings.reasons());
    } catch (err) {
      reasons.push(`store check failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const ready = reasons.length === 0;
  ctx.metrics.ready.set(ready ? 1 : 0);
  const p = settings.pending();
  return {
    ready, reasons, skewMs, fingerprint, registeredFingerprint: registered, differences: settings.differences(),
    pending: p ? { at: new Date(p.from).toISOString(), fingerprint: p.fingerprint } : null,
  };
}
