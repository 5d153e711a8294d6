// "Did you mean …?" for a mistyped name (a command, a FIVED_* setting): the closest known name by
// edit distance, when it is close enough to be a typo rather than another word.

/** Levenshtein distance, case-insensitive (FIVED_durations is a typo of FIVED_DURATIONS). */
export function editDistance(a: string, b: string): number {
  const s = a.toUpperCase();
  const t = b.toUpperCase();
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const cur = [i];
    for (let j = 1; j <= t.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (s[i - 1] === t[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[t.length]!;
}

/** The closest of `known` to `name` (ties: the first), or undefined when none is within a typo's reach. */
export function closest(name: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(name, k);
    if (d < bestD) { best = k; bestD = d; }
  }
  // about one edit in three characters, at least 2: catches a dropped/doubled/swapped letter
  // without suggesting an unrelated name
  const reach = Math.max(2, Math.floor(name.length / 3));
  return bestD <= reach ? best : undefined;
}
