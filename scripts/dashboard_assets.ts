/**
 * Builds the web dashboard's files (docs/dashboard.md, "How the page is built") and embeds
 * them in `src/dashboard/assets_embedded.ts`, so that the daemon serves them from the sources
 * (Bun, Deno) and from the compiled binary alike, with no file on disk and no CDN:
 *
 * - `app.js`: `src/dashboard/client/app.ts` bundled by esbuild with `@dagrejs/dagre` (ES
 *   module for browsers, minified, licence comments kept);
 * - `index.html`, `style.css`: copied.
 *
 * Each file is kept gzip-compressed, base64-encoded (the daemon serves the gzip bytes as they
 * are to browsers that accept them). `build.ts` calls {@link writeDashboardAssets} before it
 * compiles; `test/dashboard/assets_test.ts` fails while the embedded files differ from a fresh
 * build. `bun scripts/dashboard_assets.ts` rewrites the module by hand.
 *
 * @module
 */
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const client = join(root, "src", "dashboard", "client");

/** Where the embedded files are written. */
export const EMBEDDED_MODULE: string = join(root, "src", "dashboard", "assets_embedded.ts");

/** The dashboard's files by name, as the browser gets them. */
export async function buildDashboardFiles(): Promise<Map<string, Uint8Array>> {
  const bundled = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [join(client, "app.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    legalComments: "eof",
    write: false,
    logLevel: "warning",
  });
  const files = new Map<string, Uint8Array>();
  files.set("app.js", bundled.outputFiles[0].contents);
  for (const name of ["index.html", "style.css"]) {
    files.set(name, new Uint8Array(await readFile(join(client, name))));
  }
  return files;
}

/** The text of the embedded module for these files. */
export function embeddedModuleText(files: ReadonlyMap<string, Uint8Array>): string {
  const lines = [...files.keys()].sort().map((name) => {
    const packed = Buffer.from(gzipSync(files.get(name)!, { level: 9 })).toString("base64");
    return `  ${JSON.stringify(name)}:\n    ${JSON.stringify(packed)},`;
  });
  return `/**
 * The web dashboard's files (docs/dashboard.md), gzip-compressed and base64-encoded, so that
 * the daemon serves them from the sources and from the compiled binary alike.
 * Generated from src/dashboard/client/ by scripts/dashboard_assets.ts (build.ts runs it): do
 * not edit. test/dashboard/assets_test.ts fails while it differs from a fresh build.
 *
 * @module
 */

/** File name → gzip bytes, base64. */
export const EMBEDDED_ASSETS: Readonly<Record<string, string>> = {
${lines.join("\n")}
};
`;
}

/**
 * Rebuilds the files and rewrites the embedded module when their content changed (gzip bytes
 * may differ between runtimes for the same content, so the content is what is compared).
 * Resolves with whether it wrote.
 */
export async function writeDashboardAssets(
  options: { embedded?: Readonly<Record<string, string>> } = {},
): Promise<boolean> {
  const files = await buildDashboardFiles();
  const embedded = options.embedded ??
    (await import("../src/dashboard/assets_embedded.ts").then((m) => m.EMBEDDED_ASSETS).catch(
      () => ({}),
    ));
  const { unpackAssets } = await import("../src/dashboard/assets.ts");
  const current = unpackAssets(embedded);
  const same = current.size === files.size &&
    [...files].every(([name, bytes]) => {
      const other = current.get(name);
      return other !== undefined && Buffer.from(other).equals(Buffer.from(bytes));
    });
  if (same) return false;
  await writeFile(EMBEDDED_MODULE, embeddedModuleText(files));
  return true;
}

if (import.meta.main) {
  const wrote = await writeDashboardAssets();
  console.log(wrote ? `wrote ${EMBEDDED_MODULE}` : `${EMBEDDED_MODULE} is up to date`);
}
