/**
 * The fleet (docs/fleet.md): jobs of runs executed by `ays worker`s on many servers, through
 * BullMQ queues on the shared Redis. {@link FleetRunner} is the coordinator's job runner,
 * {@link FleetWorker} the worker; routing, payloads, the registry and template trees are
 * their parts.
 *
 * @module
 */
export {
  actionsLoader,
  resolveFleetExecutor,
  type ResolveFleetExecutorOptions,
} from "./fleet_executor.ts";
export { fleetConnection, type FleetConnectionOptions, fleetSettings } from "./connection.ts";
export {
  checkLabel,
  DEFAULT_LABEL,
  FLEET_PREFIX,
  LABEL_PATTERN,
  queueName,
  WORKERS_KEY,
} from "./names.ts";
export {
  decodePayload,
  encodePayload,
  type FleetJobData,
  type FleetPayload,
  PAYLOAD_VERSION,
  RefusedJobError,
  signPayload,
} from "./payload.ts";
export {
  HEARTBEAT_MS,
  type ListedWorker,
  listWorkers,
  type ListWorkersOptions,
  servesLabel,
  WORKER_TTL_MS,
  type WorkerInfo,
} from "./registry.ts";
export {
  checkPresence,
  type CheckPresenceOptions,
  PRESENCE_CHECK_MS,
  type PresenceChange,
  type PresenceWatch,
  presentKey,
  watchPresence,
  type WatchPresenceOptions,
} from "./presence.ts";
export { labelOf, type Router, storeRouter } from "./routing.ts";
export {
  DEFAULT_FLEET_SIZE,
  DEFAULT_WORKER_TIMEOUT_MS,
  FleetRunner,
  type FleetRunnerOptions,
} from "./runner.ts";
export {
  cacheTree,
  MAX_TREE_BYTES,
  readTemplateTree,
  type TemplateTree,
  treeHash,
} from "./template_tree.ts";
export { FleetWorker, type FleetWorkerEvent, type FleetWorkerOptions } from "./worker.ts";
export { type WorkerView, workerView } from "./worker_view.ts";
export { type ControlMessage, type FleetResult, parseResult, type ProgressData } from "./wire.ts";
