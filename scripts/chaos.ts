// `npm run chaos`: the long chaos run (docs/design.md rules 2, 4, 5 under faults) followed by the long fuzz
// run. Options (flags or environment):
//   --seconds N     (FIVED_CHAOS_SECONDS, default 420: ≥ 200 periods of 3 s and 5 s rooms)
//   --clients N     (FIVED_CHAOS_CLIENTS, default 300)
//   --fault-every MS (FIVED_CHAOS_FAULT_EVERY_MS, default 15000: ≥ 20 faults)
//   --fuzz N        (FIVED_CHAOS_FUZZ, default 1000000; 0 skips the fuzz run)
//   --http-fuzz N   (FIVED_CHAOS_HTTP_FUZZ, default 1000000; 0 skips the HTTP fuzz run)
//   --ci            the CI size: 60 s, 60 clients, a fault every 8 s, 100,000 fuzz and 100,000 HTTP fuzz inputs
//   --offset MS     clock offset: the last gateway runs ahead by MS, the one before it behind (default 300)
//   --sentinel / --no-sentinel  Redis as a primary, a replica and three Sentinels, and the fault
//                   "primary killed, replica promoted" instead of "Redis killed and restarted"
//                   (FIVED_CHAOS_SENTINEL=1/0; default on for the long run, off with --ci)
// Prints the tables and a last line `RESULT {json}`; writes bench/results/chaos.json. Exit 1 when
// any invariant was violated (or the minimum periods/faults were not reached).

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO } from '../test/support/fived.js';
import { runMain, stopAllOnExit } from '../test/support/procs.js';
import { runFuzz } from './lib/chaos/fuzz.js';
import { runHttpFuzz } from './lib/chaos/fuzz-http.js';
import { runChaos } from './lib/chaos/run.js';

function opt(name: string, env: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const raw = i >= 0 ? process.argv[i + 1] : process.env[env];
  if (raw === undefined || raw === '') return def;
  const v = Number(raw);
  if (!Number.isFinite(v)) throw new Error(`--${name}: expected a number, got ${raw}`);
  return v;
}

async function main(): Promise<number> {
  stopAllOnExit('chaos');
  const ci = process.argv.includes('--ci');
  const seconds = opt('seconds', 'FIVED_CHAOS_SECONDS', ci ? 60 : 420);
  const clients = opt('clients', 'FIVED_CHAOS_CLIENTS', ci ? 60 : 300);
  const faultEveryMs = opt('fault-every', 'FIVED_CHAOS_FAULT_EVERY_MS', ci ? 8000 : 15000);
  const fuzzCount = opt('fuzz', 'FIVED_CHAOS_FUZZ', ci ? 100_000 : 1_000_000);
  const httpFuzzCount = opt('http-fuzz', 'FIVED_CHAOS_HTTP_FUZZ', ci ? 100_000 : 1_000_000);
  const offset = opt('offset', 'FIVED_CHAOS_OFFSET_MS', 300);
  const minPeriods = ci ? 20 : 200;
  const minFaults = ci ? 5 : 20;

  const t0 = Date.now();
  const sentinelEnv = process.env.FIVED_CHAOS_SENTINEL;
  const sentinel = process.argv.includes('--sentinel') || (!process.argv.includes('--no-sentinel') && (sentinelEnv !== undefined && sentinelEnv !== '' ? /^(1|true|yes|on)$/i.test(sentinelEnv) : !ci));
  const r = await runChaos({ seconds, clients, faultEveryMs, minFaults, clockOffsetMs: offset, sentinel });
  console.log('');
  console.log(r.text);
  let fuzz: Awaited<ReturnType<typeof runFuzz>> | null = null;
  if (fuzzCount > 0) {
    console.log('');
    console.log(`fuzz: ${fuzzCount} malformed inputs against a fresh gateway`);
    fuzz = await runFuzz({ count: fuzzCount, log: (l) => console.log(l) });
    console.log(fuzz.text);
  }
  let httpFuzz: Awaited<ReturnType<typeof runHttpFuzz>> | null = null;
  if (httpFuzzCount > 0) {
    console.log('');
    console.log(`http fuzz: ${httpFuzzCount} HTTP inputs against a fresh gateway and scheduler`);
    httpFuzz = await runHttpFuzz({ count: httpFuzzCount, log: (l) => console.log(l) });
    console.log(httpFuzz.text);
  }
  const fuzzBad = fuzz ? fuzz.violations : 0;
  const httpBad = httpFuzz ? httpFuzz.violations + httpFuzz.exits : 0;
  const enough = r.periods >= minPeriods && r.faults.length >= minFaults;
  if (!enough) console.log(`chaos: too small a run: ${r.periods} periods (need ${minPeriods}), ${r.faults.length} faults (need ${minFaults})`);
  const json = {
    ...r.json,
    fuzz_inputs: fuzz?.inputs ?? 0, fuzz_violations: fuzzBad, fuzz_rss_growth_mb: fuzz ? Math.round(fuzz.rssGrowth / 1e5) / 10 : null,
    http_fuzz_inputs: httpFuzz?.inputs ?? 0, http_fuzz_exits: httpFuzz?.exits ?? 0, http_fuzz_violations: httpFuzz?.violations ?? 0, http_fuzz_state_changes: httpFuzz?.stateChanges ?? 0,
    minutes: Math.round((Date.now() - t0) / 6000) / 10,
  };
  const out = path.join(REPO, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, ci ? 'chaos-ci.json' : 'chaos.json'), JSON.stringify(json, null, 2) + '\n');
  writeFileSync(path.join(out, ci ? 'chaos-ci.md' : 'chaos.md'), r.text + (fuzz ? `\n\n${fuzz.text}\n` : '\n') + (httpFuzz ? `\n${httpFuzz.text}\n` : ''));
  console.log(`RESULT ${JSON.stringify(json)}`);
  return r.violations === 0 && fuzzBad === 0 && httpBad === 0 && enough ? 0 : 1;
}

runMain(main);
