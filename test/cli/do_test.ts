import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { InputError } from "../../src/errors.ts";
import { parseJobArgs } from "../../src/cli/do.ts";
import { makeTempDir } from "../helpers/mod.ts";

describe("parseJobArgs (--args)", () => {
  it("keeps key=value values as the strings written", async () => {
    assert.deepEqual(
      await parseJobArgs(["value=1.10", "n=3", "flag=true", "url=http://h:1/x=y", "empty="], "/"),
      { value: "1.10", n: "3", flag: "true", url: "http://h:1/x=y", empty: "" },
    );
  });

  it('accepts v8.1\'s "key:value key:value", as strings', async () => {
    assert.deepEqual(await parseJobArgs(["key:k2 port:6379"], "/"), { key: "k2", port: "6379" });
    assert.deepEqual(await parseJobArgs(["a:1", "b=2"], "/"), { a: "1", b: "2" });
  });

  it("takes typed values from a YAML or JSON file", async () => {
    const dir = await makeTempDir();
    try {
      await writeFile(join(dir.path, "a.yaml"), "n: 3\nratio: 1.10\nname: x\n");
      await writeFile(join(dir.path, "a.json"), '{"n": 3, "list": [1, "2"]}');
      assert.deepEqual(await parseJobArgs(["a.yaml"], dir.path), { n: 3, ratio: 1.1, name: "x" });
      assert.deepEqual(await parseJobArgs(["a.json"], dir.path), { n: 3, list: [1, "2"] });
      await writeFile(join(dir.path, "list.yaml"), "- 1\n");
      await assert.rejects(parseJobArgs(["list.yaml"], dir.path), /must be a mapping/);
    } finally {
      await dir.remove();
    }
  });

  it("refuses what is none of these, as bad input", async () => {
    for (const items of [["nosuchfile"], ["=v"], [":v"], ["a=1", "plain"]]) {
      await assert.rejects(parseJobArgs(items, "/"), (error: unknown) => {
        assert.ok(error instanceof InputError, String(error));
        assert.equal(error.exitCode, 2);
        return true;
      }, items.join(" "));
    }
  });
});
