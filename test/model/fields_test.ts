import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readSchemaHrd } from "../../src/hrd/schema_hrd.ts";
import {
  defaultValue,
  HRD_TYPES,
  hrdTypeOf,
  isIntegerType,
  isNumericType,
  isTextType,
  newFieldSpec,
  resolveField,
  zeroValue,
  zeroValueOfType,
} from "../../src/model/fields.ts";

const { fields } = readSchemaHrd(
  [
    "ssh.port = type:int default:22 alias:'port,listen_port'",
    "field_with_underscore = type:str",
    "name = type:str alias:title",
    "title.text = type:str",
    "tags = list",
    'settings = type:dict default:\'{"a": {"b": 1}}\'',
  ].join("\n"),
);

describe("resolveField", () => {
  it("finds a field by its name with dots, underscores or camelCase", () => {
    for (const key of ["ssh.port", "ssh_port", "sshPort"]) {
      assert.equal(resolveField(fields, key)?.camelName, "sshPort", key);
    }
    for (const key of ["field_with_underscore", "field.with.underscore", "fieldWithUnderscore"]) {
      assert.equal(resolveField(fields, key)?.camelName, "fieldWithUnderscore", key);
    }
  });

  it("finds a field by an alias in any spelling", () => {
    for (const key of ["port", "listen_port", "listen.port", "listenPort"]) {
      assert.equal(resolveField(fields, key)?.camelName, "sshPort", key);
    }
  });

  it("prefers a field's own name over another field's alias", () => {
    assert.equal(resolveField(fields, "title")?.camelName, "name");
    assert.equal(resolveField(fields, "title.text")?.camelName, "titleText");
  });

  it("returns undefined for unknown keys and is case-sensitive", () => {
    assert.equal(resolveField(fields, "nope"), undefined);
    assert.equal(resolveField(fields, "SSHPORT"), undefined);
    assert.equal(resolveField([], "a"), undefined);
  });
});

describe("types and zero values", () => {
  it("maps type spellings", () => {
    assert.equal(hrdTypeOf("String"), "str");
    assert.equal(hrdTypeOf("integer"), "int");
    assert.equal(hrdTypeOf("boolean"), "bool");
    assert.equal(hrdTypeOf("IPADDR"), "ipaddr");
    assert.equal(hrdTypeOf("number"), undefined);
    assert.equal(hrdTypeOf("constructor"), undefined);
  });

  it("classifies every type into exactly one family", () => {
    for (const type of HRD_TYPES) {
      const families = [isNumericType(type), isTextType(type), type === "bool", type === "dict"];
      assert.equal(families.filter(Boolean).length, 1, type);
    }
    assert.deepEqual(HRD_TYPES.filter(isIntegerType), ["int", "date"]);
  });

  it("zero values per type and for lists", () => {
    assert.deepEqual(HRD_TYPES.map((t) => [t, zeroValueOfType(t)]), [
      ["str", ""],
      ["int", 0],
      ["float", 0],
      ["bool", false],
      ["multiline", ""],
      ["email", ""],
      ["tel", ""],
      ["ipaddr", ""],
      ["ipport", ""],
      ["ipaddress", ""],
      ["date", 0],
      ["path", ""],
      ["guid", ""],
      ["dict", {}],
      ["password", ""],
    ]);
    assert.deepEqual(zeroValue(resolveField(fields, "tags")!), []);
  });

  it("defaultValue is the default or the zero value, as a fresh copy", () => {
    const settings = resolveField(fields, "settings")!;
    const a = defaultValue(settings) as { a: { b: number } };
    a.a.b = 2;
    assert.deepEqual(defaultValue(settings), { a: { b: 1 } });
    assert.equal(defaultValue(resolveField(fields, "sshPort")!), 22);
    assert.equal(defaultValue(resolveField(fields, "name")!), "");
  });
});

describe("newFieldSpec", () => {
  it("has the defaults of an untagged line", () => {
    assert.deepEqual(newFieldSpec("ssh.port"), {
      name: "ssh.port",
      camelName: "sshPort",
      type: "str",
      list: false,
      auto: false,
      optional: false,
      secret: false,
      aliases: [],
      ask: false,
    });
  });

  it("takes tags over the defaults; a password is secret unless told otherwise", () => {
    const spec = newFieldSpec("pw", { type: "password", list: true, camelName: "Pw" });
    assert.equal(spec.camelName, "Pw");
    assert.equal(spec.list, true);
    assert.equal(spec.secret, true);
    assert.equal(newFieldSpec("pw", { type: "password", secret: false }).secret, false);
    assert.equal(newFieldSpec("pw", { secret: true }).secret, true);
  });

  it("gives every spec its own aliases array", () => {
    const a = newFieldSpec("a");
    a.aliases.push("b");
    assert.deepEqual(newFieldSpec("a").aliases, []);
  });

  it("refuses an empty name and an unknown type", () => {
    assert.throws(() => newFieldSpec(""), TypeError);
    assert.throws(
      () => newFieldSpec("a", { type: "string" as never }),
      /unknown HRD type "string"/,
    );
  });
});
