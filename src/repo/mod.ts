/**
 * Repositories on disk (docs/repositories.md): making, finding and opening them, their config, the registry
 * behind `ays repos`, the actor templates they hold, and importing a v8.1 checkout.
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
export * from "./v81_import.ts";
export * from "./update.ts";
