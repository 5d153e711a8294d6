// The one place a Store is put together from its concerns. Each concern (src/store/<concern>/)
// has a memory and a Redis implementation side by side; MemoryStore and RedisStore build their
// parts over one shared state (base/memory.ts, base/redis.ts) and hand them to AssembledStore,
// which is every Store method exactly once, each forwarded to the concern that owns it.
// Forwarding methods (not copied functions) keep the prototype: a subclass may override any of them.

import type { BetStore, CommitStore, ComputeSource, LeaseStore, ResultStore, SettingsStore, SettlementStore, Store, StoreEvents, StoreLifecycle, BusStore, WalletStore } from './types.js';

export interface StoreParts {
  life: StoreLifecycle;
  settings: SettingsStore;
  commits: CommitStore;
  bets: BetStore;
  results: ResultStore;
  settlement: SettlementStore;
  bus: BusStore;
  lease: LeaseStore;
  wallet: Required<WalletStore>;
}

type Args<P extends keyof StoreParts, M extends keyof StoreParts[P]> = StoreParts[P][M] extends (...a: infer A) => unknown ? A : never;

export abstract class AssembledStore implements Store {
  abstract readonly kind: 'memory' | 'redis';
  abstract readonly label: string;
  abstract computeSource(): ComputeSource;
  private readonly parts: StoreParts;

  protected constructor(parts: StoreParts) {
    this.parts = parts;
  }

  // ---- lifecycle ----
  init() { return this.parts.life.init(); }
  close() { return this.parts.life.close(); }
  serverTime() { return this.parts.life.serverTime(); }
  healthy() { return this.parts.life.healthy(); }
  on<E extends keyof StoreEvents>(event: E, fn: StoreEvents[E]): void { this.parts.life.on(event, fn); }
  // ---- settings ----
  getSettings() { return this.parts.settings.getSettings(); }
  swapSettings(...a: Args<'settings', 'swapSettings'>) { return this.parts.settings.swapSettings(...a); }
  // ---- commitments ----
  commit(...a: Args<'commits', 'commit'>) { return this.parts.commits.commit(...a); }
  getCommitment(...a: Args<'commits', 'getCommitment'>) { return this.parts.commits.getCommitment(...a); }
  getSeed(...a: Args<'commits', 'getSeed'>) { return this.parts.commits.getSeed(...a); }
  // ---- bets ----
  placeBet(...a: Args<'bets', 'placeBet'>) { return this.parts.bets.placeBet(...a); }
  freeze(...a: Args<'bets', 'freeze'>) { return this.parts.bets.freeze(...a); }
  snapshot(...a: Args<'bets', 'snapshot'>) { return this.parts.bets.snapshot(...a); }
  patternTotals(...a: Args<'bets', 'patternTotals'>) { return this.parts.bets.patternTotals(...a); }
  userBets(...a: Args<'bets', 'userBets'>) { return this.parts.bets.userBets(...a); }
  periodBets(...a: Args<'bets', 'periodBets'>) { return this.parts.bets.periodBets(...a); }
  periodPayouts(...a: Args<'bets', 'periodPayouts'>) { return this.parts.bets.periodPayouts(...a); }
  // ---- results and history ----
  storeResult(...a: Args<'results', 'storeResult'>) { return this.parts.results.storeResult(...a); }
  getResult(...a: Args<'results', 'getResult'>) { return this.parts.results.getResult(...a); }
  getPeriod(...a: Args<'results', 'getPeriod'>) { return this.parts.results.getPeriod(...a); }
  appendHistory(...a: Args<'results', 'appendHistory'>) { return this.parts.results.appendHistory(...a); }
  history(...a: Args<'results', 'history'>) { return this.parts.results.history(...a); }
  // ---- settlement and void ----
  saveSettlement(...a: Args<'settlement', 'saveSettlement'>) { return this.parts.settlement.saveSettlement(...a); }
  applySettlement(...a: Args<'settlement', 'applySettlement'>) { return this.parts.settlement.applySettlement(...a); }
  claimSettlement(...a: Args<'settlement', 'claimSettlement'>) { return this.parts.settlement.claimSettlement(...a); }
  pendingSettlements() { return this.parts.settlement.pendingSettlements(); }
  unfinishedPeriods(...a: Args<'settlement', 'unfinishedPeriods'>) { return this.parts.settlement.unfinishedPeriods(...a); }
  isSettled(...a: Args<'settlement', 'isSettled'>) { return this.parts.settlement.isSettled(...a); }
  voidPeriod(...a: Args<'settlement', 'voidPeriod'>) { return this.parts.settlement.voidPeriod(...a); }
  voidUnverifiedResult(...a: Args<'settlement', 'voidUnverifiedResult'>) { return this.parts.settlement.voidUnverifiedResult(...a); }
  // ---- bus ----
  publish(...a: Args<'bus', 'publish'>) { return this.parts.bus.publish(...a); }
  subscribe(...a: Args<'bus', 'subscribe'>) { return this.parts.bus.subscribe(...a); }
  // ---- lease ----
  acquireLease(...a: Args<'lease', 'acquireLease'>) { return this.parts.lease.acquireLease(...a); }
  renewLease(...a: Args<'lease', 'renewLease'>) { return this.parts.lease.renewLease(...a); }
  releaseLease(...a: Args<'lease', 'releaseLease'>) { return this.parts.lease.releaseLease(...a); }
  currentEpoch() { return this.parts.lease.currentEpoch(); }
  // ---- wallet and ledger ----
  credit(...a: Args<'wallet', 'credit'>) { return this.parts.wallet.credit(...a); }
  debit(...a: Args<'wallet', 'debit'>) { return this.parts.wallet.debit(...a); }
  balance(...a: Args<'wallet', 'balance'>) { return this.parts.wallet.balance(...a); }
  ledgerPage(...a: Args<'wallet', 'ledgerPage'>) { return this.parts.wallet.ledgerPage(...a); }
  ledgerFeed(...a: Args<'wallet', 'ledgerFeed'>) { return this.parts.wallet.ledgerFeed(...a); }
  ledgerFloor(...a: Args<'wallet', 'ledgerFloor'>) { return this.parts.wallet.ledgerFloor(...a); }
  walletUsers(...a: Args<'wallet', 'walletUsers'>) { return this.parts.wallet.walletUsers(...a); }
  walletTotals() { return this.parts.wallet.walletTotals(); }
  heldCredits(...a: Args<'wallet', 'heldCredits'>) { return this.parts.wallet.heldCredits(...a); }
}
