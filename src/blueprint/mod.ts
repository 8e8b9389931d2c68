/**
 * Blueprints (docs/blueprints.md): reading them with positions, the files of a repository, and applying a
 * unit of them to services as a change set.
 *
 * @module
 */
export * from "./apply.ts";
export * from "./files.ts";
export * from "./read.ts";
export * from "./resolve.ts";
export * from "./summary.ts";
