// `fived export --what periods|bets|ledger --from DAY --to DAY [--room ROOM] --format csv|jsonl [--out FILE]`:
// an audit extract from the archive (FIVED_ARCHIVE_URL) to stdout or a file.
import { createWriteStream, type WriteStream } from 'node:fs';
import { type FileHandle, open, unlink } from 'node:fs/promises';
import { parseRoomName } from '../config.js';
import { exportRows, type Dataset, type Format } from '../archive/export.js';
import { openPool } from '../archive/db.js';
import { ErrorCode, FivedError } from '../errors.js';
import { type Command, isCalendarDay, parseCommandLine, requireFlag, UsageError } from './args.js';
import { runTool } from './common.js';
import { archiveUrlOf } from './archive.js';

const usage = 'fived export --what periods|bets|ledger --from YYYY-MM-DD --to YYYY-MM-DD [--room fiveD_60] --format csv|jsonl [--out FILE]   (from FIVED_ARCHIVE_URL; periods and bets by game day, ledger entries by UTC day)';

function day(v: string, flag: string): string {
  if (!isCalendarDay(v)) throw new UsageError(`--${flag} ${JSON.stringify(v)}: expected a day YYYY-MM-DD`, usage);
  return v;
}

interface OutFile {
  stream: WriteStream;
  /** a regular file (removed when the export fails; a device such as /dev/null never is) */
  regular: boolean;
  /** rejects with E_BAD_REQUEST on a write error (a full disk, …) instead of an unhandled 'error' event */
  failed: Promise<never>;
}

const outError = (path: string, err: NodeJS.ErrnoException, doing: string) =>
  new FivedError(ErrorCode.BAD_REQUEST, `--out ${JSON.stringify(path)}: ${doing}: ${err.message}`, { path, cause: err.code });

/** --out opened (created or truncated) before anything is read, so a path that cannot be written
 *  (a missing directory, a directory, /proc) is refused first: E_BAD_REQUEST naming it. */
async function openOut(path: string): Promise<OutFile> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'w');
  } catch (err) {
    throw outError(path, err as NodeJS.ErrnoException, 'cannot be written');
  }
  const regular = (await fh.stat()).isFile();
  const stream = createWriteStream('', { fd: fh });
  const failed = new Promise<never>((_, reject) => stream.once('error', (err) => reject(outError(path, err, 'writing failed'))));
  failed.catch(() => undefined);
  return { stream, regular, failed };
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
      const url = archiveUrlOf('fived export');
      const path = typeof p.flags.out === 'string' ? p.flags.out : null;
      const file = path === null ? null : await openOut(path);
      const pool = openPool(url, 1);
      let ok = false;
      try {
        const q = { what: what as Dataset, from, to, format: format as Format, ...(duration !== undefined ? { duration } : {}) };
        if (!file) {
          await exportRows(pool, q, process.stdout, url);
        } else {
          const n = await Promise.race([exportRows(pool, q, file.stream, url), file.failed]);
          await Promise.race([new Promise<void>((resolve) => file.stream.end(() => resolve())), file.failed]);
          console.error(`fived export: ${n} ${what} rows written to ${path as string}`);
        }
        ok = true;
        return 0;
      } finally {
        await pool.end();
        // an export that failed leaves no partial file behind
        if (!ok && file) {
          file.stream.destroy();
          if (file.regular) await unlink(path as string).catch(() => undefined);
        }
      }
    });
  },
};
