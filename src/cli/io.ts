/**
 * Where the CLI writes, so commands can be run in-process by tests and by the binary alike.
 *
 * @module
 */

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
 * The io of the real process. Output to a pipe is written asynchronously (Bun queues what the
 * pipe cannot take yet), so the process must {@link ProcessIo.flush} before it exits. A reader
 * that closes early (EPIPE, as `ays list | head` does) is not an error: what is left to write
 * is dropped, quietly, and the command ends with its own exit code (docs/cli.md, "Conventions").
 */
export function processIo(): ProcessIo {
  const stdout = streamSink(process.stdout);
  const stderr = streamSink(process.stderr);
  return {
    stdout: stdout.write,
    stderr: stderr.write,
    flush: async () => {
      await Promise.all([stdout.flushed(), stderr.flushed()]);
    },
    isTTY: Boolean(process.stderr.isTTY),
    env: process.env,
    cwd: process.cwd(),
  };
}

/** The part of a process stream a sink uses. */
interface OutputStream {
  write(text: string): boolean;
  on(event: "drain" | "error" | "close", listener: () => void): unknown;
}

/** A stream's writer that remembers whether data is still queued, and survives EPIPE. */
function streamSink(stream: OutputStream): { write(text: string): void; flushed(): Promise<void> } {
  let queued = false;
  let gone = false;
  let waiters: (() => void)[] = [];
  const settle = () => {
    const ready = waiters;
    waiters = [];
    for (const resolve of ready) resolve();
  };
  // 'drain' comes once everything queued has been written; the stream keeps the order.
  stream.on("drain", () => {
    queued = false;
    settle();
  });
  const end = () => {
    gone = true;
    settle();
  };
  // Without this listener an EPIPE would be an uncaught error with a stack trace.
  stream.on("error", end);
  stream.on("close", end);
  return {
    write: (text) => {
      if (gone || text === "") return;
      if (!stream.write(text)) queued = true;
    },
    flushed: () => {
      if (!queued || gone) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
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
