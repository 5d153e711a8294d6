// `fived all`: one process with a gateway and the scheduler sharing one store, one worker pool and
// one metrics registry (the scheduler's metrics appear on the gateway's /metrics). On the
// in-memory store when FIVED_REDIS_URL is unset or empty: what `npm start` runs.
import type { Config } from '../config.js';
import { startGateway } from '../gateway/index.js';
import { createLogger } from '../runtime/log.js';
import { startScheduler } from '../scheduler/index.js';
import { startArchiver } from './archiver.js';
import { assemble, type Assembly, type Services } from './assemble.js';
import { usesRedis } from './common.js';
import type { Command } from './args.js';

/** What `fived all` prints once it listens: where to open the page and how to bet in demo mode. */
export function startBanner(cfg: Pick<Config, 'bindHost' | 'demo' | 'jwtSecret' | 'redisUrl' | 'redisSentinels'>, port: number, unknown: string[] = []): string {
  const any = cfg.bindHost === '' || cfg.bindHost === '0.0.0.0' || cfg.bindHost === '::';
  const host = any ? '127.0.0.1' : cfg.bindHost.includes(':') ? `[${cfg.bindHost}]` : cfg.bindHost;
  const memory = !usesRedis(cfg);
  const lines = [
    '',
    `fived is running (${memory ? 'in-memory store: everything is gone when it stops' : 'Redis store'}); Ctrl-C stops it.`,
    `  open http://${host}:${port}/`,
  ];
  if (cfg.demo) {
    lines.push('  demo mode is on: the page gives each visitor a demo balance to bet with (never in production)');
  } else if (memory) {
    lines.push(
      '  demo mode is off: the page only watches. To bet with a demo balance, stop it and start it as',
      '    FIVED_DEMO=true FIVED_JWT_SECRET=$(openssl rand -hex 32) npm start',
    );
  }
  for (const u of unknown) lines.push(`  warning: ${u} (ignored)`);
  return `${lines.join('\n')}\n\n`;
}

const usage = 'fived all   (configured by FIVED_* environment variables; see fived check-config)';

/** The gateway, the scheduler and (with FIVED_ARCHIVE_URL) the archiver on one store, pool and registry. */
async function startAll({ cfg, log, store, pool, registry, clock, unknown }: Assembly): Promise<Services> {
  const scheduler = await startScheduler(cfg, { store, pool, registry, logger: createLogger(cfg, 'scheduler'), clock, http: false });
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  try {
    gateway = await startGateway(cfg, { store, pool, registry, logger: createLogger(cfg, 'gateway'), clock });
  } catch (err) {
    log.error({ err }, 'gateway failed to start');
    await scheduler.stop();
    throw err;
  }
  // with FIVED_ARCHIVE_URL the archiver runs in this process too (the in-memory store is only here)
  let archiver: Awaited<ReturnType<typeof startArchiver>> | null = null;
  if (cfg.archiveUrl !== '') {
    try {
      archiver = await startArchiver(cfg, store, createLogger(cfg, 'archiver'), registry);
    } catch (err) {
      log.error({ err }, `archiver not started: ${(err as Error).message}`);
    }
  }
  log.info({ port: gateway.port }, `fived all listening on port ${gateway.port}`);
  // for a person at a terminal (`npm start`): plain lines beside the JSON log
  process.stderr.write(startBanner(cfg, gateway.port, unknown));
  return {
    async stop() {
      // the gateway drains its clients first; the scheduler releases its lease
      await Promise.all([gateway.stop(), scheduler.stop()]);
      await archiver?.close();
    },
  };
}

export const command: Command = {
  summary: 'run a gateway and the scheduler in one process (in-memory store unless FIVED_REDIS_URL is set)',
  usage,
  run: (args: string[]) => assemble({ name: 'all', usage, describe: (cfg) => ({ store: !usesRedis(cfg) ? 'memory' : 'redis' }), start: startAll }, args),
};
