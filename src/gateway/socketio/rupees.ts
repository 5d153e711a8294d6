// Money at the Socket.IO edge (docs/socketio.md): the replaced system's players speak rupees as
// decimals, fived keeps integer minor units (rule 5). 1 rupee = 100 minor units; an amount with
// more than two decimals is refused, never rounded (docs/design.md rule 5).

export const MINOR_PER_RUPEE = 100;

const DECIMAL = /^(\d{1,13})(?:\.(\d{1,2}))?$/;

/**
 * Rupees (a JSON number or a numeric string, as the replaced system accepted) to minor units, or
 * null when it is not a positive amount with at most two decimals.
 */
export function rupeesToMinor(value: unknown): number | null {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0) return null;
    // the shortest text that reads back as this number: 0.1 → "0.1", 1e-7 → refused below
    text = String(value);
  } else if (typeof value === 'string') text = value.trim();
  else return null;
  const m = DECIMAL.exec(text);
  if (!m) return null;
  const minor = Number(m[1]) * MINOR_PER_RUPEE + Number((m[2] ?? '').padEnd(2, '0'));
  return Number.isSafeInteger(minor) && minor > 0 ? minor : null;
}

/** Minor units to rupees as a JSON number (exact to the paisa: n / 100 prints with ≤ 2 decimals). */
export function minorToRupees(minor: number): number {
  return minor / MINOR_PER_RUPEE;
}

/** "₹1,234.50" as the replaced system's messages print amounts. */
export function rupeeText(minor: number): string {
  return `₹${(minor / MINOR_PER_RUPEE).toFixed(2)}`;
}
