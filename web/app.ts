// The demo page: rooms with their countdown (server ticks), period id and commitment, results as
// they arrive with a verify button (recomputed here with @noble/hashes, also where the page is not a secure context), a bet slip on a demo
// session, and the player's own bets. Everything goes through the client SDK, which reconnects
// and recovers missed results by itself. Bundled by scripts/build-web.mjs; no CDN.

import { connect, type FivedClient, type RoomInfo, type VerifiedResult } from '@fived/client';
import type { BetOutcome, SettledMsg, TickMsg } from '../src/protocol.js';
import type { BetKind, BetPick } from '../src/core/types.js';
import {
  betLabel,
  clockTime,
  durationLabel,
  formatCountdown,
  formatMoney,
  outcomeText,
  periodSeq,
  playerError,
  progress,
  shortHex,
  sumTags,
  voidReasonText,
  voidText,
} from './format.js';
import { demoSession, forgetSession, jwtExpiry, type DemoSession } from './session.js';
import { KINDS, multiplierOf, picksFor, readSlip } from './slip.js';
import { verifiedFromHistory, verifyInBrowser } from './verify-view.js';

const RESULTS_PER_ROOM = 6;
const MY_BETS_SHOWN = 20;

// ---- tiny DOM helpers ----

type Attrs = Record<string, string | number | boolean | undefined | ((ev: Event) => void)>;

function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Array<Node | string | null>): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (k === 'class') el.className = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null) el.append(c);
  return el;
}

function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from index.html`);
  return el;
}

// ---- page state ----

interface RoomView {
  info: RoomInfo;
  card: HTMLElement;
  countdown: HTMLElement;
  bar: HTMLElement;
  phase: HTMLElement;
  period: HTMLElement;
  commitment: HTMLElement;
  results: HTMLOListElement;
  voidNote: HTMLElement;
  remainingMs: number;
  frozen: boolean;
  /** the current period is void (no commitment, or voided while open): no bets, bets refunded */
  void: boolean;
  historyLoaded: boolean;
}

interface MyBet extends BetOutcome {
  room: string;
  periodId: string;
}

const rooms = new Map<string, RoomView>();
const myBets = new Map<string, MyBet>(); // by betId; shown newest period first
let session: DemoSession | null = null;
let client: FivedClient;
let failedConnects = 0; // connects that closed before a hello, in a row
let connectedSinceClose = false;
const slip = { room: '', kind: 'A' as BetKind, pick: 7 as BetPick };
/** the bet the status line under the slip speaks of: it follows that bet to its outcome */
let statusBet: { betId: string; room: string; periodId: string } | null = null;

// ---- header: connection and wallet ----

function setConn(state: string, text: string): void {
  const el = $('conn');
  el.dataset.state = state;
  el.querySelector('.text')!.textContent = text;
}

function setBalance(b: number | null): void {
  $('balance').textContent = b === null ? '—' : formatMoney(b);
}

function toast(text: string, kind: 'info' | 'win' | 'error' = 'info'): void {
  const el = h('div', { class: `toast ${kind}`, role: 'status' }, text);
  $('toasts').append(el);
  setTimeout(() => el.remove(), 5000);
}

// ---- rooms ----

function roomView(info: RoomInfo): RoomView {
  const existing = rooms.get(info.room);
  if (existing) return existing;
  const countdown = h('div', { class: 'countdown', 'data-testid': 'countdown' }, '–:––');
  const bar = h('span');
  const phase = h('span', { class: 'phase' }, '');
  const period = h('dd', { class: 'mono period' });
  const commitment = h('dd', { class: 'mono commitment' });
  const results = h('ol', { class: 'results' });
  const voidNote = h('p', { class: 'void-note', 'data-testid': 'void-note', hidden: true });
  const card = h(
    'article',
    { class: 'card room', 'data-room': info.room },
    h('header', { class: 'room-head' }, h('h2', {}, `${durationLabel(info.duration)} room`), phase),
    countdown,
    h('div', { class: 'bar' }, bar),
    voidNote,
    h('dl', { class: 'meta' }, h('dt', {}, 'Period'), period, h('dt', {}, 'Commitment'), commitment),
    h('h3', {}, 'Latest results'),
    results,
  );
  results.append(h('li', { class: 'empty' }, 'Waiting for the first result…'));
  // periodId '' until showPeriod fills it in: the first period counts as a change (void or not)
  const view: RoomView = { info: { ...info, periodId: '' }, card, countdown, bar, phase, period, commitment, results, voidNote, remainingMs: info.endsAt - Date.now(), frozen: false, void: false, historyLoaded: false };
  rooms.set(info.room, view);
  const list = $('rooms');
  // keep rooms in duration order
  const after = [...rooms.values()].filter((v) => v.info.duration > info.duration).sort((a, b) => a.info.duration - b.info.duration)[0];
  if (after) list.insertBefore(card, after.card);
  else list.append(card);
  renderRoomOptions();
  return view;
}

function showPeriod(info: RoomInfo): void {
  const v = roomView(info);
  const changed = v.info.periodId !== info.periodId;
  v.info = info;
  // a period without a commitment is void (the gateway sends null for one voided while open too)
  if (info.commitment === null) {
    if (changed || !v.void) {
      markVoid(v, true, null);
      void voidReasonOf(v, info.periodId);
    }
  } else if (changed) markVoid(v, false, null);
  v.period.textContent = info.periodId;
  v.period.title = `starts ${clockTime(info.startsAt)}, betting closes ${clockTime(info.freezeAt)}, ends ${clockTime(info.endsAt)}`;
  v.commitment.textContent = info.commitment ? shortHex(info.commitment, 10) : 'none (void period)';
  v.commitment.title = info.commitment ?? '';
  const remaining = info.endsAt - client.serverNow();
  showCountdown(v, remaining, client.serverNow() >= info.freezeAt);
  if (changed) renderBetStatus();
}

/** Shows (or clears) the current period's void state on its card; `reason` is the server's, if known. */
function markVoid(v: RoomView, isVoid: boolean, reason: string | null): void {
  v.void = isVoid;
  v.voidNote.hidden = !isVoid;
  v.voidNote.textContent = isVoid ? voidText(reason) : '';
  showCountdown(v, v.remainingMs, v.frozen);
  if (statusBet?.room === v.info.room) renderBetStatus();
}

/** The void reason of a period announced without a commitment (the lookup has it; hello does not). */
async function voidReasonOf(v: RoomView, periodId: string): Promise<void> {
  try {
    const res = await fetch(`/api/rooms/${encodeURIComponent(v.info.room)}/periods/${periodId}`, { headers: { accept: 'application/json' } });
    if (!res.ok) return;
    const p = (await res.json()) as { void?: boolean; status?: string; voidReason?: string | null };
    if (v.info.periodId === periodId && v.void && (p.void || p.status === 'void')) markVoid(v, true, p.voidReason ?? null);
  } catch {
    // the generic void text stays
  }
}

function showCountdown(v: RoomView, remainingMs: number, frozen: boolean): void {
  v.remainingMs = remainingMs;
  v.frozen = frozen;
  v.countdown.textContent = formatCountdown(remainingMs);
  v.bar.style.width = `${(progress(remainingMs, v.info.duration) * 100).toFixed(1)}%`;
  v.phase.textContent = v.void ? 'Void · bets refunded' : frozen ? 'Betting closed' : 'Betting open';
  v.card.dataset.phase = v.void ? 'void' : frozen ? 'frozen' : 'betting';
  if (v.info.room === slip.room) renderSlipState();
}

function onTick(t: TickMsg): void {
  const v = rooms.get(t.room);
  if (!v) return;
  if (t.periodId !== v.info.periodId) return; // a period message is on its way
  showCountdown(v, t.remainingMs, t.phase === 'frozen');
}

function resultItem(r: VerifiedResult): HTMLLIElement {
  const out = h('div', { class: 'verify-out', hidden: true });
  const button = h('button', { class: 'verify', type: 'button' }, 'Verify') as HTMLButtonElement;
  button.addEventListener('click', () => {
    button.disabled = true;
    button.textContent = 'Verifying…';
    verifyInBrowser(r, client.announcedCommitment(r.room, r.periodId)).then((verdict) => {
      button.textContent = verdict.label;
      button.dataset.ok = String(verdict.ok);
      out.hidden = false;
      out.replaceChildren(
        h('p', {}, verdict.detail),
        h('p', { class: 'mono small' }, `seed ${r.seed}`),
        h('p', { class: 'mono small' }, `commitment ${r.commitment}`),
      );
    });
  });
  const balls = h('span', { class: 'balls', 'aria-label': `digits ${r.digits.join(' ')}` }, ...r.digits.map((d) => h('b', {}, String(d))));
  const tags = sumTags(r.sum).map((t) => h('i', { class: `tag ${t}` }, t));
  const li = h(
    'li',
    { class: 'result', 'data-period': r.periodId, 'data-sdk-verified': String(r.verified) },
    h('div', { class: 'result-row' }, h('span', { class: 'pid', title: r.periodId }, `#${periodSeq(r.periodId)}`), balls, h('span', { class: 'sum' }, `Σ ${r.sum}`, ...tags), button),
    out,
  );
  if (!r.verified) li.append(h('p', { class: 'warn small' }, 'This result does not verify against its commitment: do not trust it.'));
  return li;
}

/** Puts a row in a room's results, newest period first; a period already listed is left alone. */
function insertRow(v: RoomView, periodId: string, item: HTMLLIElement): boolean {
  v.results.querySelector('.empty')?.remove();
  if (v.results.querySelector(`[data-period="${periodId}"]`)) return false;
  const later = [...v.results.children].find((li) => ((li as HTMLElement).dataset.period ?? '') < periodId);
  v.results.insertBefore(item, later ?? null);
  while (v.results.children.length > RESULTS_PER_ROOM) v.results.lastElementChild!.remove();
  return true;
}

function addResult(r: VerifiedResult, fresh = true): void {
  const v = rooms.get(r.room);
  if (!v) return;
  const item = resultItem(r);
  if (insertRow(v, r.periodId, item) && fresh) item.classList.add('fresh');
}

function addVoid(room: string, periodId: string, reason: string | null): void {
  const v = rooms.get(room);
  if (!v) return;
  insertRow(v, periodId, h('li', { class: 'result void', 'data-period': periodId }, h('div', { class: 'result-row' }, h('span', { class: 'pid' }, `#${periodSeq(periodId)}`), h('span', { class: 'void-text' }, `void: ${voidReasonText(reason)} · bets refunded`))));
}

function onVoid(room: string, periodId: string, reason: string): void {
  addVoid(room, periodId, reason);
  const v = rooms.get(room);
  if (v && v.info.periodId === periodId) markVoid(v, true, reason);
}

/**
 * The latest revealed results of a room from the history API, so a page (re)loaded between two
 * results shows the last one instead of "Waiting…". Entries are the period objects of the
 * lookup: a `result` to show (status 'settled', or 'resulted' from older gateways) or a void one.
 */
async function loadHistory(v: RoomView): Promise<void> {
  if (v.historyLoaded) return;
  v.historyLoaded = true;
  try {
    const res = await fetch(`/api/rooms/${encodeURIComponent(v.info.room)}/periods?limit=${RESULTS_PER_ROOM}`, { headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(String(res.status));
    const list = (await res.json()) as Array<{ room: string; periodId: string; endsAt: number; commitment: string | null; result: { digits: VerifiedResult['digits']; sum: number; seed: string } | null; status?: string; void?: boolean; voidReason?: string | null }>;
    for (const e of list) {
      if (e.void === true || e.status === 'void') addVoid(v.info.room, e.periodId, e.voidReason ?? null);
      else if (e.result && e.commitment) addResult(await verifiedFromHistory({ ...e, commitment: e.commitment, result: e.result }, v.info, client.serverNow()), false);
    }
  } catch {
    v.historyLoaded = false; // tried again on the next hello; live results still arrive
  }
}

// ---- bet slip ----

function renderRoomOptions(): void {
  const select = $('slip-room') as HTMLSelectElement;
  const sorted = [...rooms.values()].sort((a, b) => a.info.duration - b.info.duration);
  if (!slip.room && sorted[0]) slip.room = sorted[0].info.room;
  select.replaceChildren(...sorted.map((v) => h('option', { value: v.info.room, selected: v.info.room === slip.room }, `${durationLabel(v.info.duration)} room`)));
  renderSlipState();
}

function renderKinds(): void {
  $('slip-kinds').replaceChildren(
    ...KINDS.map((k) =>
      h('button', { type: 'button', class: 'chip', 'aria-pressed': String(k === slip.kind), onclick: () => { slip.kind = k; if (!picksFor(k).includes(slip.pick)) slip.pick = 'big'; renderKinds(); renderPicks(); } }, k),
    ),
  );
}

function renderPicks(): void {
  $('slip-picks').replaceChildren(
    ...picksFor(slip.kind).map((p) =>
      h('button', { type: 'button', class: `chip ${typeof p === 'number' ? 'num' : 'side'}`, 'data-pick': String(p), 'aria-pressed': String(p === slip.pick), onclick: () => { slip.pick = p; renderPicks(); } }, String(p)),
    ),
  );
  $('slip-hint').textContent = `${betLabel(slip.kind, slip.pick)} pays ${multiplierOf(slip.pick)}× the stake after a 2 % fee`;
}

function renderSlipState(): void {
  const button = $('place-bet') as HTMLButtonElement;
  const v = rooms.get(slip.room);
  const note = $('slip-period');
  if (!session) {
    button.disabled = true;
    note.textContent = 'Watching only: this server does not take bets from this page.';
    return;
  }
  if (!v) {
    button.disabled = true;
    note.textContent = '';
    return;
  }
  button.disabled = v.void || v.frozen || client.state !== 'ready';
  note.textContent = v.void
    ? `Period #${periodSeq(v.info.periodId)} is void and takes no bets; the next period opens in ${formatCountdown(v.remainingMs)}.`
    : v.frozen ? `Betting on #${periodSeq(v.info.periodId)} is closed; the next period opens in ${formatCountdown(v.remainingMs)}.` : `Bets go on period #${periodSeq(v.info.periodId)}.`;
}

async function placeBet(ev: Event): Promise<void> {
  ev.preventDefault();
  const status = $('bet-status');
  const read = readSlip({ room: slip.room, kind: slip.kind, pick: String(slip.pick), amount: ($('slip-amount') as HTMLInputElement).value });
  if (!read.ok) {
    statusBet = null;
    status.dataset.kind = 'error';
    status.textContent = read.error;
    return;
  }
  statusBet = null;
  status.dataset.kind = 'pending';
  status.textContent = 'Placing…';
  try {
    const ack = await client.bet(read.bet);
    setBalance(ack.balance);
    upsertBet({ betId: ack.betId, clientBetId: ack.clientBetId, room: ack.room, periodId: ack.periodId, kind: ack.kind, pick: ack.pick, amount: ack.amount, payout: 0, state: 'pending' });
    statusBet = { betId: ack.betId, room: ack.room, periodId: ack.periodId };
    renderBetStatus(ack.duplicate ? ' (already placed)' : '');
  } catch (err) {
    const e = err as { code?: string; message?: string };
    status.dataset.kind = 'error';
    status.textContent = `Not placed. ${playerError(e.code, e.message)}`;
  }
}

/**
 * The status line follows the last placed bet: accepted while its period takes bets, waiting
 * once the period has moved on, then its outcome (won with the payout and the profit, lost, refunded).
 */
function renderBetStatus(extra = ''): void {
  if (!statusBet) return;
  const status = $('bet-status');
  const b = myBets.get(statusBet.betId);
  if (!b) return;
  const what = `${betLabel(b.kind, b.pick)} for ${formatMoney(b.amount)} on #${periodSeq(b.periodId)}`;
  const current = rooms.get(b.room)?.info.periodId ?? b.periodId;
  if (b.state !== 'pending') {
    status.dataset.kind = b.state;
    status.textContent = `${what}: ${outcomeText(b.state, b.amount, b.payout)}`;
  } else if (current === b.periodId && rooms.get(b.room)?.void) {
    status.dataset.kind = 'pending';
    status.textContent = `${what}: the period is void, so this bet is refunded in full.`;
  } else if (current === b.periodId) {
    status.dataset.kind = 'ok';
    status.textContent = `Accepted: ${what}${extra}. The result comes at the end of the period.`;
  } else {
    status.dataset.kind = 'pending';
    status.textContent = `${what}: the period has ended, waiting for the result…`;
  }
}

// ---- my bets ----

function upsertBet(b: MyBet): void {
  const prev = myBets.get(b.betId);
  myBets.set(b.betId, prev ? { ...prev, ...b } : b);
  // keep memory bounded: drop the oldest periods beyond what is shown
  if (myBets.size > MY_BETS_SHOWN * 2) {
    const oldest = [...myBets.values()].sort((x, y) => (x.periodId < y.periodId ? -1 : 1))[0];
    if (oldest) myBets.delete(oldest.betId);
  }
  renderMyBets();
  if (statusBet?.betId === b.betId) renderBetStatus();
}

function renderMyBets(): void {
  const list = $('mybets');
  const bets = [...myBets.values()].sort((a, b) => (a.periodId === b.periodId ? 0 : a.periodId < b.periodId ? 1 : -1)).slice(0, MY_BETS_SHOWN);
  if (bets.length === 0) {
    list.replaceChildren(h('li', { class: 'empty' }, session ? 'No bets yet.' : 'Sign-in is off: no bets.'));
    return;
  }
  list.replaceChildren(
    ...bets.map((b) =>
      h(
        'li',
        { class: `bet ${b.state}`, 'data-bet': b.betId, 'data-state': b.state },
        h('span', { class: 'bet-what' }, h('strong', {}, betLabel(b.kind, b.pick)), h('span', { class: 'muted' }, ` ${durationLabel(rooms.get(b.room)?.info.duration ?? 0)} · #${periodSeq(b.periodId)}`)),
        h('span', { class: 'bet-amount' }, formatMoney(b.amount)),
        h('span', { class: 'bet-state' }, b.state === 'won' ? `won · paid ${formatMoney(b.payout)} (profit ${formatMoney(b.payout - b.amount)})` : b.state === 'refunded' ? 'refunded' : b.state),
      ),
    ),
  );
}

function onSettled(s: SettledMsg): void {
  for (const b of s.bets) upsertBet({ ...b, room: s.room, periodId: s.periodId });
  setBalance(s.balance);
  // exact: what was paid, the stake it came from and the profit over it (the payout includes the stake's return)
  const wins = s.bets.filter((b) => b.state === 'won');
  if (wins.length === 1) {
    const b = wins[0]!;
    toast(`${betLabel(b.kind, b.pick)} won on #${periodSeq(s.periodId)}: paid ${formatMoney(b.payout)} (stake ${formatMoney(b.amount)}, profit ${formatMoney(b.payout - b.amount)})`, 'win');
  } else if (wins.length > 1) {
    const paid = wins.reduce((n, b) => n + b.payout, 0);
    const staked = wins.reduce((n, b) => n + b.amount, 0);
    toast(`${wins.length} bets won on #${periodSeq(s.periodId)}: paid ${formatMoney(paid)} (stakes ${formatMoney(staked)}, profit ${formatMoney(paid - staked)})`, 'win');
  }
}

async function refreshWallet(): Promise<void> {
  if (!session) return;
  try {
    const [b, bets] = await Promise.all([client.balance(), client.myBets({ limit: MY_BETS_SHOWN })]);
    setBalance(b);
    for (const bet of bets) upsertBet(bet);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code === 'E_UNAUTHORIZED') {
      forgetSession(sessionStorage);
      session = null;
      renderSlipState();
    }
  }
}

// ---- start ----

async function main(): Promise<void> {
  renderKinds();
  renderPicks();
  $('slip').addEventListener('submit', (ev) => void placeBet(ev));
  ($('slip-room') as HTMLSelectElement).addEventListener('change', (ev) => {
    slip.room = (ev.target as HTMLSelectElement).value;
    renderSlipState();
  });
  for (const chip of document.querySelectorAll<HTMLButtonElement>('[data-amount]')) {
    chip.addEventListener('click', () => {
      ($('slip-amount') as HTMLInputElement).value = chip.dataset.amount ?? '';
    });
  }

  session = await demoSession(window.sessionStorage);
  if (session) {
    setBalance(session.balance);
    $('user').textContent = session.userId;
  }
  renderMyBets();

  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  client = connect(`${scheme}://${location.host}/ws`, {
    // asked again on every reconnect: an expired demo token is replaced by a fresh session
    // and one the gateway keeps refusing (401 looks like any failed connect to a browser) as well
    token: async () => {
      const refused = failedConnects >= 3;
      if (session && (refused || (jwtExpiry(session.token) ?? Infinity) - 30_000 < Date.now())) {
        failedConnects = 0;
        forgetSession(window.sessionStorage);
        session = await demoSession(window.sessionStorage);
      }
      return session?.token ?? null;
    },
  });

  client.on('state', (s) => {
    if (s === 'connecting') setConn('connecting', 'Connecting…');
    else if (s === 'closed') setConn('down', 'Disconnected');
    renderSlipState();
  });
  client.on('close', () => {
    if (!connectedSinceClose) failedConnects++;
    connectedSinceClose = false;
  });
  client.on('reconnect', ({ delayMs }) => setConn('down', `Reconnecting in ${Math.max(1, Math.round(delayMs / 1000))} s…`));
  client.on('hello', (hello) => {
    connectedSinceClose = true;
    failedConnects = 0;
    setConn('live', 'Live');
    for (const info of hello.rooms) showPeriod(info);
    client.subscribe(hello.rooms.map((r) => r.room));
    for (const info of hello.rooms) {
      const v = rooms.get(info.room);
      if (v) void loadHistory(v);
    }
    void refreshWallet();
  });
  client.on('subscribed', (m) => m.rooms.forEach(showPeriod));
  client.on('period', (p) => showPeriod(p));
  client.on('tick', onTick);
  client.on('closed', (c) => {
    const v = rooms.get(c.room);
    if (v && v.info.periodId === c.periodId) showCountdown(v, v.remainingMs, true);
  });
  client.on('result', (r) => addResult(r));
  client.on('recovery', ({ results }) => { for (const r of results) addResult(r); });
  client.on('void', (m) => onVoid(m.room, m.periodId, m.reason));
  client.on('settled', onSettled);
  // players read plain sentences: the codes and details stay in the SDK's events (and the console of a developer who wants them)
  client.on('warning', (w) => {
    if (w.code === 'E_RESULT_MISMATCH') toast('A result did not verify against its commitment; it is marked in its room.', 'error');
  });
  client.on('error', (e) => {
    if (e.code !== 'E_TIMEOUT') toast(playerError(e.code, e.message, 'Something went wrong; the page keeps trying.'), 'error');
  });
}

void main();
