import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'fived.js');

// A documented test vector (docs/fairness.md).
const SEED = '888a9b3b39cf0a4cafdf930e1e68651056304a5f651253cc72abf29f6630e84b';
const COMMITMENT = 'f2d8386d29c54ad6e34f1fb1b120e041a0ca361f7a9afae2bc6b746c8acf1836';
const MESSAGE = 'fiveD:600:default:20240229000000144';

/** Runs `node bin/fived.js ...args`; the child is waited for (it exits by itself) and killed on timeout. */
function fived(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fived ${args.join(' ')} timed out`));
    }, 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('fived verify', () => {
  beforeAll(() => {
    if (!existsSync(path.join(root, 'dist', 'commands', 'verify.js'))) throw new Error('dist/ is missing: run npm run build first');
  });

  it('prints exactly one JSON object with --json and exits 0 when the commitment matches', async () => {
    const r = await fived(['verify', '--seed', SEED, '--commitment', COMMITMENT, '--message', MESSAGE, '--json']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(r.stdout)).toEqual({ digits: [6, 1, 3, 6, 8], sum: 24, commitmentOk: true });
  });

  it('prints the digits readably without --json', async () => {
    const r = await fived(['verify', `--seed=${SEED}`, '--commitment', COMMITMENT, '--message', MESSAGE]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('A=6 B=1 C=3 D=6 E=8');
    expect(r.stdout).toContain('sum         24');
    expect(r.stdout).toMatch(/commitment\s+OK/);
  });

  it('exits 1 when the seed does not match the commitment', async () => {
    const wrong = '0'.repeat(64);
    const r = await fived(['verify', '--seed', wrong, '--commitment', COMMITMENT, '--message', MESSAGE, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ commitmentOk: false });
    const text = await fived(['verify', '--seed', wrong, '--commitment', COMMITMENT, '--message', MESSAGE]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('MISMATCH');
  });

  it('refuses bad flags with a clear message and exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['verify', '--commitment', COMMITMENT, '--message', MESSAGE], /--seed is required/],
      [['verify', '--seed', 'xyz', '--commitment', COMMITMENT, '--message', MESSAGE], /seed must be 64 hexadecimal/],
      [['verify', '--seed', SEED, '--commitment', 'abc', '--message', MESSAGE], /commitment must be 64 hexadecimal/],
      [['verify', '--seed', SEED, '--commitment', COMMITMENT, '--message'], /--message needs a value/],
      [['verify', '--seed', SEED, '--commitment', COMMITMENT, '--message', MESSAGE, '--colour', 'red'], /unknown option --colour/],
      [['verify', '--seed', SEED, '--commitment', COMMITMENT, '--message', MESSAGE, '--JSON'], /unknown option --JSON/],
      [['verify', '--seed', SEED, '--commitment', COMMITMENT, '--message', MESSAGE, 'extra'], /unexpected argument "extra"/],
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
