// Issue 17 items 1-4, the house: rooms small enough to live in, one place per rule, one assembly,
// one harness. Each check reads the source tree, so a change that brings a repeat back fails here.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { CLI_BIN_REL, REPO } from './support/fived.js';

const MAX_FN_LINES = 60;
const MAX_FILE_LINES = 400;

function walk(dir: string, keep: (f: string) => boolean): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(REPO, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== 'results') out.push(...walk(rel, keep));
    } else if (keep(rel)) out.push(rel);
  }
  return out;
}
const read = (f: string) => readFileSync(path.join(REPO, f), 'utf8');
const tsFiles = (dir: string) => walk(dir, (f) => /\.(ts|mts|mjs|js)$/.test(f) && !f.endsWith('.d.ts'));
const SRC = tsFiles('src');
/** files of `files` whose text matches `re`, other than `except` */
const holding = (files: string[], re: RegExp, except: string[] = []) => files.filter((f) => !except.includes(f) && re.test(read(f)));

/** every function in `file` longer than MAX_FN_LINES, as 'file:line name (n lines)' */
function longFunctions(file: string): string[] {
  const sf = ts.createSourceFile(file, read(file), ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isFunctionLike(n) && 'body' in n && n.body) {
      const start = sf.getLineAndCharacterOfPosition(n.getStart()).line;
      const lines = sf.getLineAndCharacterOfPosition(n.end).line - start + 1;
      if (lines > MAX_FN_LINES) {
        const name = n.name?.getText() ?? (ts.isVariableDeclaration(n.parent) ? n.parent.name.getText() : '(anonymous)');
        out.push(`${file}:${start + 1} ${name} (${lines} lines)`);
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

describe('small rooms (issue 17 item 2)', () => {
  it(`no function in src/ is longer than ${MAX_FN_LINES} lines`, () => {
    expect(SRC.length).toBeGreaterThan(50);
    expect(SRC.flatMap(longFunctions)).toEqual([]);
  });

  it(`no file in src/ is longer than ${MAX_FILE_LINES} lines`, () => {
    const long = SRC.map((f) => ({ f, n: read(f).split('\n').length })).filter((x) => x.n > MAX_FILE_LINES);
    expect(long.map((x) => `${x.f} (${x.n} lines)`)).toEqual([]);
  });

  it('the three serving commands share one assembly (src/commands/assemble.ts)', () => {
    expect(read('src/commands/assemble.ts')).toMatch(/export (async )?function assemble\b/);
    for (const c of ['gateway', 'scheduler', 'all']) expect(read(`src/commands/${c}.ts`), c).toMatch(/\bassemble\(/);
  });

  it('commands do not import the CLI back, and the config does not import the store', () => {
    expect(holding(tsFiles('src/commands'), /from '\.\.\/cli\.js'/)).toEqual([]);
    expect(read('src/config.ts')).not.toMatch(/from '\.\/store\//);
  });

  it('no dead module and no bench-only writer in production code', () => {
    expect(existsSync(path.join(REPO, 'src/worker/seed.ts'))).toBe(false);
    expect(existsSync(path.join(REPO, 'src/store/loader.ts'))).toBe(false);
    expect(holding(SRC, /store\/loader\.js|from '\.\/loader\.js'/)).toEqual([]);
  });
});

describe('the store by concern (issue 17 item 1)', () => {
  it('whether the snapshot is taken in a worker is the store\'s business, not the runtime\'s', () => {
    expect(holding([...tsFiles('src/runtime'), ...tsFiles('src/scheduler'), ...tsFiles('src/gateway')], /\.kind === '(redis|memory)'/)).toEqual([]);
  });
});

describe('one place per rule (issue 17 item 3)', () => {
  const IDS = 'src/core/ids.ts';
  it('room names are built and parsed only by core/ids.ts', () => {
    expect(holding(SRC, /fiveD_\$\{/, [IDS])).toEqual([]);
    expect(holding(SRC, /\^fiveD_/, [IDS])).toEqual([]);
  });

  it('the period-id pattern and the user-id rule live only in core/ids.ts', () => {
    expect(holding(SRC, /\\d\{17\}/, [IDS])).toEqual([]);
    expect(holding(SRC, /const USER_ID\b|USER_ID = \//, [IDS])).toEqual([]);
  });

  it('one computePeriod', () => {
    expect(holding(SRC, /export (async )?function computePeriod\b/)).toEqual(['src/core/compute.ts']);
  });
});

describe('one harness (issue 17 item 4)', () => {
  const outside = [...tsFiles('test'), ...tsFiles('bench'), ...tsFiles('scripts')].filter((f) => !f.startsWith('test/support/') && f !== 'test/house.test.ts');
  it('only test/support starts redis-server, redis-sentinel, haproxy or PostgreSQL', () => {
    // scripts/prereqs.mjs names the Debian package redis-server to install it (it runs as plain
    // node before anything is built or type-checked, so it cannot import the harness's constant)
    expect(holding(outside.filter((f) => f !== 'scripts/prereqs.mjs'), /spawn\w*\(\s*['"`](redis-server|redis-sentinel|haproxy)['"`]|['"`]redis-server['"`]|initdb|pg_ctl/)).toEqual([]);
  });

  it(`only test/support spawns ${CLI_BIN_REL}`, () => {
    expect(holding(outside, /bin\/fived\.js|bin', 'fived\.js'/)).toEqual([]);
  });

  it('benchmarks and chaos use the same harness as the tests', () => {
    expect(holding(tsFiles('bench'), /test\/support\//).length).toBeGreaterThan(0);
    expect(read('scripts/chaos.ts')).toMatch(/test\/support\//);
  });
});
