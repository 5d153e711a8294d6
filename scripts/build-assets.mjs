// Copies the non-TypeScript runtime assets next to the compiled code, so dist/ is complete on
// its own (a deployment may ship dist/ without src/): the Redis Lua scripts.
import { cpSync, rmSync } from 'node:fs';

const from = new URL('../src/store/lua/', import.meta.url);
const to = new URL('../dist/store/lua/', import.meta.url);
rmSync(to, { recursive: true, force: true });
cpSync(from, to, { recursive: true });
