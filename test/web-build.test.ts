// scripts/build-web.mjs: the page and the SDK bundle for browsers, self-contained (no CDN, no
// Node built-ins), with the files the gateway serves.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('..', import.meta.url).pathname;

describe('build-web', () => {
  it('bundles app.js and fived-client.js for the browser and copies the page', () => {
    const t0 = Date.now();
    execFileSync(process.execPath, ['scripts/build-web.mjs'], { cwd: ROOT, stdio: 'pipe' });
    expect(Date.now() - t0).toBeLessThan(20_000); // generous: it takes well under a second
    const html = readFileSync(`${ROOT}dist/web/index.html`, 'utf8');
    expect(html).toContain('<script type="module" src="app.js"></script>');
    expect(html).not.toMatch(/(src|href)=["'](https?:)?\/\//); // nothing from a CDN
    expect(readFileSync(`${ROOT}dist/web/style.css`, 'utf8')).toContain('.countdown');
    for (const f of ['app.js', 'fived-client.js']) {
      const js = readFileSync(`${ROOT}dist/web/${f}`, 'utf8');
      expect(js.length).toBeGreaterThan(10_000);
      expect(js).not.toMatch(/from\s*["'](?!\.)/); // no bare imports left for the browser to resolve
      expect(js).not.toMatch(/["']node:/);
      expect(js).not.toMatch(/\brequire\(/);
    }
    expect(readFileSync(`${ROOT}dist/web/fived-client.js`, 'utf8')).toMatch(/export\s*\{/);
    // the page runs the SDK's own browser build (@fived/client/browser), not a second copy of it
    expect(readFileSync(`${ROOT}dist/web/app.js`, 'utf8')).toMatch(/from\s*["']\.\/fived-client\.js["']/);
    const strip = (s: string) => s.replace(/\/\/# sourceMappingURL=\S+\s*$/, '');
    expect(strip(readFileSync(`${ROOT}dist/web/fived-client.js`, 'utf8'))).toBe(strip(readFileSync(`${ROOT}packages/client/dist/browser.js`, 'utf8')));
  });
});
