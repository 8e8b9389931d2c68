import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { fileUrlOf } from "../../src/run/file_url.ts";

/** Every printable ASCII character but `/`, and a few beyond. */
const SPECIAL = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i))
  .filter((c) => c !== "/").join("") + "\t\n\r\u0001\u007fü日本😀";

describe("fileUrlOf", () => {
  // Of normalized absolute paths, as the host sends (pathToFileURL also resolves `//`, `..`).
  it("makes the URL pathToFileURL makes", () => {
    const paths = [
      "/repo/actorTemplates/job/actions.ts",
      "/a b/ü/日本/😀/actions.js",
      "/x/100%/a%20b/%41.ts",
      "/q?x=1#frag/actions.ts",
      "/back\\slash/tab\there/new\nline/cr\rhere.ts",
      '/quote"s/<angle>/`tick`/{brace}/[sq]/;semi/@at/$d/&amp/=eq/+plus/,comma.ts',
      "/~tilde/'apos'/|pipe|.ts",
      "/trailing/",
      "/",
      ...[...SPECIAL].filter((c) => c !== "^").map((c) => `/a${c}b/x.ts`),
    ];
    for (const path of paths) {
      assert.equal(fileUrlOf(path), pathToFileURL(path).href, JSON.stringify(path));
    }
  });

  it("names the same file for every character", () => {
    // `^` is encoded by Deno's pathToFileURL and not by Bun's: the same file either way.
    for (const c of SPECIAL) {
      const path = `/dir${c}x/a${c}${c}b.ts`;
      assert.equal(fileURLToPath(fileUrlOf(path)), path, JSON.stringify(path));
    }
  });

  it("refers relative paths to node:url", () => {
    assert.equal(fileUrlOf("rel/a.ts"), pathToFileURL("rel/a.ts").href);
  });

  it("imports a module from a folder whose name needs encoding", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ays-file-url-"));
    try {
      const folder = join(dir, "100% #1 [x]");
      await mkdir(folder);
      await writeFile(join(folder, "actions.js"), "export const answer = 42;\n");
      const module = await import(fileUrlOf(join(folder, "actions.js")));
      assert.equal(module.answer, 42);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
