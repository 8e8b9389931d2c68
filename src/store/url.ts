/**
 * Store URLs: which backend a URL names, and masking the password in one so that it can be
 * printed. Kept apart from `open.ts` so that backends can mask without importing the opener.
 *
 * @module
 */

/** The password part of `scheme://user:pass@host`, wherever it appears in a text. */
const CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)([^:@/\s]*):([^@/\s]*)@/gi;
/** `scheme://pass@host` (Redis' password-only form, no colon). */
const PASSWORD_ONLY = /(rediss?:\/\/)([^:@/\s]+)@/gi;

/**
 * `url` with its password replaced by `***` (`redis://user:***@host:6379/0`). Also masks every
 * URL inside a longer text, so error messages can be passed through it.
 */
export function maskUrl(url: string): string {
  return url
    .replace(CREDENTIALS, (_m, scheme: string, user: string) => `${scheme}${user}:***@`)
    .replace(PASSWORD_ONLY, (_m, scheme: string) => `${scheme}***@`);
}

/** Removes every occurrence of `secret` (and its URL-encoded form) from `text`. */
export function redact(text: string, secret: string | undefined): string {
  if (!secret) return text;
  let out = text.split(secret).join("***");
  const encoded = encodeURIComponent(secret);
  if (encoded !== secret) out = out.split(encoded).join("***");
  return out;
}

/** The backend a store URL selects, or null when the scheme is not known. */
export function storeKindOf(url: string): "sqlite" | "redis" | null {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === "redis" || scheme === "rediss") return "redis";
  if (scheme === "sqlite" || scheme === "file") return "sqlite";
  return null;
}
