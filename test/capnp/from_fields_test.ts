import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  capnpTypeOf,
  compileCodec,
  emitCapnp,
  formatPosition,
  formatStructSize,
  layoutSchema,
  parseCapnp,
  schemaFileId,
  schemaFromFields,
} from "../../src/capnp/mod.ts";
import { InputError } from "../../src/errors.ts";
import type { FieldSpec, HrdType } from "../../src/model/field_spec.ts";
import { type FieldTags, newFieldSpec } from "../../src/model/fields.ts";
import { readSchemaHrd } from "../../src/hrd/schema_hrd.ts";
import { fromStorable, toStorable, validateData } from "../../src/model/validate.ts";
import { projectRoot } from "../helpers/mod.ts";
import { capnp, capnpOk, fromToolJson, jsonLines, scratchDir, toolLayout } from "./capnp_tool.ts";

function spec(name: string, type: HrdType, extra: FieldTags = {}): FieldSpec {
  return newFieldSpec(name, { camelName: name, type, ...extra });
}

const hrdFixtures = join(projectRoot, "test", "fixtures", "hrd");

describe("schemaFromFields (HRD → capnp)", () => {
  const scratch = scratchDir();
  after(() => scratch.remove());

  it("maps every HRD type as docs/capnp.md says, lists to List(T)", () => {
    const expected: Record<HrdType, string> = {
      str: "Text",
      multiline: "Text",
      email: "Text",
      tel: "Text",
      ipaddr: "Text",
      ipport: "Text",
      ipaddress: "Text",
      path: "Text",
      guid: "Text",
      password: "Text",
      dict: "Text",
      int: "Int64",
      date: "Int64",
      float: "Float64",
      bool: "Bool",
    };
    for (const [type, kind] of Object.entries(expected)) {
      assert.deepEqual(capnpTypeOf({ type: type as HrdType, list: false }), { kind }, type);
      assert.deepEqual(capnpTypeOf({ type: type as HrdType, list: true }), {
        kind: "List",
        element: { kind },
      });
    }
  });

  it("writes struct Schema with fields @0…@n-1 in order, without the HRD defaults", () => {
    const file = schemaFromFields([
      spec("sshAddr", "ipaddr", { default: "10.0.0.1" }),
      spec("sshPort", "int", { default: 22 }),
      spec("tags", "str", { list: true, default: ["a"] }),
    ], { actor: "node.ssh" });
    assert.equal(
      emitCapnp(file),
      `@0x${schemaFileId("node.ssh").toString(16)};\n\nstruct Schema {\n` +
        "  sshAddr @0 :Text;\n  sshPort @1 :Int64;\n  tags @2 :List(Text);\n}\n",
    );
  });

  it("derives the file id from the actor name: SHA-256's first 8 bytes, top bit set", () => {
    const digest = createHash("sha256").update("node.ssh").digest("hex").slice(0, 16);
    assert.equal(schemaFileId("node.ssh"), BigInt(`0x${digest}`) | (1n << 63n));
    assert.equal(schemaFileId("node.ssh"), schemaFileId("node.ssh"));
    assert.notEqual(schemaFileId("node.ssh"), schemaFileId("node.docker"));
    assert.ok(schemaFileId("x") >= 1n << 63n);
  });

  it("refuses names capnp cannot take and two fields with one camelCase name", () => {
    assert.throws(
      () => schemaFromFields([spec("Port", "int")], { actor: "a" }),
      (e: unknown) => e instanceof InputError && /lower-case/.test(e.message),
    );
    assert.throws(
      () =>
        schemaFromFields([
          spec("a_b", "int", { camelName: "aB" }),
          spec("a.b", "str", { camelName: "aB" }),
        ], {
          actor: "a",
        }),
      /both become aB/,
    );
  });

  for (const name of readdirSync(hrdFixtures).filter((f) => f.endsWith(".schema.hrd"))) {
    it(`HRD fixture ${name}: compiles, same layout as capnp, validated defaults decode in capnp`, () => {
      const text = readFileSync(join(hrdFixtures, name), "utf8");
      const hrd = readSchemaHrd(text, { file: name });
      const file = schemaFromFields(hrd.fields, { actor: name.replace(".schema.hrd", "") });
      const path = scratch.write(name.replace(".hrd", ".capnp"), emitCapnp(file));
      const compiled = capnp(["compile", "-o-", path]);
      assert.equal(compiled.code, 0, compiled.stderr);

      const tool = toolLayout(path);
      const layout = layoutSchema(file).get("Schema")!;
      assert.equal(tool.Schema.size, formatStructSize(layout));
      for (const f of layout.fields) {
        assert.equal(tool.Schema.fields[f.field.name], formatPosition(f.position), f.field.name);
      }
      assert.equal(layout.fields.length, hrd.fields.length);

      // The data `ays schema --encode` would write: validated, defaults applied, dicts as JSON.
      const data = validateData(hrd.fields, {});
      const storable = toStorable(hrd.fields, data);
      const codec = compileCodec(file);
      for (const packed of [false, true]) {
        const bytes = codec.encode(storable, { packed, strict: true });
        const json = jsonLines(
          capnpOk(
            ["convert", `${packed ? "packed" : "binary"}:json`, "--short", path, "Schema"],
            bytes,
          ),
        )[0];
        assert.deepEqual(fromToolJson(file, "Schema", json), storable);
        assert.deepEqual(fromStorable(hrd.fields, codec.decode(bytes, { packed })), data);
      }
      // And the emitted text parses back to the same schema.
      assert.equal(emitCapnp(parseCapnp(emitCapnp(file))), emitCapnp(file));
    });
  }
});
