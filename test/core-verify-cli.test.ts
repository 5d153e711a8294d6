import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { runFived } from './support/deploy.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fived = (args: string[]) => runFived(args);

// A documented test vector (docs/fairness.md).
const SEED = '888a9b3b39cf0a4cafdf930e1e68651056304a5f651253cc72abf29f6630e84b';
const COMMITMENT = 'f2d8386d29c54ad6e34f1fb1b120e041a0ca361f7a9afae2bc6b746c8acf1836';
const MESSAGE = 'fiveD:600:default:20240229000000144';


describe('fived verify', () => {
  beforeAll(() => {
    if (!existsSync(path.join(root, 'dist', 'commands', 'verify.js'))) throw new Error('dist/ is missing: run npm run build first');
  });

  it('prints exactly one JSON object with --json and exits 0 when the commitment matches', async () => {
    const r = await fived(['verify', '--seed', SEED, '--commitment', COMMITMENT, '--message', MESSAGE, '--json']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(r.stdout)).toEqual({ digits: [6, 1, 3, 6, 8], sum: 24, commitmentOk: true, ok: true });
  });

  it('prints the digits readably without --json', async () => {
    const r = await fived(['verify', `--seed=${SEED}`, '--commitment', COMMITMENT, '--message', MESSAGE]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('A=6 B=1 C=3 D=6 E=8');
    expect(r.stdout).toContain('sum         24');
    expect(r.stdout).toMatch(/commitment\s+OK/);
    // without --digits nothing says which digits were published: the output says so
    expect(r.stdout).toContain('published   not given');
  });

  it('compares with the published digits (--digits): a mistyped message fails with exit 1, E_RESULT_MISMATCH', async () => {
    const typo = MESSAGE.replace(/144$/, '145');
    const r = await fived(['verify', '--seed', SEED, '--commitment', COMMITMENT, '--message', typo, '--digits', '6,1,3,6,8']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/commitment\s+OK/); // the seed is the committed one, the message is not the period's
    expect(r.stdout).toContain('MISMATCH');
    expect(r.stdout).toMatch(/verified {4}FAILED/);
    expect(r.stderr).toMatch(/E_RESULT_MISMATCH: digits do not match: the seed and message draw \d{5}, the published digits \(--digits\) are 61368/);
    const json = await fived(['verify', '--seed', SEED, '--commitment', COMMITMENT, '--message', typo, '--digits', '61368', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ commitmentOk: true, digitsOk: false, publishedDigits: [6, 1, 3, 6, 8], ok: false, errors: [{ code: 'E_RESULT_MISMATCH' }] });
    // the right digits, in each accepted spelling, pass
    for (const d of ['6,1,3,6,8', '61368', '6 1 3 6 8', ' 6, 1, 3, 6, 8 ']) {
      const ok = await fived(['verify', '--seed', SEED, '--commitment', COMMITMENT, '--message', MESSAGE, '--digits', d, '--json']);
      expect(ok.code, d).toBe(0);
      expect(JSON.parse(ok.stdout)).toEqual({ digits: [6, 1, 3, 6, 8], sum: 24, commitmentOk: true, publishedDigits: [6, 1, 3, 6, 8], digitsOk: true, ok: true });
    }
  });

  it('exits 1 when the seed does not match the commitment', async () => {
    const wrong = '0'.repeat(64);
    const r = await fived(['verify', '--seed', wrong, '--commitment', COMMITMENT, '--message', MESSAGE, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ commitmentOk: false });
    const text = await fived(['verify', '--seed', wrong, '--commitment', COMMITMENT, '--message', MESSAGE]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('MISMATCH');
    // labelled as a result mismatch, not as an invalid seed
    expect(text.stderr).toContain('E_RESULT_MISMATCH: commitment does not match: SHA-256(seed) is 66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925');
    expect(text.stderr).not.toContain('E_INVALID_SEED');
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, errors: [{ code: 'E_RESULT_MISMATCH' }] });
  });

  it('refuses bad flags with a clear message and exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['verify', '--commitment', COMMITMENT, '--message', MESSAGE], /--seed is required/],
      [['verify', '--seed', 'xyz', '--commitment', COMMITMENT, '--message', MESSAGE], /seed must be 64 hexadecimal/],
      [['verify', '--seed', SEED, '--commitment', 'abc', '--message', MESSAGE], /--commitment: commitment must be 64 hexadecimal characters \(the SHA-256 published/],
      [['verify', '--seed', SEED, '--commitment', COMMITMENT, '--message', MESSAGE, '--digits', '6,1,3,6'], /--digits "6,1,3,6": expected the five published digits/],
      [['verify', '--seed', SEED, '--commitment', COMMITMENT, '--message', MESSAGE, '--digits', '6,1,3,6,10'], /--digits "6,1,3,6,10"/],
      [['verify', '--seed', SEED, '--commitment', COMMITMENT, '--message', MESSAGE, '--digits', 'abcde'], /--digits "abcde"/],
      [['verify', '--seed', SEED, '--commitment', COMMITMENT, '--message', MESSAGE, '--url', 'http://127.0.0.1:3000'], /--url needs ROOM PERIOD_ID/],
      [['verify', 'fiveD_60', '--seed', SEED, '--commitment', COMMITMENT, '--message', MESSAGE], /give both ROOM and PERIOD_ID/],
      [['verify', '--seed', SEED, '--commitment', COMMITMENT, '--message'], /--message needs a value/],
      [['verify', '--seed', SEED, '--commitment', COMMITMENT, '--message', MESSAGE, '--colour', 'red'], /unknown option --colour/],
      [['verify', '--seed', SEED, '--commitment', COMMITMENT, '--message', MESSAGE, '--JSON'], /unknown option --JSON/],
      [['verify', '--seed', SEED, '--commitment', COMMITMENT, '--message', MESSAGE, 'a', 'b', 'extra'], /unexpected argument "extra"/],
    ];
    const results = await Promise.all(cases.map(([args]) => fived(args)));
    for (const [i, [args, re]] of cases.entries()) {
      const r = results[i]!;
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(re);
      expect(r.stderr).toContain('usage: fived verify');
      expect(r.stdout).toBe('');
    }
  });
});
