/**
 * The table of command modules and the command an `argv` runs: what both the fast path and
 * commander's program need, without loading commander (its types only).
 *
 * @module
 */
import type { Command } from "@commander-js/extra-typings";
import type { CliContext } from "./context.ts";

/** Adds one module's commands to the program. */
export type Register = (program: Command, ctx: CliContext) => void;

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
