/**
 * The command-line interface: parses arguments, calls the core, renders. It never exits the
 * process itself; {@link runCli} returns the exit code and `src/main.ts` exits with it.
 *
 * Loading: commander (`program.ts`) is loaded only for what the fast path (`fast_path.ts`) leaves
 * to it, and a command's module only when it runs (`commands.ts`).
 *
 * @module
 */
import { AysError, ExitCode, formatLocated } from "../errors.ts";
import { excerptFor } from "./excerpt.ts";
import { CorruptRecordError } from "../store/mod.ts";
import { commandOf } from "./commands.ts";
import type { CliContext } from "./context.ts";
import { type FastCommand, parseFast } from "./fast_path.ts";
import type { CliIo } from "./io.ts";

export { captureIo, processIo } from "./io.ts";
export type { CapturedIo, CliIo, ProcessIo } from "./io.ts";
export { COMMAND_MODULES, commandOf } from "./commands.ts";
export { dropRunOnceEnv, RUN_ONCE_ENV, runsOnce } from "./run_once.ts";
export type { Register } from "./commands.ts";

/** The commands the fast path runs, each loaded with its module. */
const FAST_COMMANDS: ReadonlyMap<string, () => Promise<FastCommand>> = new Map([
  ["list", async () => (await import("./list.ts")).LIST_FAST],
  ["run", async () => (await import("./run.ts")).RUN_FAST],
]);

/** Options of {@link runCli}. */
export interface RunCliOptions {
  /** Always parse with commander (tests compare both ways). Default false. */
  commander?: boolean;
}

/** Runs `ays` with `argv` (without the executable and script) and returns the exit code. */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
  options: RunCliOptions = {},
): Promise<number> {
  const { commander = false } = options;
  const ctx: CliContext = { io, exitCode: ExitCode.ok };
  try {
    const name = commandOf(argv);
    const load = name === undefined || commander ? undefined : FAST_COMMANDS.get(name);
    const command = load && await load();
    const fast = command && parseFast(argv, { name: name!, options: command.options }, {
      env: io.env,
    });
    if (command && fast) await command.run(ctx, fast.globals, fast.values);
    else await (await import("./program.ts")).runProgram(argv, ctx);
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
