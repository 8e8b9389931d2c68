/**
 * The `ays` executable: runs the CLI on the process's arguments and exits with its code.
 *
 * @module
 */
import { processIo, runCli } from "./cli/mod.ts";
import { exitProcess } from "./runtime.ts";

if (import.meta.main) {
  const code = await runCli(process.argv.slice(2), processIo());
  exitProcess(code);
}
