/**
 * The `ays` executable: runs the CLI on the process's arguments and exits with its code.
 *
 * `ays --version` is answered before the CLI and its dependencies are loaded: scripts call it
 * to probe for ays, and loading commander and every command costs several times the runtime's
 * own start-up (bench/startup.ts). So is the hidden `ays __job-worker`, the child process that
 * runs one job with `isolation: process` (`src/run/job_worker_process.ts`).
 *
 * @module
 */
import { exitProcess, restartWithEnvironment } from "./runtime.ts";
import { VERSION } from "./version.ts";

if (import.meta.main) {
  const argv = process.argv.slice(2);
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
    // No explicit exit here: nothing else is running, and process.exit() (like
    // process.stdout, whose set-up console.log avoids) alone costs more
    // than the runtime's whole start-up.
    console.log(VERSION);
  } else if (argv.length === 1 && argv[0] === "__job-worker") {
    // Hidden: the child process of a job with `isolation: process` (docs/runs.md, "Memory
    // limits"), started by ays itself. Loads the job worker only, not the CLI.
    const { serveJobWorker } = await import("./run/mod.ts");
    exitProcess(await serveJobWorker());
  } else {
    // `ays blueprint` runs faster without JavaScriptCore's last tier, an option read before any
    // code runs: the binary restarts itself with it (docs/development.md, "JavaScriptCore's
    // options"). Returns when it does not apply. Decided before the CLI is loaded, which the
    // process that restarts would load for nothing (4–6 ms of an `ays run`).
    const { dropRunOnceEnv, RUN_ONCE_ENV, runsOnce } = await import("./cli/run_once.ts");
    if (runsOnce(argv)) restartWithEnvironment(RUN_ONCE_ENV);
    dropRunOnceEnv(process.env);
    const { processIo, runCli } = await import("./cli/mod.ts");
    const io = processIo();
    const code = await runCli(argv, io);
    await io.flush();
    exitProcess(code);
  }
}
