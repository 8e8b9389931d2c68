/**
 * Errors that carry the process exit code of docs/cli.md, so the CLI can map any failure
 * from the core to the right code without knowing where it came from.
 *
 * @module
 */

/** Exit codes of docs/cli.md. */
export const ExitCode = {
  ok: 0,
  failed: 1,
  badInput: 2,
  locked: 3,
  unavailable: 4,
  interrupted: 130,
} as const;

/** One of the exit codes of {@link ExitCode}. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** A position in a source file; line and column count from 1. */
export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
}

/** Options of {@link AysError}. */
export interface AysErrorOptions {
  /** Where in which file the problem is. */
  location?: SourceLocation;
  /** The underlying error. */
  cause?: unknown;
}

/** An error the user can act on; `exitCode` says how the CLI ends. */
export class AysError extends Error {
  /** The process exit code this error maps to. */
  readonly exitCode: ExitCodeValue;
  /** Where the problem is, when it is in a file. */
  readonly location?: SourceLocation;

  constructor(message: string, exitCode: ExitCodeValue, options: AysErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = "AysError";
    this.exitCode = exitCode;
    this.location = options.location;
  }
}

/** Bad input: usage, blueprint, schema, unknown service or run, cycle (exit 2). */
export class InputError extends AysError {
  constructor(message: string, options: AysErrorOptions = {}) {
    super(message, ExitCode.badInput, options);
    this.name = "InputError";
  }
}

/** A store, port or other resource is unavailable (exit 4). */
export class UnavailableError extends AysError {
  constructor(message: string, options: AysErrorOptions = {}) {
    super(message, ExitCode.unavailable, options);
    this.name = "UnavailableError";
  }
}

/** The repository is locked by another writer (exit 3). */
export class LockedError extends AysError {
  constructor(message: string, options: AysErrorOptions = {}) {
    super(message, ExitCode.locked, options);
    this.name = "LockedError";
  }
}

/** Formats `file:line:column: message`, leaving out the parts that are unknown. */
export function formatLocated(message: string, location?: SourceLocation): string {
  if (!location) return message;
  let where = location.file;
  if (location.line !== undefined) {
    where += `:${location.line}`;
    if (location.column !== undefined) where += `:${location.column}`;
  }
  return `${where}: ${message}`;
}
