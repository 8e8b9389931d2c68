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
import { registerBlueprint } from "./blueprint.ts";
import { registerCompletions } from "./completions.ts";
import type { CliContext } from "./context.ts";
import { registerDaemon } from "./daemon.ts";
import { registerDo } from "./do.ts";
import { registerDelete } from "./delete.ts";
import { registerDestroy } from "./destroy.ts";
import { registerDoctor } from "./doctor.ts";
import { registerInit } from "./init.ts";
import { registerJobs } from "./jobs.ts";
import { registerNoexec } from "./noexec.ts";
import { registerList } from "./list.ts";
import { registerRepos } from "./repos.ts";
import { registerRestore } from "./restore.ts";
import { registerRun } from "./run.ts";
import { registerRuns } from "./runs.ts";
import { registerSchema } from "./schema.ts";
import { registerSetState } from "./set_state.ts";
import { registerSimulate } from "./simulate.ts";
import { registerShow } from "./show.ts";
import { registerState } from "./state.ts";
import { registerTypes } from "./types.ts";
import { registerUpdate } from "./update.ts";
import { registerValidate } from "./validate.ts";
import { registerWatch } from "./watch.ts";
import { addGlobalOptions } from "./global_options.ts";
import type { CliIo } from "./io.ts";

export { captureIo, processIo } from "./io.ts";
export type { CapturedIo, CliIo, ProcessIo } from "./io.ts";

/** Builds the `ays` program with every command, writing to `ctx.io`. */
export function buildProgram(ctx: CliContext): Command {
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
  registerDoctor(program, ctx);
  registerCompletions(program, ctx);
  registerInit(program, ctx);
  registerRepos(program, ctx);
  registerRestore(program, ctx);
  registerNoexec(program, ctx);
  registerSchema(program, ctx);
  registerTypes(program, ctx);
  registerRun(program, ctx);
  registerRuns(program, ctx);
  registerWatch(program, ctx);
  registerJobs(program, ctx);
  registerSimulate(program, ctx);
  registerDo(program, ctx);
  registerDaemon(program, ctx);
  registerBlueprint(program, ctx);
  registerValidate(program, ctx);
  registerList(program, ctx);
  registerShow(program, ctx);
  registerState(program, ctx);
  registerSetState(program, ctx);
  registerDelete(program, ctx);
  registerDestroy(program, ctx);
  registerUpdate(program, ctx);
  return program;
}

/** Runs `ays` with `argv` (without the executable and script) and returns the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const ctx: CliContext = { io, exitCode: ExitCode.ok };
  const program = buildProgram(ctx);
  try {
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
