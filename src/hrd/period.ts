/**
 * The period syntax of docs/hrd.md, used by `recurring`, `timeout` and `retryDelay`: a number of
 * seconds, or the units `w d h m s` combined from largest to smallest (`90s`, `5m`, `1h30m`,
 * `1d`). `0` disables a recurring action.
 *
 * @module
 */
import { InputError, type SourceLocation } from "../errors.ts";

/** Options of {@link parsePeriod}. */
export interface ParsePeriodOptions {
  /** Where the period is written; put on the error. */
  location?: SourceLocation;
  /** What the period is for, e.g. `recurring.monitor period`; starts the error message. */
  what?: string;
}

const UNIT_SECONDS: Readonly<Record<string, number>> = {
  w: 7 * 86400,
  d: 86400,
  h: 3600,
  m: 60,
  s: 1,
};

// Units in a fixed order, each at most once, so `1h30m` reads one way only.
const UNITS_RE = /^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/**
 * A period in whole seconds from `90`, `"90"`, `"90s"`, `"5m"`, `"1h30m"`, `"1d"`, `"2w"`
 * (spaces between the parts are allowed: `"1h 30m"`). Throws {@link InputError} naming the bad
 * text for anything else, including negative or fractional numbers.
 */
export function parsePeriod(input: string | number, options: ParsePeriodOptions = {}): number {
  const fail = (): never => {
    const prefix = options.what ? `${options.what}: ` : "";
    throw new InputError(
      `${prefix}bad period ${JSON.stringify(input)}: expected whole seconds or units ` +
        `w d h m s from largest to smallest, e.g. 90, 90s, 5m, 1h30m, 1d`,
      { location: options.location },
    );
  };
  if (typeof input === "number") {
    if (!Number.isSafeInteger(input) || input < 0) fail();
    return input;
  }
  if (typeof input !== "string") return fail();
  const text = input.trim().replace(/\s+/g, "");
  if (text === "") fail();
  if (/^\d+$/.test(text)) return checkedSeconds(Number(text), fail);
  const match = UNITS_RE.exec(text);
  if (!match) return fail();
  let seconds = 0;
  const units = ["w", "d", "h", "m", "s"];
  for (let i = 0; i < units.length; i++) {
    const amount = match[i + 1];
    if (amount !== undefined) seconds += Number(amount) * UNIT_SECONDS[units[i]];
  }
  return checkedSeconds(seconds, fail);
}

function checkedSeconds(seconds: number, fail: () => never): number {
  return Number.isSafeInteger(seconds) ? seconds : fail();
}

/**
 * The shortest period text for a number of seconds: `0` → `"0"`, `90` → `"1m30s"`,
 * `5400` → `"1h30m"`, `86400` → `"1d"`. {@link parsePeriod} reads it back to the same number.
 */
export function formatPeriod(seconds: number): string {
  if (!Number.isSafeInteger(seconds) || seconds < 0) {
    throw new RangeError(`formatPeriod: ${seconds} is not a whole number of seconds >= 0`);
  }
  if (seconds === 0) return "0";
  let rest = seconds;
  let text = "";
  for (const unit of ["w", "d", "h", "m", "s"]) {
    const size = UNIT_SECONDS[unit];
    const amount = Math.floor(rest / size);
    if (amount > 0) {
      text += `${amount}${unit}`;
      rest -= amount * size;
    }
  }
  return text;
}
