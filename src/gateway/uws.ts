// Loads uWebSockets.js and refuses the slow fallback. The package we depend on
// (@trufflesuite/uws-js-unofficial) silently swaps in a pure-JS server when its native binary does
// not load (wrong Node ABI, platform, libc): everything still "works", ten times slower. We load
// it through require so we can see which file Node actually loaded, and stop with
// E_NATIVE_UWS_MISSING unless the operator explicitly allowed the fallback.

import { createRequire } from 'node:module';
import { ErrorCode, FivedError } from '../errors.js';

export type Uws = typeof import('uWebSockets.js');
export type { HttpRequest, HttpResponse, TemplatedApp, WebSocket, us_listen_socket, us_socket_context_t } from 'uWebSockets.js';

export interface LoadedUws {
  uws: Uws;
  native: boolean;
  /** the native binary's path, or the fallback's entry */
  path: string;
}

/** uWS ListenOptions: no SO_REUSEPORT (one process per port) */
export const LIBUS_LISTEN_EXCLUSIVE_PORT = 1;

const NATIVE_BINARY = /[\\/]binaries[\\/]uws_[^\\/]+\.node$/;

/** Loads uWS; throws E_NATIVE_UWS_MISSING when only the pure-JS fallback loaded and it is not allowed. */
export function loadUws(opts: { allowFallback: boolean }): LoadedUws {
  const require = createRequire(import.meta.url);
  const uws = require('uWebSockets.js') as Uws;
  const nativePath = Object.keys(require.cache).find((p) => NATIVE_BINARY.test(p));
  const native = nativePath !== undefined;
  if (!native && !opts.allowFallback) {
    const expected = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
    throw new FivedError(
      ErrorCode.NATIVE_UWS_MISSING,
      `the native uWebSockets.js binary (${expected}) did not load on Node ${process.version}; ` +
        'the pure-JS fallback is far slower and is refused. Use a Node version the package ships a binary for, ' +
        'or set FIVED_ALLOW_UWS_FALLBACK=true to run on the fallback anyway (development only).',
      { expected },
    );
  }
  return { uws, native, path: nativePath ?? require.resolve('uWebSockets.js') };
}
