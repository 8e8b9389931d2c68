import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { excerptFor, renderExcerpt } from "../../src/cli/excerpt.ts";
import { makeTempDir } from "../helpers/mod.ts";

describe("renderExcerpt", () => {
  const text = "redis__main:\n  prot: 1\n\tx: 2\n";

  it("prints the line with a caret under the column", () => {
    assert.equal(
      renderExcerpt(text, { file: "f", line: 2, column: 3 }),
      "    2 |   prot: 1\n      |   ^\n",
    );
  });

  it("keeps tabs before the column so the caret lines up", () => {
    assert.equal(
      renderExcerpt(text, { file: "f", line: 3, column: 2 }),
      "    3 | \tx: 2\n      | \t^\n",
    );
  });

  it("prints only the line without a column, nothing for a line that is not there", () => {
    assert.equal(renderExcerpt(text, { file: "f", line: 1 }), "    1 | redis__main:\n");
    assert.equal(renderExcerpt(text, { file: "f", line: 4, column: 1 }), "");
    assert.equal(renderExcerpt(text, { file: "f", line: 9 }), "");
    assert.equal(renderExcerpt(text, { file: "f" }), "");
  });
});

describe("excerptFor", () => {
  it("finds a repository-relative file from a folder below, and is silent without one", async () => {
    const dir = await makeTempDir();
    try {
      await mkdir(join(dir.path, "blueprints", "sub"), { recursive: true });
      await writeFile(join(dir.path, "blueprints", "1.yaml"), "a:\n  b: 1\n");
      const location = { file: "blueprints/1.yaml", line: 2, column: 3 };
      const below = join(dir.path, "blueprints", "sub");
      assert.equal(excerptFor(location, below), "    2 |   b: 1\n      |   ^\n");
      assert.equal(excerptFor({ ...location, file: "nosuch.yaml" }, below), "");
      assert.equal(excerptFor(undefined, below), "");
    } finally {
      await dir.remove();
    }
  });
});
