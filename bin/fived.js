#!/usr/bin/env node
// Entry of the `fived` command: the compiled CLI lives in dist/ (npm run build, run by
// prestart/pretest). Kept as plain JS so `npx fived` works after a clean `npm ci && npm run build`.
import { main } from '../dist/cli.js';

main(process.argv.slice(2)).then(
  (code) => { if (typeof code === 'number') process.exitCode = code; },
  (err) => { console.error(err?.stack ?? String(err)); process.exitCode = 1; },
);
