// `fived export --what periods|bets|ledger --from DAY --to DAY [--room ROOM] --format csv|jsonl [--out FILE]`:
// an audit extract from the archive (FIVED_ARCHIVE_URL) to stdout or a file.
import { createWriteStream } from 'node:fs';
import { parseRoomName } from '../config.js';
import { exportRows, type Dataset, type Format } from '../archive/export.js';
import { openPool } from '../archive/db.js';
import { type Command, parseCommandLine, requireFlag, UsageError } from './args.js';
import { runTool } from './common.js';
import { archiveUrlOf } from './archive.js';

const usage = 'fived export --what periods|bets|ledger --from YYYY-MM-DD --to YYYY-MM-DD [--room fiveD_60] --format csv|jsonl [--out FILE]   (from FIVED_ARCHIVE_URL; periods and bets by game day, ledger entries by UTC day)';

function day(v: string, flag: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  const d = m ? new Date(`${v}T00:00:00Z`) : null;
  if (!d || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== v) throw new UsageError(`--${flag} ${JSON.stringify(v)}: expected a day YYYY-MM-DD`, usage);
  return v;
}

export const command: Command = {
  summary: 'write archived periods, bets or ledger entries of a span of days as CSV or JSON lines',
  usage,
  async run(args: string[]): Promise<number> {
    return runTool('export', async () => {
      const s = { type: 'string' } as const;
      const p = parseCommandLine(args, { name: 'export', usage, flags: { what: s, from: s, to: s, room: s, format: s, out: s } });
      const what = requireFlag(p, 'what', usage);
      if (!['periods', 'bets', 'ledger'].includes(what)) throw new UsageError(`--what ${JSON.stringify(what)}: one of periods, bets, ledger`, usage);
      const format = requireFlag(p, 'format', usage);
      if (format !== 'csv' && format !== 'jsonl') throw new UsageError(`--format ${JSON.stringify(format)}: csv or jsonl`, usage);
      const from = day(requireFlag(p, 'from', usage), 'from');
      const to = day(requireFlag(p, 'to', usage), 'to');
      if (to < from) throw new UsageError('--to is before --from', usage);
      let duration: number | undefined;
      if (typeof p.flags.room === 'string') {
        const d = parseRoomName(p.flags.room);
        if (d === null) throw new UsageError(`--room ${JSON.stringify(p.flags.room)}: a room name such as fiveD_60`, usage);
        if (what === 'ledger') throw new UsageError('--room does not apply to ledger entries (they belong to users, not rooms)', usage);
        duration = d;
      }
      const pool = openPool(archiveUrlOf('fived export'), 1);
      const out = typeof p.flags.out === 'string' ? createWriteStream(p.flags.out) : process.stdout;
      try {
        const n = await exportRows(pool, { what: what as Dataset, from, to, format: format as Format, ...(duration !== undefined ? { duration } : {}) }, out);
        if (out !== process.stdout) {
          await new Promise<void>((resolve, reject) => { out.once('error', reject); out.end(() => resolve()); });
          console.error(`fived export: ${n} ${what} rows written to ${p.flags.out as string}`);
        }
        return 0;
      } finally {
        await pool.end();
      }
    });
  },
};
