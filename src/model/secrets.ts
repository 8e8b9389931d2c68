/**
 * Secret values (docs/hrd.md: `secret` fields and `type:password`) are never printed, logged or
 * mirrored. Job logs and errors are text an action wrote, so the values themselves are masked
 * wherever such text is kept.
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

/** `text` with every occurrence of each secret replaced by `***`. */
export function maskText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length > 0 && out.includes(secret)) out = out.split(secret).join(MASK);
  }
  return out;
}
