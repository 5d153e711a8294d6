// npm run bench:profile -- <dir>… — reads what a profiled bench run left behind (issue 18) and
// says where a gateway's event loop spent its time:
//   - every *.cpuprofile (node --cpu-prof): busy share, self time by function, and the longest
//     turns (consecutive non-idle samples) with what ran in them;
//   - every *.log with --trace-gc lines: GC by generation on the main isolate after the first
//     5 s (count, total, median and max pause), worker isolates apart.
// Produce them with: FIVED_BENCH_KEEP=1 FIVED_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR --trace-gc" npm run bench:fanout

import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; startTime: number; samples: number[]; timeDeltas: number[] }

const label = (cf: CallFrame) => `${cf.functionName || '(anonymous)'} ${path.basename(cf.url) || ''}${cf.url ? `:${cf.lineNumber}` : ''}`;
const ms = (us: number) => Math.round(us / 100) / 10;

export function analyseProfile(p: CpuProfile, top = 12, turns = 6): string[] {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stackOf = (id: number, depth = 4) => {
    const out: string[] = [];
    for (let i: number | undefined = id; i !== undefined && out.length < depth && parent.has(i); i = parent.get(i)) out.push(label(byId.get(i)!.callFrame));
    return out.join(' < ');
  };
  const self = new Map<string, number>();
  const found: Array<{ at: number; dur: number; what: Map<string, number> }> = [];
  let total = 0;
  let idle = 0;
  let t = p.startTime;
  let cur: { at: number; dur: number; what: Map<string, number> } | null = null;
  p.samples.forEach((id, i) => {
    const d = p.timeDeltas[i] ?? 0;
    t += d;
    total += d;
    const cf = byId.get(id)!.callFrame;
    if (cf.functionName === '(idle)') {
      idle += d;
      if (cur) found.push(cur);
      cur = null;
      return;
    }
    self.set(label(cf), (self.get(label(cf)) ?? 0) + d);
    cur ??= { at: t - p.startTime, dur: 0, what: new Map() };
    cur.dur += d;
    const k = stackOf(id);
    cur.what.set(k, (cur.what.get(k) ?? 0) + d);
  });
  if (cur) found.push(cur);
  const out = [`  ${ms(total)} ms profiled, busy ${((100 * (total - idle)) / total).toFixed(1)}%`, '  self time:'];
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) out.push(`    ${String(ms(v)).padStart(8)} ms  ${k}`);
  out.push('  longest turns (the first is start-up):');
  for (const f of found.sort((a, b) => b.dur - a.dur).slice(0, turns)) {
    out.push(`    ${ms(f.dur)} ms at +${(f.at / 1e6).toFixed(1)} s: ${[...f.what].sort((a, b) => b[1] - a[1]).slice(0, 2).map(([k, v]) => `${ms(v)} ${k}`).join(' | ')}`);
  }
  return out;
}

/** GC pauses by kind from --trace-gc output, main isolate (the first one seen) after `skipMs`. */
export function analyseGc(text: string, skipMs = 5000): string[] {
  const re = /^\[(\d+):(0x[0-9a-f]+)\]\s+(\d+) ms: (Scavenge|Mark-Compact(?: \(reduce\))?|Mark-sweep|Minor Mark-Compact)[^,]*, ([\d.]+) \/ [\d.]+ ms/;
  let main: string | null = null;
  const kinds = new Map<string, number[]>();
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    main ??= m[2]!;
    const where = m[2] === main ? 'main' : 'worker';
    if (Number(m[3]) < skipMs) continue;
    const k = `${where} ${m[4]}`;
    if (!kinds.has(k)) kinds.set(k, []);
    kinds.get(k)!.push(Number(m[5]));
  }
  return [...kinds].sort().map(([k, v]) => {
    const s = [...v].sort((a, b) => a - b);
    const sum = s.reduce((a, b) => a + b, 0);
    return `  ${k}: ${s.length} pauses, total ${sum.toFixed(1)} ms, median ${s[Math.floor(s.length / 2)]!.toFixed(2)} ms, max ${s[s.length - 1]!.toFixed(2)} ms`;
  });
}

function main(): void {
  const dirs = process.argv.slice(2);
  if (dirs.length === 0) {
    console.error('usage: tsx bench/profile.ts <dir with *.cpuprofile and/or *.log>…');
    process.exit(2);
  }
  for (const dir of dirs) {
    const files = statSync(dir).isDirectory() ? readdirSync(dir).map((f) => path.join(dir, f)) : [dir];
    for (const f of files.sort()) {
      if (f.endsWith('.cpuprofile')) {
        console.log(`${f}:`);
        for (const l of analyseProfile(JSON.parse(readFileSync(f, 'utf8')) as CpuProfile)) console.log(l);
      } else if (f.endsWith('.log')) {
        const gc = analyseGc(readFileSync(f, 'utf8'));
        if (gc.length) console.log(`${f} (GC after the first 5 s):\n${gc.join('\n')}`);
      }
    }
  }
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) main();
