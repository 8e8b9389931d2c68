/**
 * Where the CLI writes, so commands can be run in-process by tests and by the binary alike.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { writeAll } from "../runtime.ts";

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
 * The io of the real process. Output is written to the file descriptors (`writeAll`), in order,
 * without blocking the event loop (a daemon or a run whose reader is slow goes on working) and
 * without the process streams, whose first touch alone cost `ays list` more than the runtime's
 * start-up (docs/benchmarks.md, "list and start-up"). What a slow or non-blocking pipe has not
 * taken yet is queued: the process must {@link ProcessIo.flush} before it exits. A reader that
 * closes early (EPIPE, as `ays list | head` does) is not an error: what is left to write is
 * dropped, quietly, and the command ends with its own exit code (docs/cli.md, "Conventions").
 */
export function processIo(): ProcessIo {
  const stdout = fdSink(1);
  const stderr = fdSink(2);
  return {
    stdout: stdout.write,
    stderr: stderr.write,
    flush: async () => {
      await Promise.all([stdout.flushed(), stderr.flushed()]);
    },
    // Asked only by commands that draw progress or colour: touching process.stderr is costly.
    get isTTY() {
      return Boolean(process.stderr.isTTY);
    },
    env: process.env,
    cwd: process.cwd(),
  };
}

/**
 * A writer to standard output or error: each write after the one before, all dropped once the
 * reader has gone (or the descriptor failed, as a stream's 'error' would end it).
 */
function fdSink(fd: 1 | 2): { write(text: string): void; flushed(): Promise<void> } {
  let gone = false;
  let tail: Promise<void> = Promise.resolve();
  return {
    write: (text) => {
      if (gone || text.length === 0) return;
      const bytes = Buffer.from(text, "utf8");
      tail = tail.then(async () => {
        if (gone) return;
        try {
          gone = !(await writeAll(fd, bytes));
        } catch {
          gone = true;
        }
      });
    },
    flushed: () => tail,
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
