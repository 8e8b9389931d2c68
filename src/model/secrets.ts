/**
 * Secret values (`secret` fields and `type:password`, docs/repositories.md) are never
 * printed, logged or mirrored. Job logs and errors are text an action wrote, so the values
 * themselves are masked wherever such text is kept; the same masker hides the passwords of
 * URLs (store URLs in the daemon's log, in error messages).
 *
 * @module
 */
import type { FieldSpec } from "./field_spec.ts";
import { MASK } from "./views.ts";

/** The non-empty string values of a service's secret fields (list items one by one). */
export function secretValues(
  fields: readonly FieldSpec[],
  data: Record<string, unknown>,
): string[] {
  const values = new Set<string>();
  for (const field of fields) {
    if (!field.secret) continue;
    const value = data[field.camelName];
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === undefined || item === null || item === "") continue;
      values.add(typeof item === "string" ? item : JSON.stringify(item));
    }
  }
  // Longest first, so a secret that contains another is masked whole.
  return [...values].sort((a, b) => b.length - a.length);
}

/** The password part of `scheme://user:pass@host`, wherever it appears in a text. */
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)([^:@/\s]*):([^@/\s]*)@/gi;
/** `redis://pass@host` (Redis' password-only form, no colon). */
const URL_PASSWORD_ONLY = /(rediss?:\/\/)([^:@/\s]+)@/gi;

/**
 * The one secret masker (for logs, URLs and job output): `text` with the password of every
 * URL in it (`redis://user:***@host`, `redis://***@host`) and every occurrence of each of
 * `secrets` replaced by `***`. Pass `secrets` longest first (as {@link secretValues} returns
 * them), so a secret that contains another is masked whole.
 */
export function maskText(text: string, secrets: readonly string[] = []): string {
  let out = text
    .replace(URL_CREDENTIALS, (_m, scheme: string, user: string) => `${scheme}${user}:${MASK}@`)
    .replace(URL_PASSWORD_ONLY, (_m, scheme: string) => `${scheme}${MASK}@`);
  for (const secret of secrets) {
    if (secret.length > 0 && out.includes(secret)) out = out.split(secret).join(MASK);
  }
  return out;
}

/**
 * A copy of a JSON value with {@link maskText} applied to every string in it (keys too), so
 * a job's result can be stored and printed. Returns `value` itself when nothing changed.
 */
export function maskJson(value: unknown, secrets: readonly string[] = []): unknown {
  if (typeof value === "string") return maskText(value, secrets);
  if (Array.isArray(value)) {
    const items = value.map((item) => maskJson(item, secrets));
    return items.every((item, i) => item === value[i]) ? value : items;
  }
  if (value === null || typeof value !== "object") return value;
  let changed = false;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const k = maskText(key, secrets);
    const v = maskJson(item, secrets);
    if (k !== key || v !== item) changed = true;
    out[k] = v;
  }
  return changed ? out : value;
}
