/**
 * Blueprints (docs/blueprints.md): reading them with positions, the files of a repository, and applying a
 * unit of them to services as a change set, with the `input(ctx)` hooks of their actors.
 *
 * @module
 */
export * from "./actions_check.ts";
export * from "./apply.ts";
export * from "./files.ts";
export * from "./import_error.ts";
export * from "./input_hook.ts";
export * from "./input_types.ts";
export * from "./read.ts";
export * from "./resolve.ts";
export * from "./summary.ts";
export * from "./validate.ts";
export {
  type BlueprintDiff,
  blueprintDiff,
  type DiffOptions,
  renderDiff,
  type RenderDiffOptions,
} from "./diff.ts";
