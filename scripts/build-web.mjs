// Placeholder until the demo page lands: makes sure dist/web exists.
import { mkdirSync } from 'node:fs';
mkdirSync(new URL('../dist/web/', import.meta.url), { recursive: true });
