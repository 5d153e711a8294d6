// `fived archive migrate`: applies the archive's schema migrations (migrations/NNN_name.sql) to
// FIVED_ARCHIVE_URL, each once, in order (schema_migrations records them): running it again
// changes nothing. docs/operations.md, "The archive in PostgreSQL".
import { loadConfig } from '../config.js';
import { ErrorCode, FivedError } from '../errors.js';
import { migrate, openPool, readMigrations } from '../archive/db.js';
import { type Command, parseCommandLine, UsageError } from './args.js';
import { runTool } from './common.js';

const usage = 'fived archive migrate   (applies migrations/*.sql not applied yet to FIVED_ARCHIVE_URL; idempotent)';

/** FIVED_ARCHIVE_URL of a tool, or E_CONFIG_INVALID naming it. */
export function archiveUrlOf(what: string): string {
  const cfg = loadConfig(process.env, {}, { tool: true });
  if (cfg.archiveUrl === '') throw new FivedError(ErrorCode.CONFIG_INVALID, `${what} needs the archive: set FIVED_ARCHIVE_URL=postgres://user@host:port/database`);
  return cfg.archiveUrl;
}

export const command: Command = {
  summary: 'apply the PostgreSQL archive schema migrations (idempotent)',
  usage,
  async run(args: string[]): Promise<number> {
    return runTool('archive', async () => {
      const p = parseCommandLine(args, { name: 'archive', usage, positionals: 1 });
      if (p.positionals[0] !== 'migrate') throw new UsageError(`unknown archive action ${JSON.stringify(p.positionals[0])}`, usage);
      const pool = openPool(archiveUrlOf('fived archive migrate'), 1);
      try {
        const all = readMigrations();
        const applied = await migrate(pool, all);
        const latest = all.length > 0 ? all[all.length - 1]!.version : 0;
        console.log(JSON.stringify({ applied, current: latest }));
        return 0;
      } finally {
        await pool.end();
      }
    });
  },
};
