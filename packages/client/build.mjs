// Builds @fived/client into dist/ (run by the repo's `npm run build`, and by `npm pack`'s prepack):
//   dist/index.js    the SDK as one ES module for Node 20+ and bundlers; msgpackr stays an import
//   dist/browser.js  the same, self-contained (msgpackr included, minified) for a plain
//                    <script type="module"> or import() without a bundler; the demo page loads it
//   dist/index.d.ts  the types (tsc declarations under dist/types/)
// The SDK's sources import the pure parts of the server's tree (src/errors.ts, src/protocol.ts,
// src/core/{types,clock,draw-stream,hash}.ts, and @noble/hashes): they are compiled into these files, so the
// package depends on no server code or server dependency (uWebSockets.js, ioredis, pino...).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const dist = `${here}dist`;
const started = Date.now();
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', `${here}tsconfig.json`], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
writeFileSync(`${dist}/index.d.ts`, "export * from './types/packages/client/src/index.js';\n");

/** @type {import('esbuild').BuildOptions} */
const common = {
  absWorkingDir: fileURLToPath(new URL('../..', import.meta.url)),
  entryPoints: [`${here}src/index.ts`],
  bundle: true,
  format: 'esm',
  target: ['es2022', 'chrome100', 'firefox100', 'safari15'],
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
};
await Promise.all([
  build({ ...common, platform: 'neutral', external: ['msgpackr'], outfile: `${dist}/index.js` }),
  build({ ...common, platform: 'browser', minify: true, outfile: `${dist}/browser.js` }),
]);
console.log(`@fived/client: dist/ built in ${Date.now() - started} ms`);
