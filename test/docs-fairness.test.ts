// docs/fairness.md's recipe with standard tools (openssl + coreutils) is run here exactly as
// written, with `sh`, on the documented test vectors, and must print the documented output and
// the commitment, round-0 HMAC and digits of the vector table.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './support/gateway.js';

const doc = readFileSync(path.join(REPO, 'docs/fairness.md'), 'utf8');

/** The fenced code between `<!-- NAME:begin -->` and `<!-- NAME:end -->`, without the fences. */
function block(name: string): string {
  const m = new RegExp(`<!-- ${name}:begin -->\\n\`\`\`[a-z]*\\n([\\s\\S]*?)\`\`\`\\n<!-- ${name}:end -->`).exec(doc);
  if (!m) throw new Error(`docs/fairness.md has no ${name} block`);
  return m[1]!;
}

interface Vector {
  seed: string;
  commitment: string;
  message: string;
  round0: string;
  digits: string;
}

/** The rows of the "Test vectors" table. */
function vectors(): Vector[] {
  const out: Vector[] = [];
  for (const line of doc.split('\n')) {
    const m = /^\| \d \| `([0-9a-f]{64})` \| `([0-9a-f]{64})` \| `([^`]+)` \| `([0-9a-f]{64})` \| ([0-9 ]+) \| \d+ \|$/.exec(line);
    if (m) out.push({ seed: m[1]!, commitment: m[2]!, message: m[3]!, round0: m[4]!, digits: m[5]!.trim() });
  }
  return out;
}

function sh(script: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('sh', ['-c', script], { encoding: 'utf8', timeout: 20_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' } });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const hexAfterEquals = (line: string | undefined) => /= ([0-9a-f]{64})$/.exec(line ?? '')?.[1];

describe('docs/fairness.md: the openssl recipe', () => {
  it('prints exactly the documented output for the documented vector', () => {
    const r = sh(block('openssl-recipe'));
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(block('openssl-output'));
  });

  it('gives each test vector its commitment, round-0 HMAC and digits (vectors 3 and 4 skip a byte >= 250)', () => {
    const all = vectors();
    expect(all).toHaveLength(4);
    const recipe = block('openssl-recipe');
    for (const v of all) {
      const script = recipe.replace(/^SEED=.*$/m, `SEED=${v.seed}`).replace(/^MSG=.*$/m, `MSG=${v.message}`);
      expect(script).toContain(v.seed);
      const r = sh(script);
      expect(r.stderr, v.message).toBe('');
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines).toHaveLength(3);
      expect(hexAfterEquals(lines[0]), v.message).toBe(v.commitment);
      expect(hexAfterEquals(lines[1]), v.message).toBe(v.round0);
      expect(lines[2], v.message).toBe(v.digits);
    }
  });

  it('the xxd variant of step 1 gives the same commitment where xxd is installed (Debian: package xxd)', () => {
    const v = vectors()[2]!;
    expect(doc).toContain('echo -n "$SEED" | xxd -r -p | openssl dgst -sha256');
    const hasXxd = sh('command -v xxd').status === 0;
    if (hasXxd) {
      const r = sh(`SEED=${v.seed}; echo -n "$SEED" | xxd -r -p | openssl dgst -sha256`);
      expect(hexAfterEquals(r.stdout.trimEnd())).toBe(v.commitment);
    }
    // sha256sum (coreutils) as the stand-in for openssl dgst in step 1
    const c = sh(`SEED=${v.seed}; printf %s "$SEED" | tr a-f A-F | basenc -d --base16 | sha256sum`);
    expect(c.stdout).toBe(`${v.commitment}  -\n`);
  });

  it('a wrong message gives other digits: the recipe really depends on its input', () => {
    const v = vectors()[2]!;
    const r = sh(block('openssl-recipe').replace(/^MSG=.*$/m, `MSG=${v.message.replace('144', '145')}`));
    expect(r.stdout.trimEnd().split('\n')[2]).not.toBe(v.digits);
  });
});
