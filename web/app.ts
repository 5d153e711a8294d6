// The demo page: rooms with their countdown (server ticks), period id and commitment, results as
// they arrive with a verify button (recomputed here: WebCrypto, or the core's pure SHA-256 where the page is not a secure context), a bet slip on a demo
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
  periodSeq,
  progress,
  shortHex,
  sumTags,
} from './format.js';
import { demoSession, forgetSession, jwtExpiry, type DemoSession } from './session.js';
import { KINDS, multiplierOf, picksFor, readSlip } from './slip.js';
import { verifyInBrowser } from './verify-view.js';

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
  remainingMs: number;
  frozen: boolean;
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
  const card = h(
    'article',
    { class: 'card room', 'data-room': info.room },
    h('header', { class: 'room-head' }, h('h2', {}, `${durationLabel(info.duration)} room`), phase),
    countdown,
    h('div', { class: 'bar' }, bar),
    h('dl', { class: 'meta' }, h('dt', {}, 'Period'), period, h('dt', {}, 'Commitment'), commitment),
    h('h3', {}, 'Latest results'),
    results,
  );
  results.append(h('li', { class: 'empty' }, 'Waiting for the first result…'));
  const view: RoomView = { info, card, countdown, bar, phase, period, commitment, results, remainingMs: info.endsAt - Date.now(), frozen: false };
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
  v.info = info;
  v.period.textContent = info.periodId;
  v.period.title = `starts ${clockTime(info.startsAt)}, betting closes ${clockTime(info.freezeAt)}, ends ${clockTime(info.endsAt)}`;
  v.commitment.textContent = info.commitment ? shortHex(info.commitment, 10) : 'none (period void)';
  v.commitment.title = info.commitment ?? '';
  const remaining = info.endsAt - client.serverNow();
  showCountdown(v, remaining, client.serverNow() >= info.freezeAt);
}

function showCountdown(v: RoomView, remainingMs: number, frozen: boolean): void {
  v.remainingMs = remainingMs;
  v.frozen = frozen;
  v.countdown.textContent = formatCountdown(remainingMs);
  v.bar.style.width = `${(progress(remainingMs, v.info.duration) * 100).toFixed(1)}%`;
  v.phase.textContent = frozen ? 'Betting closed' : 'Betting open';
  v.card.dataset.phase = frozen ? 'frozen' : 'betting';
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
  if (!r.verified) li.append(h('p', { class: 'warn small' }, `The client flagged this result: ${r.verification.reason ?? 'unverified'}`));
  return li;
}

function addResult(r: VerifiedResult): void {
  const v = rooms.get(r.room);
  if (!v) return;
  v.results.querySelector('.empty')?.remove();
  if (v.results.querySelector(`[data-period="${r.periodId}"]`)) return;
  const item = resultItem(r);
  // newest first, by period id
  const later = [...v.results.children].find((li) => ((li as HTMLElement).dataset.period ?? '') < r.periodId);
  v.results.insertBefore(item, later ?? null);
  item.classList.add('fresh');
  while (v.results.children.length > RESULTS_PER_ROOM) v.results.lastElementChild!.remove();
}

function addVoid(room: string, periodId: string, reason: string): void {
  const v = rooms.get(room);
  if (!v) return;
  v.results.querySelector('.empty')?.remove();
  v.results.prepend(h('li', { class: 'result void', 'data-period': periodId }, h('div', { class: 'result-row' }, h('span', { class: 'pid' }, `#${periodSeq(periodId)}`), h('span', { class: 'void-text' }, `void — ${reason}`))));
  while (v.results.children.length > RESULTS_PER_ROOM) v.results.lastElementChild!.remove();
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
    note.textContent = 'Watching only: betting needs a demo session (FIVED_DEMO=true on the gateway).';
    return;
  }
  if (!v) {
    button.disabled = true;
    note.textContent = '';
    return;
  }
  button.disabled = v.frozen || client.state !== 'ready';
  note.textContent = v.frozen ? `Betting on #${periodSeq(v.info.periodId)} is closed; the next period opens in ${formatCountdown(v.remainingMs)}.` : `Bets go on period #${periodSeq(v.info.periodId)}.`;
}

async function placeBet(ev: Event): Promise<void> {
  ev.preventDefault();
  const status = $('bet-status');
  const read = readSlip({ room: slip.room, kind: slip.kind, pick: String(slip.pick), amount: ($('slip-amount') as HTMLInputElement).value });
  if (!read.ok) {
    status.dataset.kind = 'error';
    status.textContent = read.error;
    return;
  }
  status.dataset.kind = 'pending';
  status.textContent = 'Placing…';
  try {
    const ack = await client.bet(read.bet);
    setBalance(ack.balance);
    upsertBet({ betId: ack.betId, clientBetId: ack.clientBetId, room: ack.room, periodId: ack.periodId, kind: ack.kind, pick: ack.pick, amount: ack.amount, payout: 0, state: 'pending' });
    status.dataset.kind = 'ok';
    status.textContent = `Accepted: ${betLabel(ack.kind, ack.pick)} for ${formatMoney(ack.amount)} on #${periodSeq(ack.periodId)}${ack.duplicate ? ' (already placed)' : ''}`;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    status.dataset.kind = 'error';
    status.textContent = `Rejected (${e.code ?? 'error'}): ${e.message ?? String(err)}`;
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
        h('span', { class: 'bet-state' }, b.state === 'won' ? `won ${formatMoney(b.payout)}` : b.state === 'refunded' ? 'refunded' : b.state),
      ),
    ),
  );
}

function onSettled(s: SettledMsg): void {
  for (const b of s.bets) upsertBet({ ...b, room: s.room, periodId: s.periodId });
  setBalance(s.balance);
  const won = s.bets.reduce((n, b) => n + (b.state === 'won' ? b.payout : 0), 0);
  if (won > 0) toast(`You won ${formatMoney(won)} on #${periodSeq(s.periodId)}`, 'win');
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
    void refreshWallet();
  });
  client.on('subscribed', (m) => m.rooms.forEach(showPeriod));
  client.on('period', (p) => showPeriod(p));
  client.on('tick', onTick);
  client.on('closed', (c) => {
    const v = rooms.get(c.room);
    if (v && v.info.periodId === c.periodId) showCountdown(v, v.remainingMs, true);
  });
  client.on('result', addResult);
  client.on('recovery', ({ results }) => results.forEach(addResult));
  client.on('void', (m) => addVoid(m.room, m.periodId, m.reason));
  client.on('settled', onSettled);
  client.on('warning', (w) => toast(w.message, 'error'));
  client.on('error', (e) => {
    if (e.code !== 'E_TIMEOUT') toast(`${e.code}: ${e.message}`, 'error');
  });
}

void main();
