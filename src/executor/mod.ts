/**
 * Executors (docs/executors.md): where a job's commands run — the machine ays runs on, or a
 * server over SSH through the system OpenSSH client, one master connection per host per run.
 * What an actions file's `executor(job)` may return ({@link parseExecutorSpec}), the walk up
 * the parent chain that picks a job's executor ({@link resolveExecutor}), and the run's SSH
 * connections with the job API's operations on a target ({@link RemoteExecutors}).
 *
 * @module
 */
export {
  DEFAULT_MAX_SESSIONS,
  describeExecutor,
  type ExecutorSpec,
  ExecutorSpecError,
  type HostKeyChecking,
  LOCAL,
  type LocalExecutor,
  parseExecutorSpec,
  type SshExecutor,
} from "./spec.ts";
export {
  type ExecutorLink,
  type ResolvedExecutor,
  resolveExecutor,
  type ResolveExecutorOptions,
} from "./resolve.ts";
export { classifyFailure, type ConnectFailure, SshConnectError } from "./errors.ts";
export {
  SshConnections,
  type SshConnectionsOptions,
  type SshLease,
  type SshTarget,
} from "./ssh_connections.ts";
export {
  type RemoteContext,
  type RemoteExec,
  type RemoteExecResult,
  type RemoteGet,
  type RemotePut,
  type RemoteReply,
  type RemoteRequest,
  RemoteRunner,
} from "./remote.ts";
export { RemoteExecutors, type RemoteExecutorsOptions } from "./remote_executors.ts";
export { PGID_MARKER, shQuote } from "./shell.ts";
