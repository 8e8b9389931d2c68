/**
 * The memory size syntax of docs/hrd.md, used by `memory:` (the limit of a job with
 * `isolation: process`, docs/runs.md "Memory limits"): whole bytes, or a number with a binary
 * unit `K`, `M`, `G`, `T` (also written `KiB`, `MiB`, `GiB`, `TiB`): `512M`, `1.5G`, `2GiB`.
 *
 * @module
 */
import { InputError, type SourceLocation } from "../errors.ts";

/**
 * The smallest memory limit: 128 MiB. A child ays with its worker uses about 57 MiB before the
 * action loads (measured, docs/runs.md "Memory limits"): a smaller limit would fail every job.
 */
export const MIN_MEMORY_LIMIT = 128 * 1024 * 1024;

/** The memory limit of a job with `isolation: process` when none is given: 1 GiB. */
export const DEFAULT_MEMORY_LIMIT = 1024 * 1024 * 1024;

/** Options of {@link parseMemorySize}. */
export interface ParseMemorySizeOptions {
  /** Where the size is written; put on the error. */
  location?: SourceLocation;
  /** What the size is for, e.g. `actions.build.memory`; starts the error message. */
  what?: string;
}

const UNIT_BYTES: Readonly<Record<string, number>> = {
  "": 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
};

const SIZE_RE = /^(\d+(?:\.\d+)?)\s*(?:([kmgt])(?:ib)?)?$/i;

/**
 * Bytes from `536870912`, `"512M"`, `"512MiB"`, `"1.5G"` (whole bytes, rounded down), at
 * least {@link MIN_MEMORY_LIMIT}. Throws {@link InputError} naming the bad text otherwise:
 * negative or fractional byte counts, unknown units (`512MB` is refused: write `512M`),
 * sizes below 128 MiB.
 */
export function parseMemorySize(
  input: string | number,
  options: ParseMemorySizeOptions = {},
): number {
  const prefix = options.what ? `${options.what}: ` : "";
  const fail = (why: string): never => {
    throw new InputError(`${prefix}bad memory size ${JSON.stringify(input)}: ${why}`, {
      location: options.location,
    });
  };
  const syntax = "expected bytes or a number with K, M, G or T (1024-based), e.g. 512M, 2G";
  let bytes: number;
  if (typeof input === "number") {
    if (!Number.isSafeInteger(input) || input < 0) fail(syntax);
    bytes = input;
  } else if (typeof input === "string") {
    const match = SIZE_RE.exec(input.trim());
    if (!match) return fail(syntax);
    const unit = UNIT_BYTES[(match[2] ?? "").toLowerCase()];
    if (unit === 1 && match[1].includes(".")) fail(syntax);
    bytes = Math.floor(Number(match[1]) * unit);
    if (!Number.isSafeInteger(bytes)) fail("too large");
  } else {
    return fail(syntax);
  }
  if (bytes < MIN_MEMORY_LIMIT) fail("must be at least 128M");
  return bytes;
}

/** `1G`, `512M`, `1536M`, `70000000`: a size as {@link parseMemorySize} reads it back. */
export function formatMemorySize(bytes: number): string {
  for (const [unit, size] of [["T", 1024 ** 4], ["G", 1024 ** 3], ["M", 1024 ** 2]] as const) {
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}
