// issue 16 item 1: `fived token USER` prints a player token a gateway accepts (HS256, sub = USER,
// iat, exp = iat + --ttl), refuses a ttl beyond FIVED_MAX_TOKEN_AGE_S (a gateway would refuse the
// token), says plainly when FIVED_JWT_SECRET is not set, and takes strict arguments.
import { describe, expect, it } from 'vitest';
import { TokenVerifier } from '../src/gateway/auth.js';
import { CLI_BIN } from './support/fived.js';
import { run } from './support/deploy.js';

const SECRET = 'token-test-secret-0123456789';
const fived = (args: string[], env: Record<string, string>) =>
  run(process.execPath, [CLI_BIN, 'token', ...args], { env: { ...process.env, FIVED_JWT_SECRET: '', FIVED_MAX_TOKEN_AGE_S: '', ...env }, timeoutMs: 30_000 });

describe('fived token', () => {
  it('prints a token the gateway verifier accepts: sub = USER, exp = iat + ttl (default one hour)', async () => {
    const before = Math.floor(Date.now() / 1000);
    const r = await fived(['alice'], { FIVED_JWT_SECRET: SECRET });
    expect(r.code, r.stderr).toBe(0);
    const token = r.stdout.trim();
    expect(token.split('.')).toHaveLength(3);
    const id = await new TokenVerifier(SECRET, 86_400).verify(token);
    expect(id.userId).toBe('alice');
    const exp = id.expiresAt / 1000;
    expect(exp - before).toBeGreaterThanOrEqual(3600);
    expect(exp - before).toBeLessThanOrEqual(3602);
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    expect(claims.exp - claims.iat).toBe(3600);
    // another secret does not verify it
    await expect(new TokenVerifier('another-secret-0123456789').verify(token)).rejects.toMatchObject({ code: 'E_UNAUTHORIZED' });
  });

  it('--ttl and --json: the expiry is reported; a ttl beyond FIVED_MAX_TOKEN_AGE_S is refused (exit 2)', async () => {
    const r = await fived(['bob', '--ttl', '120', '--json'], { FIVED_JWT_SECRET: SECRET, FIVED_MAX_TOKEN_AGE_S: '600' });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.userId).toBe('bob');
    const id = await new TokenVerifier(SECRET, 600).verify(out.token);
    expect(id.expiresAt).toBe(out.expiresAt);
    expect(out.expiresAt - Date.now()).toBeLessThanOrEqual(120_000);
    expect(out.expiresAt - Date.now()).toBeGreaterThan(100_000);

    const long = await fived(['bob', '--ttl', '601'], { FIVED_JWT_SECRET: SECRET, FIVED_MAX_TOKEN_AGE_S: '600' });
    expect(long.code).toBe(2);
    expect(long.stdout).toBe('');
    expect(long.stderr).toMatch(/--ttl 601 exceeds FIVED_MAX_TOKEN_AGE_S \(600\)/);
  });

  it('without FIVED_JWT_SECRET: no token, a message naming it, exit 1', async () => {
    const r = await fived(['alice'], {});
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/FIVED_JWT_SECRET is not set/);
  });

  it('strict arguments: bad user, bad ttl, missing user, unknown flag: exit 2 with the usage, no token', async () => {
    const env = { FIVED_JWT_SECRET: SECRET };
    const cases: Array<[string[], RegExp]> = [
      [['al ice'], /USER "al ice" must be/],
      [['alice', '--ttl', '0'], /--ttl "0" must be a positive whole number/],
      [['alice', '--ttl', '1h'], /--ttl "1h" must be/],
      [[], /missing argument/],
      [['alice', '--TTL', '5'], /unknown option --TTL/],
      [['alice', 'bob'], /unexpected argument "bob"/],
    ];
    for (const [args, re] of cases) {
      const r = await fived(args, env);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout, args.join(' ')).toBe('');
      expect(r.stderr, args.join(' ')).toMatch(re);
      expect(r.stderr).toContain('usage: fived token');
    }
  });
});
