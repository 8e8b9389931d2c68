/**
 * `ays doctor`: checks that this copy of ays can do what it needs to (start a job worker).
 *
 * @module
 */
import type { Command, CommandUnknownOpts } from "@commander-js/extra-typings";
import { packaging, runtimeName } from "../runtime.ts";
import { probeWorker } from "../run/mod.ts";
import { VERSION } from "../version.ts";
import type { CliContext } from "./context.ts";
import { globalsOf } from "./global_options.ts";
import { printJson } from "./session.ts";

/** Adds `ays doctor` to the program. */
export function registerDoctor(program: CommandUnknownOpts, ctx: CliContext): void {
  program
    .command("doctor")
    .description("check that ays works here: runtime, packaging, a job worker starts")
    .action(async (_options, command) => {
      const globals = globalsOf(command as Command, ctx.io.env);
      const probe = await probeWorker();
      const report = {
        version: VERSION,
        runtime: runtimeName(),
        packaging: packaging(),
        worker: { ok: true, runtime: probe.runtime, millis: Math.round(probe.millis) },
      };
      if (globals.json) {
        printJson(ctx, report);
      } else {
        ctx.io.stdout(
          `ays ${report.version} (${report.runtime}, ${report.packaging})\n` +
            `worker: ok in ${report.worker.millis} ms\n`,
        );
      }
    });
}
