/**
 * The model of an ays repository (docs/repositories.md, docs/blueprints.md): the records of actors, services, runs and jobs,
 * service names, HRD field types, data validation, action scheduling, deletion planning,
 * secrets and the views that `ays list`/`ays show` print.
 *
 * @module
 */
export type { ConsumeSpec, FieldSpec, HrdType } from "./field_spec.ts";
export { type DeleteOptions, type DeletePlan, planDelete } from "./delete.ts";
export {
  defaultValue,
  type FieldTags,
  HRD_TYPES,
  hrdTypeOf,
  isIntegerType,
  isNumericType,
  isTextType,
  newFieldSpec,
  resolveField,
  zeroValue,
  zeroValueOfType,
} from "./fields.ts";
export {
  camelCase,
  ownValue,
  parseServiceName,
  roleEndOf,
  roleOf,
  serviceKey,
  serviceName,
} from "./names.ts";
export {
  compileNameRegex,
  type CompileRegexOptions,
  isLifecycleAction,
  LIFECYCLE_ACTIONS,
  LIFECYCLE_RESETS,
  markSatisfied,
  newActionRecord,
  type NotScheduledReason,
  onActionSucceeded,
  scheduleAction,
  type ScheduleOptions,
  type ScheduleOutcome,
  scheduleServices,
  type ScheduleServicesOptions,
  type ScheduleServicesResult,
  type ServiceFilter,
  type ServiceMatcher,
  serviceMatcher,
  serviceState,
} from "./schedule.ts";
export { maskJson, maskText, secretValues } from "./secrets.ts";
export {
  ACTION_STATES,
  type ActionRecord,
  type ActionSettings,
  type ActionState,
  type ActorConfig,
  type ActorRecord,
  DEFAULT_ACTIONS,
  DEFAULT_DEPS,
  type EventFilter,
  type JobRecord,
  type JobState,
  type PlannedJob,
  type RecurringSpec,
  type RunRecord,
  type RunState,
  type ServiceRecord,
  type ServiceState,
  type ServiceSummary,
} from "./types.ts";
export {
  checkFieldValue,
  type FieldCheck,
  fieldSchema,
  isIpAddress,
  isoToEpochSeconds,
  maskSecrets,
  validateData,
  type ValidateOptions,
} from "./validate.ts";
export { fromStorable, toStorable } from "./storable.ts";
export {
  type ActionView,
  flatProducers,
  listEntry,
  MASK,
  maskedData,
  type ServiceListEntry,
  type ServiceShowEntry,
  showEntry,
  type ShowOptions,
  sortServices,
} from "./views.ts";
export { didYouMean, editDistance, nearestName } from "./suggest.ts";
export { type CheckFilterOptions, checkServiceFilter, filterNeedsActors } from "./filter_check.ts";
export { prerequisitesOf, recurringPause, runsJob } from "./recurring_pause.ts";
