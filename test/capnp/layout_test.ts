import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  emitCapnp,
  formatPosition,
  formatStructSize,
  layoutSchema,
  parseCapnp,
  type SchemaFile,
} from "../../src/capnp/mod.ts";
import { capnp, scratchDir, toolLayout } from "./capnp_tool.ts";
import { randomSchema } from "./random_schema.ts";
import { projectRoot } from "../helpers/mod.ts";

const fixtures = join(projectRoot, "test", "fixtures", "capnp");

/** Our layout in the shape `toolLayout` reads from `capnp compile -ocapnp`. */
function ourLayout(file: SchemaFile) {
  const out: Record<string, { size: string; fields: Record<string, string> }> = {};
  for (const [name, layout] of layoutSchema(file)) {
    const fields: Record<string, string> = {};
    for (const f of layout.fields) fields[f.field.name] = formatPosition(f.position);
    out[name] = { size: formatStructSize(layout), fields };
  }
  return out;
}

describe("layout equals capnp compile -ocapnp", () => {
  const scratch = scratchDir();
  after(() => scratch.remove());

  for (const name of readdirSync(fixtures).filter((f) => f.endsWith(".capnp"))) {
    it(`fixture ${name}: every struct size and field position`, () => {
      const path = join(fixtures, name);
      const model = parseCapnp(readFileSync(path, "utf8"), { file: name });
      const ours = ourLayout(model);
      assert.deepEqual(ours, toolLayout(path));
      assert.ok(Object.keys(ours).length > 0);
    });

    it(`fixture ${name}: the emitted schema compiles to the same layout`, () => {
      const model = parseCapnp(readFileSync(join(fixtures, name), "utf8"), { file: name });
      const emitted = scratch.write(`emitted_${name}`, emitCapnp(model));
      assert.deepEqual(toolLayout(emitted), ourLayout(model));
      // Same type ids too: explicit ones are kept, derived ones follow from file id and names.
      const ids = (path: string) =>
        new TextDecoder().decode(capnp(["compile", "-ocapnp", path]).stdout).match(
          /^\s*(struct|enum) \w+ @0x[0-9a-f]+/gm,
        );
      assert.deepEqual(ids(emitted), ids(join(fixtures, name)));
      // And parsing what we emitted gives the same model back.
      const again = parseCapnp(emitCapnp(model), { file: name });
      assert.equal(emitCapnp(again), emitCapnp(model));
    });
  }

  it("300 random schemas (shuffled ordinals, every type, defaults): identical layouts", () => {
    let fields = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const model = randomSchema(seed);
      const path = scratch.write(`random_${seed}.capnp`, emitCapnp(model));
      const tool = capnp(["compile", "-ocapnp", path]);
      assert.equal(tool.code, 0, `seed ${seed}: ${tool.stderr}\n${emitCapnp(model)}`);
      assert.deepEqual(ourLayout(model), toolLayout(path), `seed ${seed}\n${emitCapnp(model)}`);
      fields += model.structs[0].fields.length;
    }
    assert.ok(fields > 1000);
  });

  it("allocates holes as the compiler does: a Bool after an Int64 lands in word 0", () => {
    const model = parseCapnp(
      "@0xc0ffee0000000001;\nstruct Schema { a @0 :Int64; b @1 :Bool; c @2 :UInt16; }\n",
    );
    const layout = layoutSchema(model).get("Schema")!;
    assert.deepEqual(layout.fields.map((f) => formatPosition(f.position)), [
      "bits[0, 64)",
      "bits[64, 65)",
      "bits[80, 96)",
    ]);
    assert.equal(formatStructSize(layout), "16 bytes, 0 ptrs");
  });
});
