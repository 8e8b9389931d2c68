/**
 * The hot commands without commander: `ays list` and `ays run` with the options they and the
 * global options declare, in the forms commander reads (`--flag`, `--opt value`,
 * `--opt=value`, `-x value`), are parsed here and run by the same code commander's actions
 * call. Anything else — help, version, an unknown or misplaced option, a missing value, a
 * value that looks like an option, bundled short flags, `--`, an argument — is left to
 * commander (`program.ts`), so help texts and usage errors are exactly its own. Loading
 * commander, and what it imports, cost `ays list` about a quarter of its time
 * (docs/benchmarks.md, "startup").
 *
 * @module
 */
import type { CliContext } from "./context.ts";
import { GLOBAL_OPTIONS, type GlobalOptions, globalsFrom } from "./global_options.ts";

/** Option values as commander gives them: a string per value option, true per flag. */
export type FastValues = Readonly<Record<string, string | boolean>>;

/** A command the fast path can run. */
export interface FastCommand {
  /** Its options, as declared to commander (`"-r, --role <role>"`, `"--fail-fast"`). */
  options: readonly string[];
  /** Runs the command as its commander action would with these values. */
  run(ctx: CliContext, globals: GlobalOptions, values: FastValues): Promise<void>;
}

/** What {@link parseFast} read: the global options and the command's own. */
export interface FastArgs {
  globals: GlobalOptions;
  values: FastValues;
}

/** An option's names, its key in the values, and whether it takes a value or negates. */
interface OptionSpec {
  names: readonly string[];
  key: string;
  value: boolean;
  /** An optional value (`[x]`): left to commander, which tells a value from the next word. */
  optional: boolean;
  negate: boolean;
}

/** Options of {@link parseFast}. */
export interface ParseFastOptions {
  /** The environment (`NO_COLOR`). */
  env: Record<string, string | undefined>;
}

/**
 * `argv` read as the command `name` with `options`, or undefined when commander must read it
 * (see the module's doc). The command's word must come first after the global options; its
 * own options only after it, global ones anywhere, as commander takes them.
 */
export function parseFast(
  argv: readonly string[],
  command: { name: string; options: readonly string[] },
  options: ParseFastOptions,
): FastArgs | undefined {
  const { env } = options;
  const globalSpecs = GLOBAL_OPTIONS.map(([flags]) => specOf(flags));
  const commandSpecs = [...globalSpecs, ...command.options.map(specOf)];
  const globals: Record<string, string | boolean | string[]> = {};
  const values: Record<string, string | boolean> = {};
  let seen = false;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (!seen && word === command.name) {
      seen = true;
      continue;
    }
    if (word === "--" || !(word.startsWith("--") || /^-[A-Za-z]$/.test(word))) return undefined;
    const equals = word.startsWith("--") ? word.indexOf("=") : -1;
    const flag = equals < 0 ? word : word.slice(0, equals);
    const spec = (seen ? commandSpecs : globalSpecs).find((s) => s.names.includes(flag));
    if (spec === undefined || spec.optional) return undefined;
    let value: string | boolean;
    if (spec.value) {
      const given = equals < 0 ? argv[++i] : word.slice(equals + 1);
      if (given === undefined || (equals < 0 && given.startsWith("-"))) return undefined;
      value = given;
    } else {
      if (equals >= 0) return undefined;
      value = !spec.negate;
    }
    const into = globalSpecs.includes(spec) ? globals : values;
    // `--repo` is repeatable (docs/cli.md); any other option's last value counts.
    if (spec.key === "repo") {
      globals.repo = [...(globals.repo as string[] | undefined ?? []), value as string];
    } else into[spec.key] = value;
  }
  return seen ? { globals: globalsFrom(globals, env), values } : undefined;
}

/** `"-r, --role <role>"` → names `-r`, `--role`, key `role`, with a value. */
function specOf(flags: string): OptionSpec {
  const parts = flags.split(/[ ,]+/).filter((p) => p !== "");
  const names = parts.filter((p) => p.startsWith("-"));
  const long = names.find((n) => n.startsWith("--")) ?? names[0];
  const negate = long.startsWith("--no-");
  const bare = long.replace(/^-+/, "").replace(/^no-/, negate ? "" : "no-");
  const key = bare.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  const value = parts.some((p) => p.startsWith("<"));
  return { names, key, value, optional: parts.some((p) => p.startsWith("[")), negate };
}

/** A value option's text, undefined when not given. */
export function textOf(values: FastValues, key: string): string | undefined {
  const value = Object.hasOwn(values, key) ? values[key] : undefined;
  return typeof value === "string" ? value : undefined;
}

/** A flag's state: true when given. */
export function flagOf(values: FastValues, key: string): boolean {
  return Object.hasOwn(values, key) && values[key] === true;
}
