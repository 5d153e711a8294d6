// `fived <command>`: one entry point, one module per subcommand in src/commands/, loaded lazily
// so `fived verify` never loads uWS or ioredis.

export interface Command {
  summary: string;
  usage: string;
  run(args: string[]): Promise<number>;
}

const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  verify: () => import('./commands/verify.js'),
  all: () => import('./commands/all.js'),
  gateway: () => import('./commands/gateway.js'),
  scheduler: () => import('./commands/scheduler.js'),
  'check-config': () => import('./commands/check-config.js'),
  inspect: () => import('./commands/inspect.js'),
  credit: () => import('./commands/credit.js'),
  'load-bets': () => import('./commands/load-bets.js'),
  wallet: () => import('./commands/wallet.js'),
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    await printHelp();
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`fived: unknown command ${JSON.stringify(name)}\n`);
    await printHelp();
    return 2;
  }
  const { command } = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`${command.summary}\n\nusage: ${command.usage}`);
    return 0;
  }
  return command.run(rest);
}

async function printHelp(): Promise<void> {
  const lines = ['usage: fived <command> [options]', '', 'commands:'];
  for (const [name, load] of Object.entries(COMMANDS)) {
    try {
      const { command } = await load();
      lines.push(`  ${name.padEnd(13)} ${command.summary}`);
    } catch {
      lines.push(`  ${name.padEnd(13)} (not available in this build)`);
    }
  }
  console.log(lines.join('\n'));
}
