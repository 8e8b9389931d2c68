/**
 * The remote side of a job runner: what the host of the job workers uses to carry out their
 * requests on targets (docs/job_protocol.md, `remote`). It owns the run's SSH connections, made
 * on the first request, and closes them — masters ended, key files removed — on `close()`.
 *
 * @module
 */
import {
  type RemoteContext,
  type RemoteReply,
  type RemoteRequest,
  RemoteRunner,
} from "./remote.ts";
import { SshConnections, type SshConnectionsOptions } from "./ssh_connections.ts";

/** Options of {@link RemoteExecutors}: those of the run's {@link SshConnections}. */
export type RemoteExecutorsOptions = SshConnectionsOptions;

/** Carries out job workers' requests on targets; one per run (or per pool). */
export class RemoteExecutors {
  readonly #options: RemoteExecutorsOptions;
  #connections: SshConnections | null = null;
  #runner: RemoteRunner | null = null;

  constructor(options: RemoteExecutorsOptions = {}) {
    this.#options = options;
  }

  /** Carries out one request (see {@link RemoteRunner.run}). */
  run(request: RemoteRequest, context: RemoteContext = {}): Promise<RemoteReply> {
    if (!this.#runner) {
      this.#connections = new SshConnections(this.#options);
      this.#runner = new RemoteRunner(this.#connections);
    }
    return this.#runner.run(request, context);
  }

  /** Ends the connections (after any remote kill still running) and removes their folder. */
  async close(): Promise<void> {
    const connections = this.#connections;
    this.#connections = null;
    this.#runner = null;
    await connections?.close();
  }
}
