// The design rules live in this repository (docs/design.md) and code comments cite that file,
// never one outside the repo.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './support/gateway.js';

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name === 'results') continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (/\.(ts|mjs|js|lua|sh)$/.test(name)) out.push(p);
  }
  return out;
}

describe('docs/design.md', () => {
  it('states the five rules and the data path', () => {
    const doc = readFileSync(path.join(REPO, 'docs/design.md'), 'utf8');
    for (let n = 1; n <= 5; n++) expect(doc).toMatch(new RegExp(`^${n}\\. \\*\\*`, 'm'));
    expect(doc).toMatch(/## The data path of one period/);
    expect(doc).toMatch(/23–45/); // SUM big, the fair half
  });

  it('is what the code cites: no comment names a design file outside the repository', () => {
    const offenders: string[] = [];
    for (const dir of ['src', 'test', 'bench', 'scripts', 'web']) {
      for (const f of files(path.join(REPO, dir))) {
        const text = readFileSync(f, 'utf8');
        text.split('\n').forEach((line, i) => {
          if (/\bDESIGN(\.md)?\b/.test(line)) offenders.push(`${path.relative(REPO, f)}:${i + 1}`);
        });
      }
    }
    expect(offenders).toEqual([]);
  });
});
