/**
 * What every command module gets: the io to write to and a place to leave its exit code.
 *
 * @module
 */
import type { CliIo } from "./io.ts";

/** Shared state of one CLI invocation. */
export interface CliContext {
  io: CliIo;
  /** The exit code the command wants; 0 unless it sets another. */
  exitCode: number;
}
