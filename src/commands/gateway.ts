// `fived gateway`: one uWebSockets.js gateway on FIVED_PORT against Redis. Redis is required: a
// gateway on the in-memory store would be an island (its own bets, commitments and results,
// invisible to every other process) — `fived all` is the one-process mode.
// SIGTERM/SIGINT: drain (ready → 503, GOING_AWAY to clients, in-flight work), then close the
// pool and the store, within drainMs + a bound (commands/assemble.ts).
import { startGateway } from '../gateway/index.js';
import { assemble } from './assemble.js';
import { usesRedis } from './common.js';
import type { Command } from './args.js';

const usage = 'fived gateway   (configured by FIVED_* environment variables; see fived check-config)';

export const command: Command = {
  summary: 'run one WebSocket/HTTP gateway (requires FIVED_REDIS_URL)',
  usage,
  run: (args: string[]) =>
    assemble({
      name: 'gateway',
      usage,
      refuse: (cfg) => usesRedis(cfg) ? null :
        'fived gateway: FIVED_REDIS_URL (or FIVED_REDIS_SENTINELS) must be set. A gateway on the in-memory store would be ' +
        'a lone island: its commitments, bets and results invisible to every other gateway and to the scheduler. ' +
        'For a single process use `fived all` (npm start), which runs a gateway and the scheduler on one in-memory store.',
      start: ({ cfg, store, pool, registry, log, clock }) => startGateway(cfg, { store, pool, registry, logger: log, clock }),
      // whatever still holds the loop (a stuck connection), the process ends within a bound
      exitAfterStopMs: 2000,
    }, args),
};
