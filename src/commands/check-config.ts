// `fived check-config`: validates the FIVED_* environment like a start would, and prints the
// configuration (secrets masked) with its game fingerprint as JSON, or the problems (exit 1).
import type { Command } from '../cli.js';
import { configFingerprint, describeConfig, loadConfig } from '../config.js';
import { isFivedError } from '../errors.js';
import { noArguments, reportUsage, type UsageError } from './args.js';

export const command: Command = {
  summary: 'validate the FIVED_* configuration and print it (secrets masked), or its problems',
  usage: 'fived check-config',
  async run(args: string[]): Promise<number> {
    try { noArguments(args, 'check-config', this.usage); } catch (err) { return reportUsage(err as UsageError, 'check-config'); }
    try {
      const cfg = loadConfig();
      console.log(JSON.stringify({ ok: true, fingerprint: configFingerprint(cfg), config: describeConfig(cfg) }, null, 2));
      return 0;
    } catch (err) {
      if (isFivedError(err)) {
        const problems = Array.isArray(err.details?.problems) ? err.details.problems : [err.message];
        console.error(err.message);
        console.log(JSON.stringify({ ok: false, code: err.code, problems }, null, 2));
        return 1;
      }
      throw err;
    }
  },
};
