// Reading one setting from the environment through its schema (src/settings.ts): the default when
// unset or blank, the value when it parses, otherwise a problem (`NAME="raw": expected …`) and the
// default, so loadConfig reports every problem at once.

import { acceptsOf, type BoolSpec, type IntSpec, schemaOf, SETTING_SPECS, type SettingName } from '../settings.js';

export type Env = Record<string, string | undefined>;

/** the settings of one kind */
type NameOf<K extends 'int' | 'bool' | 'text'> = { [N in SettingName]: (typeof SETTING_SPECS)[N]['kind'] extends K ? N : never }[SettingName];

export interface Reader {
  /** a second argument replaces a default computed at start */
  int(name: NameOf<'int'>, def?: number): number;
  /** trimmed; set but empty is '' (not the default) */
  str(name: NameOf<'text'>, def?: string): string;
  bool(name: NameOf<'bool'>): boolean;
  /** the raw value (for the settings read together, e.g. the seed key and its file) */
  raw(name: SettingName): string | undefined;
  /** where every problem found goes */
  problems: string[];
}

export function reader(env: Env, problems: string[]): Reader {
  const parsed = <T>(name: NameOf<'int'> | NameOf<'bool'>, def: T): T => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return def;
    const spec: IntSpec | BoolSpec = SETTING_SPECS[name];
    const r = spec.kind === 'int' ? schemaOf(spec).safeParse(raw) : schemaOf(spec).safeParse(raw);
    if (!r.success) {
      problems.push(`${name}=${JSON.stringify(raw)}: expected ${acceptsOf(spec)}`);
      return def;
    }
    return r.data as T;
  };
  return {
    int: (name, def = SETTING_SPECS[name].default) => parsed(name, def),
    str: (name, def = SETTING_SPECS[name].default) => {
      const raw = env[name];
      return raw === undefined ? def : raw.trim();
    },
    bool: (name) => parsed(name, SETTING_SPECS[name].default),
    raw: (name) => env[name],
    problems,
  };
}

/** A comma-separated list, trimmed, without empty entries. */
export const list = (text: string): string[] => text.split(',').map((s) => s.trim()).filter(Boolean);
