/**
 * SIGTERM and SIGINT for the long-running commands (`ays daemon`, `ays worker`): a signal that
 * arrives while the command is still starting is kept and handed to its handler once it has one,
 * so a stop asked for early is never lost nor the default (an abrupt exit).
 *
 * @module
 */
import process from "node:process";

/** The two stop signals, listened to from construction until {@link StopSignals.close}. */
export class StopSignals {
  #kept: string | null = null;
  #handler: ((signal: string) => void) | null = null;
  readonly #onTerm = () => this.#deliver("SIGTERM");
  readonly #onInt = () => this.#deliver("SIGINT");

  constructor() {
    process.on("SIGTERM", this.#onTerm);
    process.on("SIGINT", this.#onInt);
  }

  /** Hands every signal from now on to `handler`, first the one kept while starting, if any. */
  handle(handler: (signal: string) => void): void {
    this.#handler = handler;
    if (this.#kept !== null) handler(this.#kept);
  }

  /** Stops listening. */
  close(): void {
    process.off("SIGTERM", this.#onTerm);
    process.off("SIGINT", this.#onInt);
  }

  #deliver(signal: string): void {
    if (this.#handler) this.#handler(signal);
    else this.#kept ??= signal;
  }
}
