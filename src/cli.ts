// `fived <command>`: one entry point, one module per subcommand in src/commands/, loaded lazily
// so `fived verify` never loads uWS or ioredis.
import type { Command } from './commands/args.js';
import { closest } from './suggest.js';

export type { Command } from './commands/args.js';

export const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  verify: () => import('./commands/verify.js'),
  all: () => import('./commands/all.js'),
  gateway: () => import('./commands/gateway.js'),
  scheduler: () => import('./commands/scheduler.js'),
  'check-config': () => import('./commands/check-config.js'),
  inspect: () => import('./commands/inspect.js'),
  credit: () => import('./commands/credit.js'),
  debit: () => import('./commands/debit.js'),
  reconcile: () => import('./commands/reconcile.js'),
  wallet: () => import('./commands/wallet.js'),
  token: () => import('./commands/token.js'),
  // issue 13: settings changes and backups
  config: () => import('./commands/config.js'),
  backup: () => import('./commands/backup.js'),
  archive: () => import('./commands/archive.js'),
  archiver: () => import('./commands/archiver.js'),
  export: () => import('./commands/export.js'),
};

const HOW = 'from a checkout: `npx fived <command>` (or `node bin/fived.js <command>`) after `npm install` and `npm run build`';

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version') {
    const { fivedVersion } = await import('./version.js');
    console.log(`fived ${fivedVersion()}`);
    return 0;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    if (name === 'help' && rest.length > 0) return main([rest[0]!, '--help']); // `help X` is `X --help`
    console.log(await helpText());
    return 0;
  }
  if (!name) {
    // a command is required: the list, on stderr, exit 2 (a usage error)
    console.error(await helpText());
    return 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(unknownCommand(name));
    console.error(await helpText());
    return 2;
  }
  const { command } = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`${command.summary}\n\nusage: ${command.usage}`);
    return 0;
  }
  return command.run(rest);
}

function unknownCommand(name: string): string {
  const near = closest(name, Object.keys(COMMANDS));
  return `fived: unknown command ${JSON.stringify(name)}${near ? `; did you mean ${near}?` : ''}\n`;
}

/** Every command with its one-line summary (each module loaded for it: the summary lives there). */
export async function helpText(): Promise<string> {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length)) + 2;
  const lines = ['usage: fived <command> [options]   (fived --version prints the release)', '', 'commands:'];
  for (const [name, load] of Object.entries(COMMANDS)) {
    try {
      const { command } = await load();
      lines.push(`  ${name.padEnd(width)}${command.summary}`);
    } catch (err) {
      lines.push(`  ${name.padEnd(width)}(cannot load: ${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
    }
  }
  lines.push(
    '',
    '`fived <command> --help` (or `fived help <command>`) prints its usage. The serving commands and',
    'check-config read FIVED_* environment variables (README, "Main settings"); inspect, credit,',
    'debit, reconcile and wallet work on Redis only: set FIVED_REDIS_URL.',
    HOW,
  );
  return lines.join('\n');
}
