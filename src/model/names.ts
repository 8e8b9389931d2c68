/**
 * Service names and keys (docs/repositories.md): a service is `role!instance`; `role:instance` is accepted
 * on the command line; the key is derived from the repository name and the service name.
 *
 * @module
 */
import { sha256Hex } from "../digest.ts";

/** The role of an actor: the part of its name before the first dot (`node.ssh` → `node`). */
export function roleOf(actor: string): string {
  const dot = actor.indexOf(".");
  return dot === -1 ? actor : actor.slice(0, dot);
}

/** `role!instance`. */
export function serviceName(role: string, instance: string): string {
  return `${role}!${instance}`;
}

/**
 * Splits `role!instance` or `role:instance` at the first separator; returns null when there is
 * none, or nothing before or after it, or a line break after it.
 */
export function parseServiceName(text: string): { role: string; instance: string } | null {
  const at = roleEndOf(text);
  return at < 0 ? null : { role: text.slice(0, at), instance: text.slice(at + 1) };
}

/**
 * Where the role of a `role!instance` (or `role:instance`) name ends — its first `!` or `:` —
 * or -1 when {@link parseServiceName} would not split it. By its characters, for the callers
 * that split a name per link of every service (an apply's resolve, the record encodes): a
 * regular expression and its match were a twentieth of encoding a service record.
 */
export function roleEndOf(text: string): number {
  const length = text.length;
  let at = -1;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (at < 0) {
      if (c === 0x21 || c === 0x3a) at = i; // "!" or ":"
    } else if (c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029) {
      return -1; // a line terminator in the instance
    }
  }
  return at > 0 && at < length - 1 ? at : -1;
}

/**
 * The service key: 32 hex characters of SHA-256 over `repo/role!instance`, so the same
 * service gets the same key after `ays restore`.
 */
export function serviceKey(repo: string, role: string, instance: string): string {
  return sha256Hex(`${repo}/${role}!${instance}`).slice(0, 32);
}

/** camelCase of an HRD field name: split on `_` and `.`, capitalise every later part. */
export function camelCase(name: string): string {
  const parts = name.split(/[_.]/).filter((p) => p.length > 0);
  return parts.map((p, i) => (i === 0 ? p : p[0].toUpperCase() + p.slice(1))).join("");
}

/**
 * `record[key]` when `key` is `record`'s own property, else undefined: names users give
 * (actions, services, fields) are looked up this way, so `__proto__`, `constructor` or
 * `toString` are just names that are not there — never `Object.prototype`'s members.
 *
 * @example
 * ```ts
 * ownValue({ install: 1 }, "install"); // 1
 * ownValue({ install: 1 }, "constructor"); // undefined
 * ```
 */
export function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
