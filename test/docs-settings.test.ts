// Issue 17 item 7 (part): the settings are declared once (src/settings.ts, zod for the scalar
// values); loadConfig reads them through that schema, and the table of docs/operations.md is
// generated from it (npm run docs:settings), so neither can drift.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig, SETTINGS } from '../src/config.js';
import { acceptsOf, SETTING_SPECS, type SettingSpec } from '../src/settings.js';
import { BEGIN, DOC, END, settingsTable, withTable } from '../scripts/settings-table.js';

const specs = Object.entries(SETTING_SPECS as Record<string, SettingSpec>);
const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    return (err as { details?: { problems?: string[] } }).details?.problems ?? [String(err)];
  }
};

describe('the settings schema', () => {
  it('SETTINGS is the schema, in its order', () => {
    expect([...SETTINGS]).toEqual(specs.map(([n]) => n));
    expect(SETTINGS.length).toBeGreaterThan(50);
  });

  it("loadConfig's defaults are the schema's", () => {
    const cfg = loadConfig({}) as unknown as Record<string, unknown>;
    const field: Record<string, unknown> = {
      FIVED_FREEZE_MS: cfg.freezeMs, FIVED_PORT: cfg.port, FIVED_LEASE_TTL_MS: cfg.leaseTtlMs, FIVED_RATE_LIMIT: cfg.rateLimitPerS,
      FIVED_MAX_BALANCE: cfg.maxBalance, FIVED_DEMO: cfg.demo, FIVED_TIMELINE: cfg.timeline, FIVED_LOG_LEVEL: cfg.logLevel,
      FIVED_FEE_BPS: (cfg.paytable as { feeBps: number }).feeBps, FIVED_MAX_STAKE: (cfg.limits as { maxStake: number }).maxStake,
    };
    for (const [name, value] of Object.entries(field)) expect(value, name).toBe((SETTING_SPECS as Record<string, SettingSpec>)[name]!.default);
  });

  it('every integer setting refuses a value past either end of its range, naming it and the range', () => {
    for (const [name, s] of specs) {
      if (s.kind !== 'int') continue;
      for (const bad of [s.max + 1, s.min - 1, 1.5]) {
        if (!Number.isSafeInteger(bad) && bad !== 1.5) continue;
        expect(problemsOf({ [name]: String(bad) }), `${name}=${bad}`).toContain(`${name}=${JSON.stringify(String(bad))}: expected ${acceptsOf(s)}`);
      }
      // both ends themselves pass the range check (cross-setting rules, e.g. the freeze, may still object)
      for (const ok of [s.min, s.max]) expect(problemsOf({ [name]: String(ok) }).filter((p) => p.includes(': expected '))).toEqual([]);
    }
  });

  it('a boolean takes true/false words and refuses the rest', () => {
    expect(loadConfig({ FIVED_ALLOW_UWS_FALLBACK: 'Yes' }).allowUwsFallback).toBe(true);
    expect(loadConfig({ FIVED_ALLOW_UWS_FALLBACK: 'off' }).allowUwsFallback).toBe(false);
    expect(problemsOf({ FIVED_ALLOW_UWS_FALLBACK: 'maybe' })).toEqual(['FIVED_ALLOW_UWS_FALLBACK="maybe": expected true/false']);
  });
});

describe('docs/operations.md: the settings table', () => {
  it('is the one the schema generates (run npm run docs:settings after changing src/settings.ts)', () => {
    const doc = readFileSync(DOC, 'utf8');
    expect(doc).toContain(BEGIN);
    expect(withTable(doc, settingsTable())).toBe(doc);
    for (const name of SETTINGS) expect(doc).toContain(`| \`${name}\` |`);
  });

  it('a changed default makes the table stale', () => {
    const doc = readFileSync(DOC, 'utf8');
    const table = doc.slice(doc.indexOf(BEGIN) + BEGIN.length, doc.indexOf(END));
    expect(table).toContain('| `FIVED_FREEZE_MS` | `5000` |');
    const drifted = doc.replace('| `FIVED_FREEZE_MS` | `5000` |', '| `FIVED_FREEZE_MS` | `4000` |');
    expect(withTable(drifted, settingsTable())).not.toBe(drifted);
  });
});
