// The game settings schedule in memory (runtime/schedule.ts; docs/operations.md, "Changing game settings").
import type { MemState } from '../base/memory.js';
import type { SettingsStore } from '../types.js';

export class MemSettings implements SettingsStore {
  constructor(private readonly s: MemState) {}

  async getSettings(): Promise<string | null> {
    this.s.open();
    return this.s.settings;
  }

  async swapSettings(expected: string | null, next: string): Promise<boolean> {
    this.s.open();
    if (this.s.settings !== expected) return false;
    this.s.settings = next;
    return true;
  }
}
