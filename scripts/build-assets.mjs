// Copies the non-TypeScript runtime assets next to the compiled code, so dist/ is complete on
// its own (a deployment may ship dist/ without src/): the Redis Lua scripts, the PostgreSQL
// migrations; and the built
// @fived/client (packages/client/dist, built just before this) as dist/client/, so the server
// package's `fived/client` export keeps working without a dependency on the unpublished client
// package (its one import, msgpackr, is a dependency of the server too).
import { cpSync, existsSync, rmSync } from 'node:fs';

/** @param {string} fromRel @param {string} toRel */
const copy = (fromRel, toRel) => {
  const from = new URL(fromRel, import.meta.url);
  const to = new URL(toRel, import.meta.url);
  rmSync(to, { recursive: true, force: true });
  cpSync(from, to, { recursive: true });
};

copy('../src/store/lua/', '../dist/store/lua/');
// the archive's schema migrations (issue 14): `fived archive migrate` reads them from dist/migrations
copy('../migrations/', '../dist/migrations/');
if (!existsSync(new URL('../packages/client/dist/index.js', import.meta.url))) {
  console.error('build-assets: packages/client/dist is missing: build the client first (node packages/client/build.mjs, or npm run build)');
  process.exit(1);
}
copy('../packages/client/dist/', '../dist/client/');
