/**
 * A value as JavaScript source text, for modules generated from data (`ays_schema_model.ts`):
 * like JSON, plus bigints (`123n`) and `undefined`, so the module reads back deeply equal.
 *
 * @module
 */

/** `value` (null, booleans, numbers, strings, bigints, undefined, arrays, plain objects) as source. */
export function jsLiteral(value: unknown, indent = ""): string {
  if (value === undefined) return "undefined";
  if (typeof value === "bigint") return `${value}n`;
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) return String(value);
    return JSON.stringify(value);
  }
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((v) => `${inner}${jsLiteral(v, inner)},\n`).join("")}${indent}]`;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return "{}";
  const lines = entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${jsLiteral(v, inner)},\n`);
  return `{\n${lines.join("")}${indent}}`;
}
