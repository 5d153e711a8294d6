// What every `fived` subcommand module exports (as `command`): its own file in src/commands/,
// loaded lazily by src/cli.ts. Here rather than in cli.ts so the commands never import the CLI back.

export interface Command {
  summary: string;
  usage: string;
  run(args: string[]): Promise<number>;
}
