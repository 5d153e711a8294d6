// Issue 17 item 5, every line checked: tsconfig.json type-checks test/, bench/, scripts/ and bin/
// (strict) beside src/, web/ and packages/client through their own configs, all run by
// `npm run typecheck`; tsconfig.build.json compiles src/ alone; Biome lints the repo (`npm run lint`);
// `npm test` runs both before the build (its pretest). Item 6: the test lanes of test/lanes.ts.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { CLI_BIN_REL, REPO } from './support/fived.js';
import { INTEGRATION, SYSTEM, SYSTEM_ALONE } from './lanes.js';

function parsed(file: string): ts.ParsedCommandLine {
  const read = ts.readConfigFile(path.join(REPO, file), (f) => ts.sys.readFile(f));
  expect(read.error).toBeUndefined();
  return ts.parseJsonConfigFileContent(read.config, ts.sys, REPO, undefined, path.join(REPO, file));
}

const BIOME = path.join(REPO, 'node_modules/@biomejs/biome/bin/biome');
const rel = (files: string[]) => files.map((f) => path.relative(REPO, f));
const scripts = () => (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

describe('every line checked (issue 17 item 5)', () => {
  it('tsconfig.json covers src, test, bench, scripts and bin under strict', () => {
    const c = parsed('tsconfig.json');
    expect(c.errors).toEqual([]);
    expect(c.options.strict).toBe(true);
    expect(c.options.checkJs).toBe(true);
    const files = rel(c.fileNames);
    for (const want of ['src/cli.ts', 'test/tooling-checks.test.ts', 'test/support/ports.ts', 'bench/engine.ts', 'bench/lib/stats.ts',
      'scripts/chaos.ts', 'scripts/prereqs.mjs', 'scripts/build-web.mjs', CLI_BIN_REL, 'packages/client/build.mjs', 'vitest.config.ts']) {
      expect(files).toContain(want);
    }
  });

  it('tsconfig.build.json compiles src/ alone into dist/', () => {
    const c = parsed('tsconfig.build.json');
    expect(c.errors).toEqual([]);
    expect(c.fileNames.length).toBeGreaterThan(50);
    expect(rel(c.fileNames).filter((f) => !f.startsWith('src/'))).toEqual([]);
    expect(path.relative(REPO, c.options.outDir ?? '')).toBe('dist');
    expect(c.options.noEmit).toBeFalsy();
  });

  it('npm run typecheck checks the root, the SDK and the page; npm test runs it and the lint before the build', () => {
    const s = scripts();
    for (const cfg of ['tsconfig.json', 'packages/client/tsconfig.json', 'web/tsconfig.json']) expect(s.typecheck).toContain(`tsc -p ${cfg} --noEmit`);
    expect(s.lint).toBe('biome lint --error-on-warnings .');
    expect(s.pretest).toMatch(/npm run typecheck && npm run lint && npm run build$/);
  });

  it('the lint is clean, and finds what the recommended rules forbid', () => {
    const clean = spawnSync(process.execPath, [BIOME, 'lint', '.'], { cwd: REPO, encoding: 'utf8' });
    expect(clean.stderr + clean.stdout).toMatch(/Checked \d+ files/);
    expect(clean.status, clean.stderr + clean.stdout).toBe(0);
    // the same rules reject a debugger statement and a duplicate key (recommended rules on), and
    // let the same code without them through (a copy of the config in a folder of its own, no VCS)
    const cfg = ts.parseConfigFileTextToJson('biome.jsonc', readFileSync(path.join(REPO, 'biome.jsonc'), 'utf8'));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fived-lint-'));
    try {
      writeFileSync(path.join(dir, 'biome.json'), JSON.stringify({ ...cfg.config, $schema: undefined, vcs: { enabled: false } }));
      const lint = (name: string, code: string) => {
        writeFileSync(path.join(dir, name), code);
        return spawnSync(process.execPath, [BIOME, 'lint', name], { cwd: dir, encoding: 'utf8' });
      };
      const ok = lint('ok.ts', 'export const o = { a: 1, b: 2 };\nexport function f(): number {\n  return o.a;\n}\n');
      expect(ok.status, ok.stderr + ok.stdout).toBe(0);
      expect(lint('dup.ts', 'export const o = { a: 1, a: 2 };\n').stderr).toMatch(/noDuplicateObjectKeys/);
      expect(lint('dbg.ts', 'export function f(): void {\n  debugger;\n}\n').stderr).toMatch(/noDebugger/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('test lanes (issue 17 item 6)', () => {
  const all = readdirSync(path.join(REPO, 'test')).filter((f) => f.endsWith('.test.ts')).map((f) => `test/${f}`);
  const listed = [...INTEGRATION, ...SYSTEM, ...SYSTEM_ALONE];
  const unit = all.filter((f) => !listed.includes(f));

  it('every listed file exists and is in one lane only', () => {
    for (const f of listed) expect(all, f).toContain(f);
    expect(new Set(listed).size).toBe(listed.length);
    expect(unit.length).toBeGreaterThan(15);
  });

  it('a unit file starts no Redis, no process and needs no build', () => {
    const forbidden = /startRedis|child_process|support\/(deploy|scheduler|redis|sentinel|postgres|procs|haproxy|cluster)\.js|startFived|runFived|startProcess|startGatewayProc|TwoGateways|bin\/fived|\/dist\//;
    // a test's title may name a program (test/house.test.ts names the CLI in one): titles are not code
    const code = (f: string) => readFileSync(path.join(REPO, f), 'utf8').replace(/\bit\('(?:[^'\\]|\\.)*'/g, "it(''");
    const offenders = unit.filter((f) => forbidden.test(code(f)));
    expect(offenders).toEqual([]);
  });

  it('npm test runs every lane; test:unit, test:integration and test:system one each', () => {
    const s = scripts();
    expect(s.test).toBe('vitest run');
    expect(s['test:unit']).toBe('vitest run --project unit');
    expect(s['test:integration']).toMatch(/vitest run --project integration$/);
    expect(s['test:system']).toMatch(/vitest run --project system --project system:alone$/);
  });
});
