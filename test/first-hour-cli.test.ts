// issue 16 item 4: `npx fived --help` (and `fived help`, `fived` alone) lists every command with a
// one-line description; an unknown command says so (with a "did you mean") and lists them. Run on
// the built CLI; the list of commands is checked against src/commands/ itself.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/cli.js';
import { closest } from '../src/suggest.js';
import { CLI_BIN, CLI_BIN_REL } from './support/fived.js';
import { REPO, run } from './support/deploy.js';

const fived = (...args: string[]) => run(process.execPath, [CLI_BIN, ...args], { timeoutMs: 30_000 });

/** every command module in src/commands/ (args.ts, common.ts and assemble.ts are shared plumbing) */
const MODULES = readdirSync(path.join(REPO, 'src', 'commands'))
  .filter((f) => f.endsWith('.ts') && !['args.ts', 'common.ts', 'assemble.ts'].includes(f))
  .map((f) => f.replace(/\.ts$/, ''));

function listed(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const hit = /^ {2}([a-z-]+) {2,}(\S.*)$/.exec(line);
    if (hit) m.set(hit[1]!, hit[2]!);
  }
  return m;
}

describe('fived help', () => {
  it('the dispatcher knows every command module in src/commands/', () => {
    expect(Object.keys(COMMANDS).sort()).toEqual(MODULES.sort());
  });

  for (const args of [['--help'], ['-h'], ['help']]) {
    it(`fived ${args.join(' ')}: every command with its one-line description on stdout, exit 0`, async () => {
      const r = await fived(...args);
      expect(r.code).toBe(0);
      const m = listed(r.stdout);
      expect([...m.keys()].sort()).toEqual(MODULES.sort());
      for (const [name, summary] of m) {
        expect(summary, name).not.toMatch(/cannot load/);
        expect(summary.length, name).toBeGreaterThan(10);
      }
      expect(r.stdout).toContain('npx fived <command>');
      expect(r.stdout).toContain('FIVED_REDIS_URL');
    });
  }

  it('fived alone: the same list (a command is required: on stderr, exit 2)', async () => {
    const r = await fived();
    expect(r.code).toBe(2);
    expect([...listed(r.stderr).keys()].sort()).toEqual(MODULES.sort());
  });

  it('an unknown command says so, suggests the near one, lists them all, exit 2', async () => {
    const r = await fived('chek-config');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('fived: unknown command "chek-config"; did you mean check-config?');
    expect([...listed(r.stderr).keys()].sort()).toEqual(MODULES.sort());
    const far = await fived('frobnicate');
    expect(far.code).toBe(2);
    expect(far.stderr).toContain('unknown command "frobnicate"\n');
    expect(far.stderr).not.toContain('did you mean');
  });

  it('fived help COMMAND and fived COMMAND --help print its usage, exit 0; help of an unknown one exits 2', async () => {
    for (const args of [['help', 'inspect'], ['inspect', '--help']]) {
      const r = await fived(...args);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/usage: fived inspect ROOM PERIOD_ID/);
    }
    const r = await fived('help', 'inspekt');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('did you mean inspect?');
  });

  it('a checkout that was never built gets a clear message, not a stack trace', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fived-nodist-'));
    try {
      mkdirSync(path.join(dir, 'bin'));
      copyFileSync(CLI_BIN, path.join(dir, CLI_BIN_REL));
      writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
      const r = await run(process.execPath, [path.join(dir, CLI_BIN_REL), '--help'], { cwd: dir });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('run `npm run build` first');
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('closest(): a typo finds its name, an unrelated word finds none', () => {
    expect(closest('FIVED_DURATION', ['FIVED_DURATIONS', 'FIVED_PORT'])).toBe('FIVED_DURATIONS');
    expect(closest('FIVED_PROT', ['FIVED_DURATIONS', 'FIVED_PORT'])).toBe('FIVED_PORT');
    expect(closest('fived_port', ['FIVED_DURATIONS', 'FIVED_PORT'])).toBe('FIVED_PORT');
    expect(closest('FIVED_CHAOS_ROUNDS', ['FIVED_DURATIONS', 'FIVED_PORT'])).toBeUndefined();
  });
});
