// SIGTERM / SIGINT handling for the long-running commands: run the stop sequence once, exit when
// it is done, or force the exit after a bound (a stuck close must not keep a unit from stopping).

import type { Logger } from './log.js';

export function onShutdown(log: Logger, stop: () => Promise<void>, boundMs: number): Promise<number> {
  return new Promise<number>((resolve) => {
    let stopping = false;
    const handler = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down');
      const force = setTimeout(() => {
        log.error({ boundMs }, 'shutdown took too long; exiting');
        resolve(1);
      }, boundMs);
      force.unref();
      stop().then(
        () => {
          clearTimeout(force);
          resolve(0);
        },
        (err: unknown) => {
          clearTimeout(force);
          log.error({ err }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', handler);
    process.once('SIGINT', handler);
  });
}
