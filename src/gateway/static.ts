// The demo page: files of dist/web/ read once at start and served from memory with their content
// type. When the page was not built, `/` says so in plain text.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StaticFile {
  body: Buffer;
  contentType: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.map': 'application/json', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.ico': 'image/x-icon', '.txt': 'text/plain; charset=utf-8', '.webmanifest': 'application/manifest+json',
};

const MAX_FILES = 500;

/** <package root>/dist/web, from src/gateway (tsx) or dist/gateway (built). */
export function defaultWebDir(): string {
  return fileURLToPath(new URL('../../dist/web/', import.meta.url));
}

export function loadStatic(dir: string = defaultWebDir()): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  const walk = (abs: string, rel: string, depth: number) => {
    if (depth > 4 || files.size >= MAX_FILES) return;
    let entries: string[];
    try {
      entries = readdirSync(abs);
    } catch {
      return;
    }
    for (const name of entries) {
      if (name.startsWith('.')) continue;
      const p = path.join(abs, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p, `${rel}/${name}`, depth + 1);
      else if (st.isFile() && st.size <= 10 * 1024 * 1024) {
        files.set(`${rel}/${name}`, { body: readFileSync(p), contentType: TYPES[path.extname(name).toLowerCase()] ?? 'application/octet-stream' });
      }
    }
  };
  walk(dir, '', 0);
  const index = files.get('/index.html');
  if (index) files.set('/', index);
  else {
    files.set('/', {
      body: Buffer.from('fived gateway\n\nThe demo page is not built (dist/web/index.html is missing): run `npm run build`.\nWebSocket endpoint: /ws   API: /api/rooms, /api/time   Health: /health, /ready, /metrics\n'),
      contentType: 'text/plain; charset=utf-8',
    });
  }
  return files;
}
