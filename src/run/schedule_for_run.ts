/**
 * `ays do ACTION` before its run (docs/cli.md, `ays do`), shared by the CLI and the daemon's queued
 * requests: schedule the action on the services the filter matches, refusing a filter that
 * matches nothing and an action none of the matched services has.
 *
 * @module
 */
import { InputError } from "../errors.ts";
import {
  didYouMean,
  scheduleServices,
  type ScheduleServicesResult,
  type ServiceRecord,
} from "../model/mod.ts";

/** Options of {@link scheduleForRun}. */
export interface ScheduleForRunOptions {
  /** Only services of this role or actor. */
  role?: string;
  /** Only instances matching this regex (whole name). */
  instance?: string;
  /** Schedule also where the action is already ok. */
  force?: boolean;
}

/** What {@link scheduleForRun} did: `empty` when the repository has no services at all. */
export interface ScheduleForRunResult extends ScheduleServicesResult {
  empty: boolean;
}

/**
 * Schedules `action` on the matching services (pure: the caller saves `updated`). Throws an
 * {@link InputError} when a role or instance filter matches no service, or when no matched
 * service has the action; an empty repository without a filter is `empty`, not an error.
 */
export function scheduleForRun(
  services: readonly ServiceRecord[],
  action: string,
  options: ScheduleForRunOptions = {},
): ScheduleForRunResult {
  const { role, instance } = options;
  const result = scheduleServices(services, action, { role, instance, force: options.force });
  if (result.matched === 0) {
    if (role !== undefined || instance !== undefined) {
      throw new InputError(
        `no service matches${role ? ` -r ${role}` : ""}${instance ? ` -i ${instance}` : ""}`,
      );
    }
    return { ...result, empty: true };
  }
  if (
    result.skipped.every((s) => s.reason === "unknown-action") &&
    result.skipped.length === result.matched
  ) {
    const known = new Set<string>();
    for (const s of services) for (const name of Object.keys(s.actions)) known.add(name);
    throw new InputError(
      `no matching service has an action ${action}${didYouMean(action, [...known])}`,
    );
  }
  return { ...result, empty: false };
}
