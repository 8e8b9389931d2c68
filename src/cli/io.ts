/**
 * Where the CLI writes, so commands can be run in-process by tests and by the binary alike.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { writeAllSync } from "../runtime.ts";

/** Output sinks and environment of one CLI invocation. */
export interface CliIo {
  /** The command's result: data, schemas, JSON. */
  stdout(text: string): void;
  /** Warnings, progress and errors. */
  stderr(text: string): void;
  /** Whether standard error is a terminal (live progress, colour). */
  isTTY: boolean;
  /** The environment variables ays reads (`AYS_*`, `NO_COLOR`, `XDG_CONFIG_HOME`, …). */
  env: Record<string, string | undefined>;
  /** Current working directory for repository discovery. */
  cwd: string;
}

/** The io of the real process, which can wait until its output has been written. */
export interface ProcessIo extends CliIo {
  /**
   * Resolves once everything written to stdout and stderr has reached the reader, or the
   * reader has gone away. Exiting before that cuts off what a slow pipe has not read yet.
   */
  flush(): Promise<void>;
}

/**
 * The io of the real process. Output is written to the file descriptors directly and
 * synchronously (`writeAllSync`): a command's output is complete when the command returns,
 * also on a slow pipe or a non-blocking one, and the process streams (whose first touch alone
 * costs `ays list` more than the runtime's start-up, docs/benchmarks.md) are not made at all. A
 * reader that closes early (EPIPE, as `ays list | head` does) is not an error: what is left to
 * write is dropped, quietly, and the command ends with its own exit code (docs/cli.md,
 * "Conventions").
 */
export function processIo(): ProcessIo {
  const stdout = fdSink(1);
  const stderr = fdSink(2);
  return {
    stdout,
    stderr,
    // Every write has been made when it returned.
    flush: () => Promise.resolve(),
    // Asked only by commands that draw progress or colour: touching process.stderr is costly.
    get isTTY() {
      return Boolean(process.stderr.isTTY);
    },
    env: process.env,
    cwd: process.cwd(),
  };
}

/** A writer to standard output or error that drops everything once the reader has gone. */
function fdSink(fd: 1 | 2): (text: string) => void {
  let gone = false;
  return (text) => {
    if (gone || text.length === 0) return;
    gone = !writeAllSync(fd, Buffer.from(text, "utf8"));
  };
}

/** An io that records everything written, for tests. */
export interface CapturedIo extends CliIo {
  /** Everything written to stdout so far. */
  readonly out: string[];
  /** Everything written to stderr so far. */
  readonly err: string[];
}

/** Makes an io that keeps what is written instead of printing it. */
export function captureIo(options: Partial<Pick<CliIo, "env" | "cwd" | "isTTY">> = {}): CapturedIo {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (text) => void out.push(text),
    stderr: (text) => void err.push(text),
    isTTY: options.isTTY ?? false,
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
  };
}
