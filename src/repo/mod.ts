/**
 * Repositories on disk (docs/repositories.md): making, finding and opening them, their config, the registry
 * behind `ays repos`, and the actor templates they hold.
 *
 * @module
 */
export * from "./actor.ts";
export * from "./config.ts";
export * from "./find.ts";
export * from "./init.ts";
export * from "./open.ts";
export * from "./registry.ts";
export * from "./sync.ts";
export * from "./templates.ts";
export * from "./update.ts";
