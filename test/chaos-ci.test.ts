// The CI-sized chaos run (issue 8; docs/design.md rules 2, 4, 5 under faults): the whole local cluster —
// Redis (appendonly yes, appendfsync always), 2 schedulers, 3 gateways (one with its clock 300 ms
// ahead, one 300 ms behind), HAProxy — with 3 s and 5 s rooms, 60 players betting through HAProxy with retries,
// and ≥ 5 faults (kill -9 of the active scheduler, of a gateway, of Redis; SIGSTOP/SIGCONT of a
// scheduler; a connection dropped mid-bet). Every invariant's violation count must be 0.
// The long run is `npm run chaos` (docs/reliability.md).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { INVARIANTS } from '../scripts/lib/chaos/checker.js';
import { REPO } from './support/cluster.js';
import { runChaos, type ChaosResult } from '../scripts/lib/chaos/run.js';

describe('chaos (CI size)', () => {
  it('keeps one result per period, every acknowledged bet and the balances through ≥ 5 faults', async () => {
    expect(existsSync(path.join(REPO, 'dist', 'cli.js')), 'npm run build first (pretest does)').toBe(true);
    const r: ChaosResult = await runChaos({ seconds: 60, clients: 60, faultEveryMs: 8000, minFaults: 5, log: () => undefined });
    console.log(r.text);
    expect(r.periods).toBeGreaterThanOrEqual(20);
    expect(r.faults.length).toBeGreaterThanOrEqual(5);
    expect(new Set(r.faults.map((f) => f.kind)).size).toBe(5); // every kind of fault happened
    expect(r.betsAcked).toBeGreaterThan(500);
    expect(r.report.samples).toBeGreaterThan(0); // balances were sampled inside freeze windows
    expect(r.report.resultsSeen).toBeGreaterThan(0);
    for (const k of INVARIANTS) expect({ invariant: k, violations: r.report.violations[k], evidence: r.report.evidence[k] }).toEqual({ invariant: k, violations: 0, evidence: [] });
  }, 300_000);
});
