/**
 * The command-line interface: parses arguments, calls the core, renders. It never exits the
 * process itself; {@link runCli} returns the exit code and `src/main.ts` exits with it.
 *
 * @module
 */
import { Command, CommanderError } from "@commander-js/extra-typings";
import { AysError, ExitCode, formatLocated } from "../errors.ts";
import { excerptFor } from "./excerpt.ts";
import { CorruptRecordError } from "../store/mod.ts";
import { VERSION } from "../version.ts";
import type { CliContext } from "./context.ts";
import { addGlobalOptions } from "./global_options.ts";
import type { CliIo } from "./io.ts";

export { captureIo, processIo } from "./io.ts";
export type { CapturedIo, CliIo, ProcessIo } from "./io.ts";

/** Adds one module's commands to the program. */
type Register = (program: Command, ctx: CliContext) => void;

/**
 * Every command module, in the order `ays --help` lists them, with the command names (and
 * aliases) it adds. Loading: a module is imported only when its command runs — loading every
 * command, with the run engine, the blueprint reader and the daemon, cost `ays list` on three
 * services most of its time (docs/benchmarks.md). The compiled binary bundles each dynamic
 * import of a static path as a chunk of its own.
 */
export const COMMAND_MODULES: readonly {
  names: readonly string[];
  load: () => Promise<Register>;
}[] = [
  { names: ["doctor"], load: async () => (await import("./doctor.ts")).registerDoctor },
  {
    names: ["completions"],
    load: async () => (await import("./completions.ts")).registerCompletions,
  },
  { names: ["init", "create_repo"], load: async () => (await import("./init.ts")).registerInit },
  { names: ["repos"], load: async () => (await import("./repos.ts")).registerRepos },
  { names: ["restore"], load: async () => (await import("./restore.ts")).registerRestore },
  { names: ["noexec"], load: async () => (await import("./noexec.ts")).registerNoexec },
  { names: ["schema"], load: async () => (await import("./schema.ts")).registerSchema },
  { names: ["types"], load: async () => (await import("./types.ts")).registerTypes },
  { names: ["run"], load: async () => (await import("./run.ts")).registerRun },
  { names: ["runs"], load: async () => (await import("./runs.ts")).registerRuns },
  { names: ["watch"], load: async () => (await import("./watch.ts")).registerWatch },
  { names: ["jobs"], load: async () => (await import("./jobs.ts")).registerJobs },
  {
    names: ["simulate", "plan"],
    load: async () => (await import("./simulate.ts")).registerSimulate,
  },
  { names: ["do", "install"], load: async () => (await import("./do.ts")).registerDo },
  { names: ["daemon", "start"], load: async () => (await import("./daemon.ts")).registerDaemon },
  { names: ["worker"], load: async () => (await import("./worker.ts")).registerWorker },
  { names: ["workers"], load: async () => (await import("./workers.ts")).registerWorkers },
  { names: ["blueprint"], load: async () => (await import("./blueprint.ts")).registerBlueprint },
  { names: ["validate"], load: async () => (await import("./validate.ts")).registerValidate },
  { names: ["list"], load: async () => (await import("./list.ts")).registerList },
  { names: ["show"], load: async () => (await import("./show.ts")).registerShow },
  { names: ["state"], load: async () => (await import("./state.ts")).registerState },
  { names: ["set_state"], load: async () => (await import("./set_state.ts")).registerSetState },
  { names: ["delete"], load: async () => (await import("./delete.ts")).registerDelete },
  { names: ["destroy"], load: async () => (await import("./destroy.ts")).registerDestroy },
  { names: ["update"], load: async () => (await import("./update.ts")).registerUpdate },
];

/** Global options that take a value (`--repo PATH`, `--store URL`). */
const VALUE_OPTIONS = new Set(["--repo", "--store"]);
/** Global options without a value. */
const FLAG_OPTIONS = new Set(["--json", "-q", "--quiet", "--no-color"]);

/**
 * The command `argv` runs, when it can be told for sure: the first word after the global
 * options. Undefined for anything else (`--help`, `help`, a typo, an unknown option), which
 * needs every command (for the help, or commander's suggestion), as `completions` does.
 */
export function commandOf(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (VALUE_OPTIONS.has(word)) {
      i++;
      continue;
    }
    if (FLAG_OPTIONS.has(word) || [...VALUE_OPTIONS].some((o) => word.startsWith(`${o}=`))) {
      continue;
    }
    // `completions` describes every command, so it needs them all.
    if (word.startsWith("-") || word === "completions") return undefined;
    return COMMAND_MODULES.some((m) => m.names.includes(word)) ? word : undefined;
  }
  return undefined;
}

/** Options of {@link buildProgram}. */
export interface BuildProgramOptions {
  /** Load and add only the module of this command (default: every command). */
  command?: string;
}

/** Builds the `ays` program with every command (or only `options.command`'s), writing to `ctx.io`. */
export async function buildProgram(
  ctx: CliContext,
  options: BuildProgramOptions = {},
): Promise<Command> {
  const { command } = options;
  const program = new Command("ays")
    .description("AtYourService: declarative service-lifecycle orchestrator")
    .version(VERSION, "-V, --version", "print the ays version")
    .exitOverride()
    .showSuggestionAfterError()
    // docs/cli.md: every command takes the global options; its help should say so.
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({
      writeOut: (text) => ctx.io.stdout(text),
      writeErr: (text) => ctx.io.stderr(text),
    });
  // Subcommands copy the exit override and output settings when they are created, so these
  // must be set before any command is registered.
  addGlobalOptions(program);
  const modules = command === undefined
    ? COMMAND_MODULES
    : COMMAND_MODULES.filter((m) => m.names.includes(command));
  if (modules.length === 0) throw new Error(`buildProgram: no command ${command}`);
  // Imported together, added in order.
  const registers = await Promise.all(modules.map((m) => m.load()));
  for (const register of registers) register(program, ctx);
  return program;
}

/** Runs `ays` with `argv` (without the executable and script) and returns the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const ctx: CliContext = { io, exitCode: ExitCode.ok };
  try {
    const program = await buildProgram(ctx, { command: commandOf(argv) });
    await program.parseAsync(argv, { from: "user" });
    return ctx.exitCode;
  } catch (error) {
    return reportError(error, io);
  }
}

/** What a command that met a corrupted record can do next (docs/store.md). */
function corruptHint(error: CorruptRecordError): string {
  const restore = "'ays restore' rebuilds the store's actors and services from the mirror";
  if (!error.isService) return `ays: ${restore} (docs/store.md)\n`;
  return "ays: 'ays list' names the service of a corrupted record; " +
    `'ays delete ROLE!INSTANCE --yes' removes it, ${restore} (docs/store.md)\n`;
}

/** Prints an error the way users see it and maps it to an exit code. */
function reportError(error: unknown, io: CliIo): number {
  if (error instanceof CommanderError) {
    // Help and version end through the override too; they are successes.
    if (
      error.code === "commander.helpDisplayed" || error.code === "commander.version" ||
      error.code === "commander.help"
    ) {
      return ExitCode.ok;
    }
    // commander has already printed its message; usage errors are bad input (docs/cli.md).
    return ExitCode.badInput;
  }
  if (error instanceof AysError) {
    io.stderr(`ays: ${formatLocated(error.message, error.location)}\n`);
    io.stderr(excerptFor(error.location, io.cwd));
    if (error instanceof CorruptRecordError) io.stderr(corruptHint(error));
    return error.exitCode;
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  io.stderr(`ays: internal error: ${message}\n`);
  return ExitCode.failed;
}
