#!/usr/bin/env node
// Entry of the `fived` command: the compiled CLI lives in dist/ (npm run build, run by
// prestart/pretest). Kept as plain JS so `npx fived` works after a clean `npm ci && npm run build`.
let main;
try {
  ({ main } = await import('../dist/cli.js'));
} catch (err) {
  // a checkout that was never built: say so instead of a stack trace
  const e = /** @type {{ code?: unknown, message?: unknown } | null | undefined} */ (err);
  if (e?.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('cli.js')) {
    console.error('fived: not built yet (dist/cli.js is missing): run `npm run build` first (npm start and npm test build it themselves)');
    process.exit(1);
  }
  throw err;
}

main(process.argv.slice(2)).then(
  (code) => { if (typeof code === 'number') process.exitCode = code; },
  (err) => { console.error(err?.stack ?? String(err)); process.exitCode = 1; },
);
