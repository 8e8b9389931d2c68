/**
 * Recurring actions respect the lifecycle (docs/daemon.md, "Paused recurring actions"): a
 * recurring action runs only while the service is up — while its prerequisites on the same
 * service are `ok` (`monitor` ← `start`), or, for one without prerequisites, while `install`
 * is `ok` when the actor has an `install`. Otherwise it is paused, and this says why.
 *
 * @module
 */
import { ownValue } from "./names.ts";
import { DEFAULT_ACTIONS, DEFAULT_DEPS } from "./types.ts";
import type { ActorRecord, ServiceRecord } from "./types.ts";

/**
 * Whether `action` of `actor` needs a job: a default action its actions file does not export
 * does nothing, so it is satisfied without one. Actors stored before ays recorded the exports
 * count every action as exported.
 */
export function runsJob(actor: ActorRecord | undefined, action: string): boolean {
  if (actor?.exported === undefined) return true;
  return actor.exported.includes(action) || !DEFAULT_ACTIONS.includes(action);
}

/** The prerequisites of `action` on the same service: `actor.yaml` `deps:` or the defaults. */
export function prerequisitesOf(actor: ActorRecord | undefined, action: string): readonly string[] {
  const configured = actor ? ownValue(actor.config.actions, action)?.deps : undefined;
  return configured ?? ownValue(DEFAULT_DEPS, action) ?? [];
}

/**
 * Why the recurring `action` of `service` is paused, e.g. `start is new (monitor runs while
 * start is ok)`, or null when it may run. A prerequisite that is not `ok` but needs no job
 * ({@link runsJob}) is looked through to its own prerequisites.
 */
export function recurringPause(
  service: Pick<ServiceRecord, "actions">,
  actor: ActorRecord | undefined,
  action: string,
): string | null {
  const seen = new Set<string>([action]);
  const blocking = (of: string): string | null => {
    for (const dep of prerequisitesOf(actor, of)) {
      if (seen.has(dep)) continue;
      seen.add(dep);
      const state = ownValue(service.actions, dep)?.state;
      if (state === undefined || state === "ok") continue;
      if (!runsJob(actor, dep)) {
        const deeper = blocking(dep);
        if (deeper !== null) return deeper;
        continue;
      }
      return `${dep} is ${state} (${action} runs while ${dep} is ok)`;
    }
    return null;
  };
  if (prerequisitesOf(actor, action).length > 0) return blocking(action);
  // Without a chain: up once installed, when the actor has an install of its own.
  const install = service.actions.install?.state;
  if (action === "install" || !runsJob(actor, "install") || install === undefined) return null;
  return install === "ok" ? null : `install is ${install} (${action} runs while install is ok)`;
}
