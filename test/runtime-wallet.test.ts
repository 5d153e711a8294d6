// Held credits reach the operator: a payout or refund held at the maximum balance becomes one
// tagged error log line and counts in fived_wallet_held_* — once per store, even when a gateway
// and the scheduler share the store (`fived all` watches it twice).
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/runtime/log.js';
import { createRegistry } from '../src/runtime/metrics.js';
import { watchHeldCredits } from '../src/runtime/wallet.js';
import { MemoryStore } from '../src/store/memory.js';
import { LIMITS, PAY, openPeriod } from './support/store-harness.js';

describe('held credits: log and metric', () => {
  it('one error line tagged 5D_BALANCE_HELD and the counters, once per store', async () => {
    const lines: string[] = [];
    const dest = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
    const log = createLogger({ logLevel: 'info', instance: 'gw-1' }, 'gateway', { destination: dest });
    const registry = createRegistry({ defaultMetrics: false });
    const store = new MemoryStore({ maxBalance: 5000 });
    await store.init();
    watchHeldCredits(store, registry, log);
    watchHeldCredits(store, registry, log); // the scheduler of `fived all`, same store and registry
    const w = await openPeriod(store);
    await store.credit('full', 5000, 'f1');
    await store.placeBet({ period: w, userId: 'full', clientBetId: 'x', kind: 'A', pick: 3, amount: 700 }, LIMITS, PAY, Date.now());
    await store.credit('full', 700, 'f2');
    expect(await store.voidPeriod(w, 'test')).toEqual({ refunded: 0, held: 700 });
    await new Promise((r) => setImmediate(r));
    const held = lines.map((l) => JSON.parse(l)).filter((e) => e.tag === '5D_BALANCE_HELD');
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({ level: 'error', code: 'E_BALANCE_LIMIT', room: 'fiveD_60', periodId: w.periodId, kind: 'refund', amount: 700, users: 1 });
    expect(held[0].msg).toMatch(/^\[5D_BALANCE_HELD\] 1 refund\(s\) of 700 held/);
    const text = await registry.metrics();
    expect(text).toContain('fived_wallet_held_total{kind="refund"} 1');
    expect(text).toContain('fived_wallet_held_total{kind="payout"} 0');
    expect(text).toContain('fived_wallet_held_minor_units_total{kind="refund"} 700');
    await store.close();
  });
});
