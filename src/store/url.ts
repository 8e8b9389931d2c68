/**
 * Store URLs: which backend a URL names, and masking the password in one so that it can be
 * printed. Kept apart from `open.ts` so that backends can mask without importing the opener.
 *
 * @module
 */
import { maskText } from "../model/secrets.ts";

/**
 * `url` with its password replaced by `***` (`redis://user:***@host:6379/0`). Also masks every
 * URL inside a longer text, so error messages can be passed through it.
 */
export function maskUrl(url: string): string {
  // The one masker of ays: the rules for URLs are those of job logs and the daemon's log.
  return maskText(url);
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
