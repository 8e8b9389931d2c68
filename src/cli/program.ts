/**
 * The `ays` program as commander builds it: every command (or the one `argv` names), its help
 * texts, its usage errors and suggestions. Loaded only when {@link runCli} of `mod.ts` cannot
 * run the command without it (`fast_path.ts`): commander and what it imports cost more than
 * the runtime's start-up (docs/benchmarks.md, "startup").
 *
 * @module
 */
import { Command, CommanderError } from "@commander-js/extra-typings";
import { ExitCode } from "../errors.ts";
import { VERSION } from "../version.ts";
import type { CliContext } from "./context.ts";
import { addGlobalOptions } from "./global_options.ts";
import { COMMAND_MODULES, commandOf } from "./commands.ts";

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

/**
 * Parses `argv` with commander and runs the command it names, leaving its exit code in
 * `ctx.exitCode`. commander's own ends are mapped here: help and version are successes, a
 * usage error (already printed by commander) is bad input (docs/cli.md). Any other error is
 * thrown to the caller.
 */
export async function runProgram(argv: readonly string[], ctx: CliContext): Promise<void> {
  try {
    const program = await buildProgram(ctx, { command: commandOf(argv) });
    await program.parseAsync([...argv], { from: "user" });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    const ok = error.code === "commander.helpDisplayed" || error.code === "commander.version" ||
      error.code === "commander.help";
    ctx.exitCode = ok ? ExitCode.ok : ExitCode.badInput;
  }
}
