#!/usr/bin/env node
// Runs independent commands side by side (npm run typecheck: the three tsc configs; npm run build:
// the server's tsc and the SDK's build), one core each, instead of one after the other. Each
// command's output is printed whole when it ends, so two never interleave. Exit status: 0 when
// every command succeeded, else the first failing one's (all are waited for).
//   node scripts/parallel.mjs "tsc -p tsconfig.json --noEmit" "tsc -p web/tsconfig.json --noEmit"
// A command runs in a shell with node_modules/.bin on PATH, as under npm run.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** @param {string} command @returns {Promise<number>} its exit status (1 when killed by a signal) */
function runOne(command) {
  return new Promise((resolve) => {
    const env = { ...process.env, PATH: [path.join(ROOT, 'node_modules', '.bin'), process.env.PATH ?? ''].join(path.delimiter) };
    const child = spawn(command, { shell: true, cwd: process.cwd(), env, stdio: ['ignore', 'pipe', 'pipe'] });
    /** @type {Buffer[]} */
    const out = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => out.push(d));
    child.on('error', (err) => out.push(Buffer.from(`${err.message}\n`)));
    child.on('close', (code) => {
      const text = Buffer.concat(out).toString();
      if (text) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
      if (code !== 0) console.error(`parallel: \`${command}\` failed (${code ?? 'killed'})`);
      resolve(code ?? 1);
    });
  });
}

/** @param {string[]} commands @returns {Promise<number>} */
export async function runParallel(commands) {
  const codes = await Promise.all(commands.map(runOne));
  return codes.find((c) => c !== 0) ?? 0;
}

if (process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url) {
  const commands = process.argv.slice(2);
  if (commands.length === 0) {
    console.error('usage: node scripts/parallel.mjs "COMMAND" ["COMMAND" ...]');
    process.exitCode = 2;
  } else {
    process.exitCode = await runParallel(commands);
  }
}
