/**
 * `ays types`: prints the TypeScript declarations of the job API (`Job` and friends) so
 * editors can check actions files: `ays types > ays.d.ts`.
 *
 * @module
 */
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { JOB_TYPES_DTS } from "../run/mod.ts";
import type { CliContext } from "./context.ts";

/** Adds `ays types` to the program. */
export function registerTypes(program: CommandUnknownOpts, ctx: CliContext): void {
  program
    .command("types")
    .description("print the TypeScript declarations of the job API (Job and friends)")
    .action(() => {
      ctx.io.stdout(JOB_TYPES_DTS);
    });
}
