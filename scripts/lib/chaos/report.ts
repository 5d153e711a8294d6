// Text tables of a chaos run: the periods, the faults injected and each invariant's violations
// (with the first pieces of evidence when there are any). Markdown-compatible, so the same text
// goes into docs/reliability.md.

import { INVARIANTS, type CheckReport } from './checker.js';
import type { FaultEvent } from './faults.js';

function table(head: string[], rows: Array<Array<string | number>>): string {
  const out = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) out.push(`| ${r.join(' | ')} |`);
  return out.join('\n');
}

export function formatReport(r: CheckReport, faults: FaultEvent[], run: { clients: number; seconds: number }): string {
  const parts: string[] = [];
  const byRoom = new Map<string, { total: number; settled: number; voided: number; resulted: number; other: number; bets: number }>();
  for (const p of r.periods) {
    const s = byRoom.get(p.room) ?? { total: 0, settled: 0, voided: 0, resulted: 0, other: 0, bets: 0 };
    byRoom.set(p.room, s);
    s.total += 1;
    s.bets += p.bets;
    if (p.status === 'settled') s.settled += 1;
    else if (p.status === 'void') s.voided += 1;
    else if (p.status === 'resulted') s.resulted += 1;
    else s.other += 1;
  }
  parts.push(`Run: ${run.seconds} s, ${run.clients} clients; bets acknowledged ${r.betsAcked}, in doubt ${r.betsUnknown}, refused ${r.betsRejected}; results received ${r.resultsSeen}; balance samples in freeze windows ${r.samples}.`);
  parts.push('');
  parts.push('Periods (counted: started and ended inside the run)');
  parts.push(table(['room', 'periods', 'settled', 'resulted (no bets)', 'void', 'other', 'bets'], [...byRoom].map(([room, s]) => [room, s.total, s.settled, s.resulted, s.voided, s.other, s.bets])));
  parts.push('');
  const sample = r.periods.filter((p) => p.status !== 'settled' && p.status !== 'resulted');
  if (sample.length > 0) {
    parts.push('Periods not settled normally');
    parts.push(table(['room', 'period', 'status', 'bets', 'source / reason'], sample.slice(0, 40).map((p) => [p.room, p.periodId, p.status, p.bets, p.source])));
    parts.push('');
  }
  parts.push('Faults injected');
  const kinds = new Map<string, number>();
  for (const f of faults) kinds.set(f.kind, (kinds.get(f.kind) ?? 0) + 1);
  parts.push(table(['fault', 'count'], [...kinds].map(([k, n]) => [k, n])));
  parts.push('');
  parts.push(table(['#', 'time', 'fault', 'target', 'down ms', 'detail'], faults.map((f, i) => [i + 1, new Date(f.at).toISOString().slice(11, 23), f.kind, f.target, f.downMs, f.detail])));
  parts.push('');
  parts.push('Invariants');
  parts.push(table(['invariant', 'violations'], INVARIANTS.map((k) => [k, r.violations[k]])));
  for (const k of INVARIANTS) {
    if (r.evidence[k].length === 0) continue;
    parts.push('');
    parts.push(`Evidence: ${k}`);
    for (const e of r.evidence[k]) parts.push(`  - ${e}`);
  }
  parts.push('');
  parts.push(`Wallet: ${JSON.stringify(r.wallet)}`);
  return parts.join('\n');
}
