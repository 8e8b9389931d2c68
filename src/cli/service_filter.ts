/**
 * Choosing services on the command line (docs/blueprints.md, docs/cli.md): a `ROLE!INSTANCE` (or `ROLE:INSTANCE`)
 * argument and the `-r/--role`, `-i/--instance` filters, shared by the commands that look at or
 * change services.
 *
 * @module
 */
import { InputError } from "../errors.ts";
import {
  type ActorRecord,
  checkServiceFilter,
  didYouMean,
  parseServiceName,
  roleOf,
  serviceMatcher,
  serviceName,
  type ServiceRecord,
  sortServices,
} from "../model/mod.ts";

/** The `-r` and `-i` options as commander gives them. */
export interface FilterOptions {
  role?: string;
  instance?: string;
}

/** The `-r/--role` option: flags and description, to spread into `.option(...)`. */
export const ROLE_OPTION = [
  "-r, --role <role>",
  "only services of this role or actor (e.g. node or node.ssh)",
] as const;

/** The `-i/--instance` option: flags and description. */
export const INSTANCE_OPTION = [
  "-i, --instance <regex>",
  "only services whose instance name matches (the whole name)",
] as const;

/**
 * `role!instance` of a target argument; `role:instance` and an actor name before the separator
 * (`node.ssh!web1`) are accepted. Anything else is an {@link InputError}.
 */
export function parseTarget(text: string): { role: string; instance: string } {
  const parsed = parseServiceName(text);
  if (!parsed) {
    throw new InputError(`expected ROLE!INSTANCE (or ROLE:INSTANCE), got '${text}'`);
  }
  return { role: roleOf(parsed.role), instance: parsed.instance };
}

/** Options of {@link selectServices}. */
export interface SelectOptions extends FilterOptions {
  /** A `ROLE!INSTANCE` argument. */
  target?: string;
  /** Nothing selected is an error (commands that act on what they select). */
  required?: boolean;
  /** The repository's actors: a role with no service yet is not a typo. */
  actors?: readonly Pick<ActorRecord, "name" | "role">[];
}

/**
 * The services a command works on, sorted by role then name: the target (an unknown one is an
 * {@link InputError}, exit 2) and/or those the filters match.
 */
export function selectServices<T extends Pick<ServiceRecord, "role" | "actor" | "name">>(
  services: readonly T[],
  options: SelectOptions,
): T[] {
  const matches = serviceMatcher({ role: options.role, instance: options.instance });
  // A typo in -r or -i is an error with a suggestion, not an empty selection.
  checkServiceFilter(services, options, { actors: options.actors });
  let selected: T[];
  if (options.target !== undefined) {
    const { role, instance } = parseTarget(options.target);
    const found = services.find((s) => s.role === role && s.name === instance);
    if (!found) {
      const names = services.map((s) => serviceName(s.role, s.name));
      throw new InputError(
        `no service ${serviceName(role, instance)} in this repository${
          didYouMean(serviceName(role, instance), names)
        }`,
      );
    }
    selected = matches(found) ? [found] : [];
  } else {
    selected = services.filter(matches);
  }
  if (options.required && selected.length === 0) {
    const what = [
      options.target,
      options.role === undefined ? undefined : `role ${options.role}`,
      options.instance === undefined ? undefined : `instance ${options.instance}`,
    ].filter(Boolean).join(", ");
    throw new InputError(`no service matches${what ? ` ${what}` : ""}`);
  }
  return sortServices(selected);
}
