// `fived check-config`: validates the FIVED_* environment like a start would, and prints the
// configuration (secrets masked) with its game fingerprint as JSON, or the problems (exit 1).
// Stricter than a start: a FIVED_* name that is no setting (a typo such as FIVED_DURATION) is a
// problem here, with a "did you mean"; a serving process only logs a warning about it.
import { configWarnings, describeConfig, loadConfig, unknownSettings } from '../config.js';
import { settingsFingerprint, settingsOf } from '../runtime/settings.js';
import { ErrorCode, isFivedError } from '../errors.js';
import { type Command, noArguments, reportUsage, type UsageError } from './args.js';

export const command: Command = {
  summary: 'validate the FIVED_* configuration and print it (secrets masked), or its problems (unknown FIVED_* names too)',
  usage: 'fived check-config',
  async run(args: string[]): Promise<number> {
    try { noArguments(args, 'check-config', this.usage); } catch (err) { return reportUsage(err as UsageError, 'check-config'); }
    const unknown = unknownSettings(process.env).map((u) => u.message);
    try {
      const cfg = loadConfig();
      if (unknown.length === 0) {
        // valid but unsafe beyond one host (a Redis URL without credentials, ...): said, not refused
        const warnings = configWarnings(cfg);
        for (const w of warnings) console.error(`warning: ${w}`);
        console.log(JSON.stringify({ ok: true, fingerprint: settingsFingerprint(settingsOf(cfg)), ...(warnings.length > 0 ? { warnings } : {}), config: describeConfig(cfg) }, null, 2));
        return 0;
      }
      return fail(ErrorCode.CONFIG_INVALID, unknown);
    } catch (err) {
      if (isFivedError(err)) {
        const problems = Array.isArray(err.details?.problems) ? (err.details.problems as string[]) : [err.message];
        return fail(err.code, [...unknown, ...problems]);
      }
      throw err;
    }
  },
};

function fail(code: string, problems: string[]): number {
  console.error(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  console.log(JSON.stringify({ ok: false, code, problems }, null, 2));
  return 1;
}
