/**
 * The dashboard's static files (docs/dashboard.md, "How the page is built"): unpacked from the
 * module `assets_embedded.ts` that `scripts/dashboard_assets.ts` generates, and answered with
 * their type, an ETag, gzip when the browser takes it, and headers that keep the page from
 * loading anything but its own files or being framed by another site.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { gunzipSync } from "node:zlib";
import { EMBEDDED_ASSETS } from "./assets_embedded.ts";

/** One file, ready to answer. */
export interface Asset {
  type: string;
  body: Uint8Array;
  gzip: Uint8Array;
  etag: string;
}

const TYPES: Readonly<Record<string, string>> = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
};

/**
 * The page's own files only, no inline script, nothing framed: what a page served with the
 * daemon's authority should allow. `connect-src 'self'` covers the API and the event stream.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Decodes the embedded files (base64 of gzip) by name. */
export function unpackAssets(embedded: Readonly<Record<string, string>>): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const [name, packed] of Object.entries(embedded)) {
    files.set(name, new Uint8Array(gunzipSync(Buffer.from(packed, "base64"))));
  }
  return files;
}

/** The embedded files, ready to answer, by name. */
export function loadAssets(
  embedded: Readonly<Record<string, string>> = EMBEDDED_ASSETS,
): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const [name, packed] of Object.entries(embedded)) {
    const type = Object.hasOwn(TYPES, name) ? TYPES[name] : "application/octet-stream";
    const gzip = new Uint8Array(Buffer.from(packed, "base64"));
    const body = new Uint8Array(gunzipSync(gzip));
    const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
    assets.set(name, { type, body, gzip, etag });
  }
  return assets;
}

/** Answers one file; a matching `If-None-Match` gets 304. */
export function sendAsset(req: IncomingMessage, res: ServerResponse, asset: Asset): void {
  const headers: Record<string, string> = {
    "content-type": asset.type,
    etag: asset.etag,
    // Revalidated each time (cheap with the ETag), so a new binary's page is never stale.
    "cache-control": "no-cache",
    vary: "accept-encoding",
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
  };
  if (req.headers["if-none-match"] === asset.etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const gzip = /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""));
  const body = gzip ? asset.gzip : asset.body;
  if (gzip) headers["content-encoding"] = "gzip";
  headers["content-length"] = String(body.length);
  res.writeHead(200, headers);
  res.end(req.method === "HEAD" ? undefined : body);
}
