/**
 * The dashboard's embedded files: the committed `src/dashboard/assets_embedded.ts` holds
 * exactly what a fresh build of `src/dashboard/client/` makes (so the binary and the sources
 * serve the same page), and they unpack to a page that loads only its own files.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadAssets, unpackAssets } from "../../src/dashboard/assets.ts";
import { EMBEDDED_ASSETS } from "../../src/dashboard/assets_embedded.ts";
import { buildDashboardFiles } from "../../scripts/dashboard_assets.ts";

describe("dashboard assets", () => {
  it("the embedded module is a fresh build of src/dashboard/client/ (else: bun scripts/dashboard_assets.ts)", async () => {
    const fresh = await buildDashboardFiles();
    const embedded = unpackAssets(EMBEDDED_ASSETS);
    assert.deepEqual([...embedded.keys()].sort(), [...fresh.keys()].sort());
    for (const [name, bytes] of fresh) {
      assert.ok(
        Buffer.from(embedded.get(name)!).equals(Buffer.from(bytes)),
        `${name} differs from a fresh build: run bun scripts/dashboard_assets.ts`,
      );
    }
  });

  it("the page loads its own script and style only, and the script carries dagre", () => {
    const assets = loadAssets();
    const html = new TextDecoder().decode(assets.get("index.html")!.body);
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(sources.sort(), ["/ui/app.js", "/ui/style.css"]);
    const js = new TextDecoder().decode(assets.get("app.js")!.body);
    assert.doesNotMatch(
      js,
      /https?:\/\/(?!www\.w3\.org\/2000\/svg)/,
      "no URL but the SVG namespace",
    );
    // dagre's layout options are in the bundle: the layout runs in the page, from no CDN.
    assert.match(js, /rankdir/);
    assert.match(assets.get("app.js")!.type, /^text\/javascript/);
    assert.notEqual(assets.get("app.js")!.etag, assets.get("style.css")!.etag);
  });
});
