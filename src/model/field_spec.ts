/**
 * One field of an actor's schema as `schema.hrd` describes it (docs/hrd.md). The HRD reader
 * produces these; the capnp converter, the validator and the blueprint resolver consume them.
 * A template that ships `schema.capnp` gets field specs derived from its struct (no tags).
 *
 * @module
 */
import type { SourceLocation } from "../errors.ts";

/** The HRD field types of docs/hrd.md (`string` and `integer` are normalised to `str`, `int`). */
export type HrdType =
  | "str"
  | "int"
  | "float"
  | "bool"
  | "multiline"
  | "email"
  | "tel"
  | "ipaddr"
  | "ipport"
  | "ipaddress"
  | "date"
  | "path"
  | "guid"
  | "dict"
  | "password";

/** `consume:role[:min[:max]]` — producer links; `consume:a,b` gives one role per entry. */
export interface ConsumeSpec {
  roles: string[];
  /** Default 0. */
  min: number;
  /** Default 100. */
  max: number;
  /**
   * The actor names as written, one per role, when one was dotted (`consume:os.ssh.ubuntu`
   * links role `os`; auto-creation makes an `os.ssh.ubuntu`).
   */
  actors?: string[];
}

/** One schema field with every tag of docs/hrd.md. */
export interface FieldSpec {
  /** The name as written, e.g. `ssh.port`. */
  name: string;
  /** The camelCase name used in data, capnp and JSON, e.g. `sshPort`. */
  camelName: string;
  type: HrdType;
  /** `list`: a list of `type`. */
  list: boolean;
  /**
   * The parsed `default:` (number, boolean, string, object for dict, array for lists), or
   * `undefined` when the field has none (then the type's zero value applies).
   */
  default?: unknown;
  /** `descr:` with `__` turned into spaces. */
  description?: string;
  consume?: ConsumeSpec;
  /** `parent:role`; of a dotted actor name, the part before the first dot. */
  parent?: string;
  /** The actor name as written when `parent:` named a dotted one (`parent:node.ovc`). */
  parentActor?: string;
  /** `auto`: create missing parent / producers. */
  auto: boolean;
  /** `optional`: the parent may be absent. */
  optional: boolean;
  regex?: string;
  minval?: number;
  maxval?: number;
  singlechoice?: string[];
  multichoice?: string[];
  /** `secret` label or `type:password`: never printed, logged or mirrored. */
  secret: boolean;
  /** `alias:'a,b'`: other names accepted in blueprints. */
  aliases: string[];
  /** `@ask`: informational. */
  ask: boolean;
  /** Where the field's (last) definition is. */
  location?: SourceLocation;
}
