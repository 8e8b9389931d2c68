/**
 * The scheduling rules of docs/blueprints.md as pure functions on {@link ServiceRecord}: they never
 * mutate their argument and return a new record (or the same one when nothing changed), so the
 * blueprint resolver, `ays do` and the executor can share them and tests need no store.
 *
 * @module
 */
import { InputError, type SourceLocation } from "../errors.ts";
import { ownValue, serviceName } from "./names.ts";
import type {
  ActionRecord,
  ActionState,
  ServiceRecord,
  ServiceState,
  ServiceSummary,
} from "./types.ts";

/** Options of {@link scheduleAction}. */
export interface ScheduleOptions {
  /** Schedule even when the action is `ok` (`--force`). */
  force?: boolean;
  /**
   * `ays do` semantics: an explicit (non-lifecycle) action is scheduled whatever its state
   * (`disabled` aside), because it runs every time it is asked for. Default false.
   */
  asked?: boolean;
}

/** Why {@link scheduleAction} left an action as it was. */
export type NotScheduledReason = "ok" | "disabled" | "unknown-action" | "already-scheduled";

/** What {@link scheduleAction} did. */
export interface ScheduleOutcome {
  /** The service after the change (the argument itself when nothing changed). */
  service: ServiceRecord;
  /** Whether `action` is now `scheduled` because of this call. */
  scheduled: boolean;
  /** Set when `action` was not (newly) scheduled. */
  reason?: NotScheduledReason;
  /** Actions of the opposite direction that were unscheduled (set back to `new`). */
  unscheduled: string[];
}

/** Actions that bring a service up; scheduling one cancels a pending teardown and vice versa. */
const UP_ACTIONS: readonly string[] = ["install", "start"];
/** Actions that take a service down. */
const DOWN_ACTIONS: readonly string[] = ["uninstall", "stop"];
/** States the planner would still act on: cancelling them is what "unschedule" means. */
const PENDING_STATES: readonly ActionState[] = ["scheduled", "changed", "error"];

/** A fresh action record in state `new`. */
export function newActionRecord(period = 0): ActionRecord {
  return { state: "new", period, lastRun: null, lastJob: null };
}

/** Copies a service deep enough that changing action records does not touch the original. */
function withActions(service: ServiceRecord): ServiceRecord {
  const actions: Record<string, ActionRecord> = {};
  for (const [name, record] of Object.entries(service.actions)) actions[name] = { ...record };
  return { ...service, actions };
}

/**
 * Schedules `action` of `service` (docs/blueprints.md): it becomes `scheduled` unless it is `ok` (then
 * only with `force`) or `disabled`. Scheduling `install` or `start` sets a pending (`scheduled`,
 * `changed` or `error`) `uninstall` or `stop` back to `new`, and vice versa — also when the
 * action itself is already `ok`, because the user's intent is then already met.
 */
export function scheduleAction(
  service: ServiceRecord,
  action: string,
  options: ScheduleOptions = {},
): ScheduleOutcome {
  const current = ownValue(service.actions, action);
  if (!current) return { service, scheduled: false, reason: "unknown-action", unscheduled: [] };
  if (current.state === "disabled") {
    return { service, scheduled: false, reason: "disabled", unscheduled: [] };
  }
  const opposite = UP_ACTIONS.includes(action)
    ? DOWN_ACTIONS
    : DOWN_ACTIONS.includes(action)
    ? UP_ACTIONS
    : [];
  const toUnschedule = opposite.filter((name) => {
    const record = ownValue(service.actions, name);
    return record !== undefined && PENDING_STATES.includes(record.state);
  });
  const force = options.force || (options.asked === true && !isLifecycleAction(action));
  let reason: NotScheduledReason | undefined;
  if (current.state === "ok" && !force) reason = "ok";
  else if (current.state === "scheduled") reason = "already-scheduled";
  if (reason !== undefined && toUnschedule.length === 0) {
    return { service, scheduled: false, reason, unscheduled: [] };
  }
  const next = withActions(service);
  for (const name of toUnschedule) next.actions[name].state = "new";
  if (reason === undefined) next.actions[action].state = "scheduled";
  return { service: next, scheduled: reason === undefined, reason, unscheduled: toUnschedule };
}

/**
 * The symmetric lifecycle (docs/runs.md, "The lifecycle is symmetric"): when the key action
 * succeeds, the listed actions go back to `new`, so every transition can happen again — a
 * second `stop` after a later `start` really stops.
 */
export const LIFECYCLE_RESETS: Readonly<Record<string, readonly string[]>> = {
  install: ["uninstall"],
  start: ["stop"],
  stop: ["start"],
  uninstall: ["install", "start", "stop"],
};

/** The lifecycle actions; every other action is explicit (runs each time `ays do` asks). */
export const LIFECYCLE_ACTIONS: readonly string[] = [
  "init",
  "install",
  "start",
  "stop",
  "uninstall",
];

/** Whether `action` is a lifecycle action (`init`, `install`, `start`, `stop`, `uninstall`). */
export function isLifecycleAction(action: string): boolean {
  return LIFECYCLE_ACTIONS.includes(action);
}

/**
 * Records that `action` succeeded: the action becomes `ok` and the actions of
 * {@link LIFECYCLE_RESETS} go back to `new` (a `disabled` or `running` one stays as it is: it
 * was switched off by hand, or another job owns it); a successful `processChange` clears
 * `changed`. The action's `args` are dropped: they were for the job that just succeeded.
 */
export function onActionSucceeded(service: ServiceRecord, action: string): ServiceRecord {
  const next = withActions(service);
  const record = next.actions[action];
  if (record) {
    record.state = "ok";
    // The arguments were for this job (e.g. processChange's changes): used up.
    delete record.args;
  }
  for (const name of LIFECYCLE_RESETS[action] ?? []) {
    const other = next.actions[name];
    if (other && other.state !== "disabled" && other.state !== "running") other.state = "new";
  }
  if (action === "processChange") next.changed = false;
  return next;
}

/**
 * Marks actions done that needed no job (default actions the actions file does not export):
 * each by {@link onActionSucceeded}, in the order given. Returns the services that changed;
 * `services` is not modified.
 */
export function markSatisfied(
  services: ReadonlyMap<string, ServiceRecord>,
  satisfied: readonly { service: string; action: string }[],
): ServiceRecord[] {
  const changed = new Map<string, ServiceRecord>();
  for (const { service, action } of satisfied) {
    const current = changed.get(service) ?? services.get(service);
    if (current === undefined || ownValue(current.actions, action) === undefined) continue;
    changed.set(service, onActionSucceeded(current, action));
  }
  return [...changed.values()];
}

/**
 * The derived state of a service for display (docs/runs.md): `error` if any action is in error,
 * else `changed` while its data changed and `processChange` is not yet `ok`, else `ok` if
 * `install` is `ok`, else `new`.
 */
export function serviceState(service: ServiceSummary): ServiceState {
  const records = Object.values(service.actions);
  if (records.some((record) => record.state === "error")) return "error";
  if (service.changed && service.actions.processChange?.state !== "ok") return "changed";
  if (service.actions.install?.state === "ok") return "ok";
  return "new";
}

/** Options of {@link compileNameRegex}. */
export interface CompileRegexOptions {
  /** Where the pattern was written, for the error. */
  location?: SourceLocation;
  /** What the pattern is for, e.g. `actor`, for the error message. */
  what?: string;
}

/**
 * Compiles a user's regex so that it must match a whole name (`-i`, `actor:`, `service:`);
 * a pattern that does not compile is an {@link InputError}.
 */
export function compileNameRegex(pattern: string, options: CompileRegexOptions = {}): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`, "u");
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    const what = options.what ? `${options.what} ` : "";
    throw new InputError(`invalid ${what}regex '${pattern}': ${detail}`, {
      location: options.location,
    });
  }
}

/** The `-r/--role` and `-i/--instance` filters of docs/blueprints.md. */
export interface ServiceFilter {
  /** Matches the role or the full actor name (`node` matches `node.ssh`; `node.ssh` only it). */
  role?: string;
  /** A regex matched against the whole instance name. */
  instance?: string;
}

/** A compiled {@link ServiceFilter}: a predicate on services. */
export type ServiceMatcher = (service: Pick<ServiceRecord, "role" | "actor" | "name">) => boolean;

/**
 * Compiles `-r`/`-i` into a predicate; an instance regex that does not compile is an
 * {@link InputError}. An empty filter matches every service.
 */
export function serviceMatcher(filter: ServiceFilter): ServiceMatcher {
  const role = filter.role;
  const instance = filter.instance === undefined
    ? undefined
    : compileNameRegex(filter.instance, { what: "instance" });
  return (service) => {
    if (role !== undefined && service.role !== role && service.actor !== role) return false;
    if (instance !== undefined && !instance.test(service.name)) return false;
    return true;
  };
}

/** Options of {@link scheduleServices}. */
export interface ScheduleServicesOptions extends ServiceFilter, ScheduleOptions {}

/** What {@link scheduleServices} did. */
export interface ScheduleServicesResult {
  /** The services that changed, as they are now (in the order given). */
  updated: ServiceRecord[];
  /** `role!instance` of every service whose action is now newly scheduled. */
  scheduled: string[];
  /** Matching services left as they were, and why. */
  skipped: { service: string; reason: NotScheduledReason }[];
  /** How many services the filter matched. */
  matched: number;
}

/**
 * `ays do ACTION [-r ROLE] [-i INSTANCE] [--force]` without the run: schedules `action` on
 * every service the filter matches, by {@link scheduleAction} with `asked` (an explicit action
 * is scheduled again even when it is `ok`). Pure: the records given are not
 * modified.
 */
export function scheduleServices(
  services: readonly ServiceRecord[],
  action: string,
  options: ScheduleServicesOptions = {},
): ScheduleServicesResult {
  const matches = serviceMatcher(options);
  const result: ScheduleServicesResult = { updated: [], scheduled: [], skipped: [], matched: 0 };
  for (const service of services) {
    if (!matches(service)) continue;
    result.matched++;
    const name = serviceName(service.role, service.name);
    const outcome = scheduleAction(service, action, { force: options.force, asked: true });
    if (outcome.service !== service) result.updated.push(outcome.service);
    if (outcome.scheduled) result.scheduled.push(name);
    else if (outcome.reason) result.skipped.push({ service: name, reason: outcome.reason });
  }
  return result;
}
