/**
 * The daemon (docs/daemon.md): HTTP API, recurring actions, run queue, log and status. The CLI's
 * `ays daemon` wires {@link startDaemon} to the store and the run engine through the interfaces
 * of `backend.ts`.
 *
 * @module
 */
export * from "./backend.ts";
export * from "./daemon.ts";
export * from "./http.ts";
export * from "./listen.ts";
export * from "./logger.ts";
export * from "./recurring.ts";
export * from "./run_queue.ts";
export * from "./settings.ts";
export * from "./store_backend.ts";
export * from "./store_queue.ts";
export * from "./store_status.ts";
