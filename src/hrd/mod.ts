/**
 * HRD: the text format of v8.1's `schema.hrd` and `actor.hrd`, the schema and actor readers,
 * `actor.yaml`, and the period syntax (docs/hrd.md).
 *
 * @module
 */
export {
  type HrdEntry,
  type HrdItem,
  hrdLocation,
  type HrdPair,
  type HrdReadOptions,
  type HrdSpan,
  readHrd,
  splitHrdDict,
  splitHrdList,
  splitHrdText,
  splitHrdTokens,
  unquote,
} from "./hrd.ts";
export { readSchemaHrd, type SchemaHrd } from "./schema_hrd.ts";
export { emptyActorConfig, readActorHrd, readActorYaml } from "./actor_config.ts";
export { formatPeriod, parsePeriod, type ParsePeriodOptions } from "./period.ts";
export {
  DEFAULT_MEMORY_LIMIT,
  formatMemorySize,
  MIN_MEMORY_LIMIT,
  parseMemorySize,
  type ParseMemorySizeOptions,
} from "./memory_size.ts";
