// HTTP fuzzed (issue 12): ≥ 100,000 HTTP inputs against a gateway on its own Redis and a
// scheduler's port — random methods; every real route, public and operator, with no token, a
// wrong token, and the right token with broken bodies or parameters; broken and overlong
// percent-encodings, unicode, dot segments; query strings, headers, bodies; raw malformed requests
// over TCP. No process exits, every well-formed input gets a coded answer (never a 500), and the
// money state in Redis (balances, wallet counters, deposits, bets, results, void flags) is the
// same before and after. (1,000,000 inputs in `npm run chaos`.)
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './support/cluster.js';
import { runHttpFuzz } from '../scripts/lib/chaos/fuzz-http.js';

describe('HTTP fuzz', () => {
  it('answers 100,000 HTTP inputs, no process exits, no money state changes', async () => {
    expect(existsSync(path.join(REPO, 'dist', 'cli.js')), 'npm run build first (pretest does)').toBe(true);
    const r = await runHttpFuzz({ count: 100_000, seed: 20261201 });
    console.log(r.text);
    expect(r.inputs).toBeGreaterThanOrEqual(100_000);
    for (const cat of ['operator_none', 'operator_wrong', 'operator_right', 'public_api', 'health_static', 'paths', 'unicode_paths', 'scheduler', 'raw']) {
      expect(r.byCategory[cat] ?? 0, cat).toBeGreaterThan(0);
    }
    // the routes were reached, not just refused at the door: reads answered 200, writes refused
    for (const status of ['200', '400', '401', '404', '405', '413']) expect(r.byStatus[status] ?? 0, status).toBeGreaterThan(0);
    expect(r.evidence).toEqual([]);
    expect(r.exits).toBe(0);
    expect(r.stateChanges).toBe(0);
    expect(r.violations).toBe(0);
  }, 240_000);
});
