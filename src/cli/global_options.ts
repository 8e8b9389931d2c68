/**
 * The options every command takes (docs/cli.md), and how to read them back in a command's action.
 *
 * @module
 */
import type { CommandUnknownOpts } from "@commander-js/extra-typings";

/** The global options after parsing. */
export interface GlobalOptions {
  /** The last `--repo` given. */
  repo?: string;
  /** Every `--repo` given, in order (`ays daemon` serves several). */
  repos: string[];
  store?: string;
  json: boolean;
  quiet: boolean;
  color: boolean;
}

/**
 * The global options, as declared to commander: flags and description. `--repo` is
 * repeatable: `ays daemon --repo A --repo B` serves both; other commands use the last.
 */
export const GLOBAL_OPTIONS: readonly (readonly [flags: string, description: string])[] = [
  ["--repo <path>", "the ays repository (default: walk up from the current folder)"],
  ["--store <url>", "store URL (sqlite path or redis://…); overrides AYS_STORE"],
  ["--json", "print data as JSON"],
  ["-q, --quiet", "print only errors"],
  ["--no-color", "no colour in output (NO_COLOR is honoured too)"],
];

/** Adds the global options to the root command; subcommands read them with {@link globalsOf}. */
export function addGlobalOptions<C extends CommandUnknownOpts>(program: C): C {
  for (const [flags, description] of GLOBAL_OPTIONS) {
    if (flags.startsWith("--repo ")) {
      program.option(
        flags,
        description,
        (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
      );
    } else program.option(flags, description);
  }
  return program;
}

/**
 * The global options as seen from any (sub)command: commander keeps them on the root, and
 * a subcommand may repeat `--json` after its own name.
 */
export function globalsOf(
  command: CommandUnknownOpts,
  env: Record<string, string | undefined>,
): GlobalOptions {
  return globalsFrom(command.optsWithGlobals(), env);
}

/**
 * The global options from their parsed values, keyed as commander keys them (`repo` the list
 * of every `--repo`, `color` false after `--no-color`).
 */
export function globalsFrom(
  merged: Readonly<Record<string, unknown>>,
  env: Record<string, string | undefined>,
): GlobalOptions {
  const repos = (merged.repo as string[] | undefined) ?? [];
  return {
    repo: repos.at(-1),
    repos,
    store: merged.store as string | undefined,
    json: Boolean(merged.json),
    quiet: Boolean(merged.quiet),
    color: merged.color !== false && !env.NO_COLOR,
  };
}
