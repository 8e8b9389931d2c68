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

/** The io of the real process. */
export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    isTTY: Boolean(process.stderr.isTTY),
    env: process.env,
    cwd: process.cwd(),
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
