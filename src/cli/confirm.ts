/**
 * Confirmation of destructive commands (docs/cli.md): ays never prompts unless `--ask` is given on
 * a terminal; otherwise `delete` and `destroy` need `--yes`.
 *
 * @module
 */
import process from "node:process";
import { InputError } from "../errors.ts";
import type { CliIo } from "./io.ts";

/** Options of {@link confirm}. */
export interface ConfirmOptions {
  yes?: boolean;
  ask?: boolean;
}

/**
 * Returns when the user confirmed `what` (`--yes`, or `y` to the `--ask` question on a
 * terminal); false when they answered no. Without either it is an {@link InputError} (exit 2)
 * that explains `--yes`.
 */
export async function confirm(
  io: CliIo,
  what: string,
  options: ConfirmOptions,
): Promise<boolean> {
  if (options.yes) return true;
  if (options.ask && io.isTTY && process.stdin.isTTY) {
    // Loaded only when asking: every other command would pay for the module.
    const { createInterface } = await import("node:readline/promises");
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const answer = await rl.question(`${what}? [y/N] `);
      return /^y(es)?$/i.test(answer.trim());
    } finally {
      rl.close();
    }
  }
  throw new InputError(
    `${what}: add --yes to confirm (or --ask to be asked on a terminal); nothing was changed`,
  );
}
