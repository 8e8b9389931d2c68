/**
 * The shapes a blueprint is read into (docs/blueprints.md): what `read.ts` and its fast path
 * `read_simple.ts` give the resolver.
 *
 * @module
 */
import type { SourceLocation } from "../errors.ts";
import type { EventFilter } from "../model/mod.ts";

/** One attribute of a service in a blueprint, e.g. `ssh.port: 22`. */
export interface BlueprintAttribute {
  /** The key as written (`ssh.port`, `sshPort`, an alias, a role). */
  key: string;
  /** The value as YAML gives it (string, number, boolean, null, array, object). */
  value: unknown;
  keyLocation: SourceLocation;
  valueLocation: SourceLocation;
  /** For a list value: where each item is. */
  itemLocations?: SourceLocation[];
}

/** One `actor__instance:` entry. */
export interface BlueprintService {
  actor: string;
  instance: string;
  /** Where the `actor__instance` key is. */
  location: SourceLocation;
  attributes: BlueprintAttribute[];
}

/** One entry of the `actions:` section. */
export interface BlueprintAction {
  /** The action names of `action: install,start`. */
  actions: string[];
  /** Regex on the whole actor name. */
  actor?: string;
  /** Regex on the whole instance name. */
  service?: string;
  /** `recurring:` in seconds. */
  recurring?: number;
  force: boolean;
  /** Where the entry starts. */
  location: SourceLocation;
  /** Where the value of `action:` is. */
  actionLocation: SourceLocation;
}

/** One entry of the `eventfilters:` section. */
export interface BlueprintEventFilter {
  filter: EventFilter;
  location: SourceLocation;
}

/** A blueprint read from one file. */
export interface BlueprintDoc {
  file: string;
  services: BlueprintService[];
  actions: BlueprintAction[];
  eventFilters: BlueprintEventFilter[];
  /** Things worth saying that are not errors (YAML warnings). */
  warnings: string[];
}
