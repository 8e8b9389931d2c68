/**
 * Period syntax of SPEC §3.3, used by `recurring:` in blueprints: a number of seconds, or
 * units `s m h d w` combined (`90s`, `5m`, `1h30m`, `1d`); `0` disables.
 *
 * @module
 */

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/**
 * Parses a period into whole seconds, or returns null when `value` is not a period. Numbers
 * must be non-negative integers; unit parts may repeat only in descending order
 * (`1h30m`, not `30m1h`), as people write them.
 */
export function parsePeriod(value: unknown): number | null {
  if (typeof value === "number") {
    return Number.isSafeInteger(value) && value >= 0 ? value : null;
  }
  if (typeof value !== "string") return null;
  const text = value.trim().toLowerCase();
  if (/^\d+$/.test(text)) return Number(text);
  if (!/^(\d+[smhdw])+$/.test(text)) return null;
  let total = 0;
  let lastUnit = Infinity;
  for (const [, amount, unit] of text.matchAll(/(\d+)([smhdw])/g)) {
    const size = UNIT_SECONDS[unit];
    if (size >= lastUnit) return null;
    lastUnit = size;
    total += Number(amount) * size;
  }
  return Number.isSafeInteger(total) ? total : null;
}
