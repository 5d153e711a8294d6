// Builds the demo page into dist/web/ (the gateway serves it at /): web/app.ts and the client SDK
// bundled by esbuild into one browser module (msgpackr included; no CDN), plus index.html and
// style.css copied. Also dist/web/fived-client.js: the SDK alone as a browser ES module.
// Runs as part of `npm run build`; takes well under a second.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist/web`;
mkdirSync(out, { recursive: true });

const common = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022', 'chrome100', 'firefox100', 'safari15'],
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
  absWorkingDir: root,
};

const started = Date.now();
await Promise.all([
  build({ ...common, entryPoints: ['web/app.ts'], outfile: `${out}/app.js` }),
  build({ ...common, entryPoints: ['src/client/index.ts'], outfile: `${out}/fived-client.js` }),
]);
for (const f of ['index.html', 'style.css']) copyFileSync(`${root}web/${f}`, `${out}/${f}`);
console.log(`build-web: dist/web built in ${Date.now() - started} ms`);
