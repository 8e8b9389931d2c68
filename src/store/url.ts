/**
 * Store URLs (`docs/store.md`): which backend a URL names, the connection settings of a Redis
 * URL, and masking the password in one so that it can be printed. Kept apart from `open.ts` so
 * that backends can parse and mask without importing the opener.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import type { RedisOptions } from "ioredis";
import { InputError } from "../errors.ts";
import { maskText } from "../model/mod.ts";

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

/** TLS settings of a `rediss://` URL. */
export interface RedisTlsOptions {
  /** PEM of the certificate authority to trust (`?ca=PATH`), besides the system's. */
  ca?: string;
  /** `?insecure=1`: do not verify the server's certificate (testing only). */
  rejectUnauthorized?: boolean;
}

/**
 * The connection settings a store URL names: host, port (6379), `/db`, user and password
 * (URL-decoded; `redis://secret@host` is a password alone, as redis-cli reads it), and for
 * `rediss://` TLS with the query options `ca=PATH` and `insecure=1`. Throws InputError for a
 * malformed URL or an unreadable CA file.
 */
export function parseRedisUrl(url: string): RedisOptions & { tls?: RedisTlsOptions } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InputError(`not a valid store URL: ${maskUrl(url)}`);
  }
  const scheme = parsed.protocol.replace(/:$/, "");
  if (scheme !== "redis" && scheme !== "rediss") {
    throw new InputError(`not a redis URL: ${maskUrl(url)}`);
  }
  const dbText = parsed.pathname.replace(/^\//, "");
  const db = dbText === "" ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) {
    throw new InputError(`bad database number "${dbText}" in ${maskUrl(url)}`);
  }
  const options: RedisOptions & { tls?: RedisTlsOptions } = {
    host: parsed.hostname.replace(/^\[(.*)\]$/, "$1") || "127.0.0.1",
    port: parsed.port ? Number(parsed.port) : 6379,
    db,
  };
  if (parsed.username) options.username = decodeURIComponent(parsed.username);
  if (parsed.password) options.password = decodeURIComponent(parsed.password);
  // `redis://secret@host`: a password alone, as redis-cli reads it.
  if (parsed.username && !parsed.password) {
    options.password = options.username;
    delete options.username;
  }
  if (scheme === "rediss") {
    const tls: RedisTlsOptions = {};
    const ca = parsed.searchParams.get("ca");
    if (ca) {
      try {
        tls.ca = readFileSync(ca, "utf8");
      } catch (error) {
        throw new InputError(
          `cannot read the CA file ${ca} of ${maskUrl(url)}: ${(error as Error).message}`,
        );
      }
    }
    if (/^(1|true|yes)$/i.test(parsed.searchParams.get("insecure") ?? "")) {
      tls.rejectUnauthorized = false;
    }
    options.tls = tls;
  }
  return options;
}
