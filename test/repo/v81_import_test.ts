import assert from "node:assert/strict";
import { cp, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { InputError } from "../../src/errors.ts";
import { serviceKey } from "../../src/model/names.ts";
import { readV81Repository } from "../../src/repo/v81_import.ts";
import { makeTempDir } from "../helpers/mod.ts";

const CHECKOUT = fileURLToPath(new URL("../fixtures/repos/v81_checkout/", import.meta.url));

describe("readV81Repository", () => {
  it("reads services/**/service.json + data.json, links as v8.1 had them, actors from templates or actors/", async () => {
    const read = await readV81Repository(CHECKOUT, { repoName: "old" });
    assert.deepEqual(read.actors.map((a) => a.name).sort(), ["box", "dc", "tool"]);
    const byName = new Map(read.services.map((s) => [`${s.role}!${s.name}`, s]));
    assert.deepEqual([...byName.keys()].sort(), ["box!b1", "dc!east", "tool!t"]);
    const east = byName.get("dc!east")!;
    assert.equal(east.key, serviceKey("old", "dc", "east"));
    assert.deepEqual(east.data, { location: "Ghent" });
    assert.equal(east.actions.install.state, "ok");
    assert.deepEqual(east.consumers, ["box!b1"]);
    const b1 = byName.get("box!b1")!;
    assert.equal(b1.parent, "dc!east");
    assert.deepEqual(b1.producers, { dc: ["dc!east"] });
    assert.deepEqual(b1.data, { dc: "east", cpus: 4 });
    assert.equal(b1.actions.install.state, "scheduled");
    assert.deepEqual(b1.consumers, ["tool!t"]);
    const tool = byName.get("tool!t")!;
    assert.equal(tool.actor, "tool");
    assert.deepEqual(tool.producers, { box: ["box!b1"] });
    assert.equal(tool.actions.install.state, "scheduled", "a v8.1 job cannot still be running");
    const warnings = read.warnings.join("\n");
    assert.match(warnings, /field 'oldField' is not in the schema of box; dropped/);
    assert.match(warnings, /action 'input' is not an action of dc; dropped/);
  });

  it("refuses a link to a service that is not there, and bad JSON, naming the file", async () => {
    const dir = await makeTempDir();
    try {
      await cp(CHECKOUT, dir.path, { recursive: true });
      const file = join(dir.path, "services", "tool!t", "service.json");
      await writeFile(
        file,
        '{"name": "t", "actorName": "tool", "producers": [{"actorName": "box", "serviceName": "nope"}]}',
      );
      await assert.rejects(
        readV81Repository(dir.path, { repoName: "old" }),
        (e: unknown) =>
          e instanceof InputError &&
          /producer box!nope of tool!t is not in services\//.test(e.message) &&
          e.location?.file === join("services", "tool!t", "service.json"),
      );
      await writeFile(file, "{nope");
      await assert.rejects(readV81Repository(dir.path, { repoName: "old" }), /not JSON/);
      await writeFile(
        join(dir.path, "services", "tool!t", "service.json"),
        '{"name": "t", "actorName": "ghost"}',
      );
      await assert.rejects(
        readV81Repository(dir.path, { repoName: "old" }),
        /actor 'ghost' has no template .* and no actors\/ghost\//,
      );
    } finally {
      await dir.remove();
    }
  });
});
