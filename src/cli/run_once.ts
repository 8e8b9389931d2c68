/**
 * Which commands run with JavaScriptCore's optimizing tier off (docs/development.md,
 * "JavaScriptCore's options"), and how the command is found in the arguments before the CLI is
 * loaded.
 *
 * @module
 */
import { GLOBAL_OPTIONS } from "./global_options.ts";

/**
 * The environment `ays blueprint` and `ays run` restart with in the compiled binary: without
 * the FTL, the last of JavaScriptCore's tiers, whose compiler thread spent 350–530 ms of CPU on
 * an apply of 10,000 services and 310–400 ms on a run of 2,000 no-op jobs, more than its faster
 * code gave back to a command that runs once (docs/benchmarks.md, "apply, fourth pass" and
 * "Run path, fifth pass").
 */
export const RUN_ONCE_ENV: Readonly<Record<string, string>> = {
  BUN_JSC_useFTLJIT: "0",
  // Marks the restarted process, so that it takes the variables back out (see dropRunOnceEnv).
  AYS_RUN_ONCE_RESTARTED: "1",
};

/**
 * In a process restarted with {@link RUN_ONCE_ENV}: removes its variables from `env`.
 * JavaScriptCore has read its options by then, and the processes the jobs and hooks start (a
 * service's own Bun program, say) should run as they would without ays. A variable the user set
 * is left alone: without the marker, nothing is removed.
 *
 * @example
 * ```ts
 * dropRunOnceEnv(process.env);
 * ```
 */
export function dropRunOnceEnv(env: Record<string, string | undefined>): void {
  if (env.AYS_RUN_ONCE_RESTARTED !== "1") return;
  for (const name of Object.keys(RUN_ONCE_ENV)) delete env[name];
}

/** The commands that restart with {@link RUN_ONCE_ENV}. */
const RUN_ONCE_COMMANDS: ReadonlySet<string> = new Set(["blueprint", "run"]);

/** The global options that take a value (`--repo <path>`), by each of their names. */
const VALUE_OPTIONS: ReadonlySet<string> = new Set(
  GLOBAL_OPTIONS.filter(([flags]) => flags.includes("<")).flatMap(([flags]) =>
    flags.split(/[ ,]+/).filter((part) => part.startsWith("-"))
  ),
);

/**
 * The command `argv` names: its first argument that is neither a global option nor the value
 * of one (`--store URL`; `--store=URL` is one argument). Undefined when there is none.
 */
export function commandName(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") return argv[i + 1];
    if (!arg.startsWith("-")) return arg;
    if (VALUE_OPTIONS.has(arg)) i++;
  }
  return undefined;
}

/** Whether the command `argv` names restarts with {@link RUN_ONCE_ENV}. */
export function runsOnce(argv: readonly string[]): boolean {
  const name = commandName(argv);
  return name !== undefined && RUN_ONCE_COMMANDS.has(name);
}
