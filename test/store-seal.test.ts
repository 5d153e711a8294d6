// The seed sealing module (src/store/seal.ts) and its settings: AES-256-GCM under FIVED_SEED_KEY,
// the key id beside the blob, the period as additional data; rotation through retired keys.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeConfig, loadConfig } from '../src/config.js';
import { commitmentOf } from '../src/core/draw.js';
import { isFivedError } from '../src/errors.js';
import { isUnsealError, parseSeedKey, seedKeyId, SeedSealer } from '../src/store/seal.js';
import { storeOptionsOf, workerStoreOptions } from '../src/runtime/pool.js';

const K1 = '11'.repeat(32);
const K2 = Buffer.alloc(32, 0x22).toString('base64');
const SEED = 'c0ffee'.repeat(10) + 'abcd';
const P = { duration: 60, timeline: 'default', periodId: '20250101000000001' };

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return isFivedError(err) ? err.code : `not coded: ${String(err)}`;
  }
  return 'no error';
}

describe('SeedSealer', () => {
  it('round-trips a seed, and the blob holds nothing of it in clear', () => {
    const s = SeedSealer.fromText(K1);
    const sealed = s.seal(P, SEED);
    expect(sealed.keyId).toBe(s.keyId);
    expect(sealed.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(s.unseal(P, sealed)).toBe(SEED);
    const raw = Buffer.from(sealed.sealed, 'base64');
    expect(raw.length).toBe(48);
    expect(sealed.sealed.length).toBe(64); // fits Redis's default hash-max-listpack-value
    expect(Buffer.from(sealed.iv, 'base64').length).toBe(12);
    expect(raw.includes(Buffer.from(SEED, 'hex'))).toBe(false);
    expect(sealed.sealed).not.toContain(SEED);
    // a fresh IV each time: the same seed never seals to the same blob
    const again = s.seal(P, SEED);
    expect(again.iv).not.toBe(sealed.iv);
    expect(again.sealed).not.toBe(sealed.sealed);
  });

  it('accepts upper-case hex seeds and returns them normalised', () => {
    const s = SeedSealer.fromText(K1);
    const sealed = s.seal(P, SEED.toUpperCase());
    expect(s.unseal(P, sealed)).toBe(SEED);
  });

  it('refuses a bad seed with E_INVALID_SEED', () => {
    expect(codeOf(() => SeedSealer.fromText(K1).seal(P, 'xyz'))).toBe('E_INVALID_SEED');
  });

  it('another key: E_SEED_KEY_UNKNOWN (its id is not one of ours)', () => {
    const sealed = SeedSealer.fromText(K1).seal(P, SEED);
    const other = SeedSealer.fromText(K2);
    expect(codeOf(() => other.unseal(P, sealed))).toBe('E_SEED_KEY_UNKNOWN');
    // even told the blob is under its own key, the wrong key does not open it
    expect(codeOf(() => other.unseal(P, { ...sealed, keyId: other.keyId }))).toBe('E_SEED_UNSEAL_FAILED');
  });

  it('a key id nobody has: E_SEED_KEY_UNKNOWN, naming the id', () => {
    const s = SeedSealer.fromText(K1);
    const sealed = s.seal(P, SEED);
    let err: unknown;
    try { s.unseal(P, { ...sealed, keyId: '0123456789abcdef' }); } catch (e) { err = e; }
    expect(isFivedError(err) && err.code).toBe('E_SEED_KEY_UNKNOWN');
    expect(String((err as Error).message)).toContain('0123456789abcdef');
    expect(isUnsealError(err)).toBe(true);
  });

  it('a tampered blob: E_SEED_UNSEAL_FAILED (every byte is authenticated)', () => {
    const s = SeedSealer.fromText(K1);
    const sealed = s.seal(P, SEED);
    const raw = Buffer.from(sealed.sealed, 'base64');
    for (const i of [0, 1, 13, 31, 32, 40, 47]) {
      const t = Buffer.from(raw);
      t[i] = t[i]! ^ 0x01;
      expect(codeOf(() => s.unseal(P, { ...sealed, sealed: t.toString('base64') })), `byte ${i}`).toBe('E_SEED_UNSEAL_FAILED');
    }
    const iv = Buffer.from(sealed.iv, 'base64');
    iv[0] = iv[0]! ^ 0x80;
    expect(codeOf(() => s.unseal(P, { ...sealed, iv: iv.toString('base64') }))).toBe('E_SEED_UNSEAL_FAILED');
    expect(codeOf(() => s.unseal(P, { ...sealed, sealed: raw.subarray(0, 40).toString('base64') }))).toBe('E_SEED_UNSEAL_FAILED');
    expect(codeOf(() => s.unseal(P, { ...sealed, sealed: '' }))).toBe('E_SEED_UNSEAL_FAILED');
    expect(codeOf(() => s.unseal(P, { ...sealed, iv: '' }))).toBe('E_SEED_UNSEAL_FAILED');
  });

  it('bound to its period: moved to another period (id, room or timeline) it does not open', () => {
    const s = SeedSealer.fromText(K1);
    const sealed = s.seal(P, SEED);
    for (const q of [{ ...P, periodId: '20250101000000002' }, { ...P, duration: 180 }, { ...P, timeline: 'other' }]) {
      expect(codeOf(() => s.unseal(q, sealed))).toBe('E_SEED_UNSEAL_FAILED');
    }
  });

  it('rotation: a retired key only unseals; new seeds are sealed under the current key', () => {
    const old = SeedSealer.fromText(K1);
    const sealedOld = old.seal(P, SEED);
    const rotated = SeedSealer.fromText(K2, [K1]);
    expect(rotated.keyId).not.toBe(old.keyId);
    expect(rotated.keyIds()).toEqual([rotated.keyId, old.keyId]);
    expect(rotated.unseal(P, sealedOld)).toBe(SEED);
    expect(rotated.seal(P, SEED).keyId).toBe(rotated.keyId);
    // the retired key dropped too early: the old seed no longer opens
    expect(codeOf(() => SeedSealer.fromText(K2).unseal(P, sealedOld))).toBe('E_SEED_KEY_UNKNOWN');
  });

  it('parses keys as 64 hex or base64 (standard, url-safe) of exactly 32 bytes', () => {
    expect(parseSeedKey(K1)?.equals(Buffer.alloc(32, 0x11))).toBe(true);
    expect(parseSeedKey(K2)?.equals(Buffer.alloc(32, 0x22))).toBe(true);
    const urlSafe = Buffer.alloc(32, 0xfb).toString('base64url');
    expect(parseSeedKey(urlSafe)?.equals(Buffer.alloc(32, 0xfb))).toBe(true);
    for (const bad of ['', 'abc', '11'.repeat(31), '11'.repeat(33), Buffer.alloc(16).toString('base64'), Buffer.alloc(48, 0xff).toString('base64'), 'g'.repeat(64)]) {
      expect(parseSeedKey(bad), bad).toBeNull();
    }
    // the same bytes in either form are the same key (same id)
    expect(seedKeyId(parseSeedKey(Buffer.alloc(32, 0x11).toString('base64'))!)).toBe(seedKeyId(parseSeedKey(K1)!));
    expect(codeOf(() => SeedSealer.fromText('short'))).toBe('E_CONFIG_INVALID');
    expect(codeOf(() => SeedSealer.fromText(K1, ['bad']))).toBe('E_CONFIG_INVALID');
  });

  it('the key id reveals nothing usable: it is not the key, nor a commitment-like hash of it', () => {
    const key = parseSeedKey(K1)!;
    const id = seedKeyId(key);
    expect(K1).not.toContain(id);
    expect(commitmentOf(K1)).not.toContain(id);
  });
});

describe('seed key settings', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fived-seedkey-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('FIVED_SEED_KEY is required with FIVED_REDIS_URL or FIVED_REDIS_SENTINELS, with a clear message', () => {
    for (const env of [{ FIVED_REDIS_URL: 'redis://127.0.0.1:6379' }, { FIVED_REDIS_SENTINELS: '10.0.0.1:26379' }]) {
      let err: unknown;
      try { loadConfig(env); } catch (e) { err = e; }
      expect(isFivedError(err) && err.code).toBe('E_CONFIG_INVALID');
      expect(String((err as Error).message)).toMatch(/FIVED_SEED_KEY is required with FIVED_REDIS_URL or FIVED_REDIS_SENTINELS/);
      expect(String((err as Error).message)).toContain('openssl rand -hex 32');
    }
    expect(loadConfig({ FIVED_REDIS_URL: 'redis://127.0.0.1:6379', FIVED_SEED_KEY: K1 }).seedKey).toBe(K1);
  });

  it('refuses a malformed key or retired key, and both FIVED_SEED_KEY and FIVED_SEED_KEY_FILE', () => {
    expect(() => loadConfig({ FIVED_SEED_KEY: 'abc' })).toThrow(/FIVED_SEED_KEY: expected 32 bytes/);
    expect(() => loadConfig({ FIVED_SEED_KEY: K1, FIVED_SEED_KEYS_RETIRED: `${K2},nope` })).toThrow(/FIVED_SEED_KEYS_RETIRED: entry 2/);
    const f = path.join(dir, 'k');
    writeFileSync(f, `${K1}\n`, { mode: 0o600 });
    expect(() => loadConfig({ FIVED_SEED_KEY: K1, FIVED_SEED_KEY_FILE: f })).toThrow(/both set/);
    expect(() => loadConfig({ FIVED_SEED_KEY_FILE: path.join(dir, 'missing') })).toThrow(/FIVED_SEED_KEY_FILE=.*cannot read it \(ENOENT\)/);
    expect(() => loadConfig({ FIVED_SEED_KEYS_RETIRED: K2 })).toThrow(/retired keys only make sense beside a current one/);
  });

  it('reads the key from FIVED_SEED_KEY_FILE (a systemd credential) and the retired list', () => {
    const f = path.join(dir, 'cred');
    writeFileSync(f, `${K2}\n`, { mode: 0o600 });
    const cfg = loadConfig({ FIVED_REDIS_URL: 'redis://127.0.0.1:6379', FIVED_SEED_KEY_FILE: f, FIVED_SEED_KEYS_RETIRED: ` ${K1} ` });
    expect(cfg.seedKey).toBe(K2);
    expect(cfg.seedKeysRetired).toEqual([K1]);
    const o = storeOptionsOf(cfg);
    expect(o.seedKey).toBe(K2);
    expect(o.seedKeysRetired).toEqual([K1]);
    // a worker thread's store options carry no key (it gets the unsealed seed in its task)
    expect(workerStoreOptions(o)).not.toHaveProperty('seedKey');
    expect(workerStoreOptions(o)).not.toHaveProperty('seedKeysRetired');
  });

  it('the embedded default (no Redis) makes a key of its own in memory, different at every start', () => {
    const a = loadConfig({});
    const b = loadConfig({});
    expect(parseSeedKey(a.seedKey)).not.toBeNull();
    expect(a.seedKey).not.toBe(b.seedKey);
  });

  it('describeConfig masks the keys and shows only their ids', () => {
    const cfg = loadConfig({ FIVED_REDIS_URL: 'redis://127.0.0.1:6379', FIVED_SEED_KEY: K1, FIVED_SEED_KEYS_RETIRED: K2 });
    const d = describeConfig(cfg);
    const text = JSON.stringify(d);
    expect(text).not.toContain(K1);
    expect(text).not.toContain(K2);
    expect(d.seedKey).toBe(`*** (id ${seedKeyId(parseSeedKey(K1)!)})`);
    expect(d.seedKeysRetired).toEqual([`*** (id ${seedKeyId(parseSeedKey(K2)!)})`]);
  });
});
