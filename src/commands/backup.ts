// `fived backup DIR [--remote]`: a consistent snapshot of the Redis data (BGSAVE and a copy of the
// RDB file) and a manifest of what it holds (store/backup.ts; docs/operations.md, "Backup and restore").
import { takeBackup } from '../store/backup.js';
import { type Command, parseCommandLine } from './args.js';
import { runTool, withRedisStore } from './common.js';

const usage = 'fived backup DIR [--remote]   (writes DIR/fived-<time>.rdb and its manifest DIR/fived-<time>.json; --remote fetches the file over the connection with redis-cli --rdb even when it is readable here; FIVED_REDIS_URL must be set)';

export const command: Command = {
  summary: 'snapshot the Redis data (BGSAVE + copy) with a manifest: counters, balances, keys, sha256',
  usage,
  async run(args: string[]): Promise<number> {
    return runTool('backup', async () => {
      const p = parseCommandLine(args, { name: 'backup', usage, flags: { remote: { type: 'boolean' } }, positionals: 1 });
      const dir = p.positionals[0]!;
      const out = await withRedisStore('fived backup', {}, (store, cfg) =>
        takeBackup(store.client, dir, { redisUrl: cfg.redisUrl, keyPrefix: cfg.keyPrefix, remote: p.flags.remote === true }));
      const m = out.manifest;
      console.log(JSON.stringify({ rdb: out.rdb, manifest: out.manifestFile, method: m.snapshot.method, bytes: m.file.bytes, sha256: m.file.sha256, generation: m.generation, balances: m.balances, counters: m.counters }, null, 2));
      return 0;
    });
  },
};
