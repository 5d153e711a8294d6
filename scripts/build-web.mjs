// Builds the demo page into dist/web/ (the gateway serves it at /): web/app.ts bundled by esbuild
// into one browser module, index.html and style.css copied, and dist/web/fived-client.js: the
// browser build of the SDK (packages/client/dist/browser.js, msgpackr included; no CDN), which
// app.js imports (`@fived/client` becomes `./fived-client.js`), so the page runs the very SDK
// bundle that `@fived/client/browser` ships. The client package must be built first
// (packages/client/build.mjs; `npm run build` runs it before this).
// Runs as part of `npm run build`; takes well under a second.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist/web`;
const sdk = `${root}packages/client/dist/browser.js`;
if (!existsSync(sdk)) {
  console.error('build-web: packages/client/dist/browser.js is missing: build the client first (node packages/client/build.mjs, or npm run build)');
  process.exit(1);
}
mkdirSync(out, { recursive: true });

/** `@fived/client` stays an import, of the SDK bundle next to app.js */
const sdkBundle = {
  name: 'fived-client-bundle',
  /** @param {import('esbuild').PluginBuild} b */
  setup(b) {
    b.onResolve({ filter: /^@fived\/client$/ }, () => ({ path: './fived-client.js', external: true }));
  },
};

const started = Date.now();
await build({
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022', 'chrome100', 'firefox100', 'safari15'],
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
  absWorkingDir: root,
  entryPoints: ['web/app.ts'],
  outfile: `${out}/app.js`,
  plugins: [sdkBundle],
});
const js = readFileSync(sdk, 'utf8').replace(/\/\/# sourceMappingURL=browser\.js\.map\s*$/, '//# sourceMappingURL=fived-client.js.map\n');
writeFileSync(`${out}/fived-client.js`, js);
copyFileSync(`${sdk}.map`, `${out}/fived-client.js.map`);
for (const f of ['index.html', 'style.css']) copyFileSync(`${root}web/${f}`, `${out}/${f}`);
console.log(`build-web: dist/web built in ${Date.now() - started} ms`);
