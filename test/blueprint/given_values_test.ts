/**
 * What a unit gives one declared service, by field (src/blueprint/given_values.ts): looked up
 * by the field's spec, replaced in place, listed in the order the fields were first given.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GivenValues } from "../../src/blueprint/given_values.ts";
import type { BlueprintAttribute } from "../../src/blueprint/read.ts";
import type { FieldSpec } from "../../src/model/mod.ts";

const at = { file: "b.yaml", line: 1, column: 1 };

function attribute(key: string, value: unknown): BlueprintAttribute {
  return { key, value, keyLocation: at, valueLocation: at };
}

function field(name: string): FieldSpec {
  return { name, camelName: name } as FieldSpec;
}

describe("GivenValues", () => {
  it("gives each field's value with its attribute, and nothing for a field not given", () => {
    const [port, addr, other] = [field("port"), field("addr"), field("port")];
    const given = new GivenValues();
    const portAttribute = attribute("ssh.port", 22);
    given.set(port, portAttribute);
    given.set(addr, attribute("ssh.addr", "10.0.0.1"));
    assert.deepEqual(given.get(port), { field: port, value: 22, attribute: portAttribute });
    assert.equal(given.get(addr)?.value, "10.0.0.1");
    // Looked up by the spec itself, not by its name.
    assert.equal(given.get(other), undefined);
  });

  it("replaces a field's value in place and lists the fields in the order first given", () => {
    const [a, b, c] = [field("a"), field("b"), field("c")];
    const given = new GivenValues();
    given.set(a, attribute("a", 1));
    given.set(b, attribute("b", 2));
    given.set(c, attribute("c", 3));
    given.set(a, attribute("a", 4));
    assert.deepEqual(given.values().map((v) => [v.field.name, v.value]), [
      ["a", 4],
      ["b", 2],
      ["c", 3],
    ]);
    assert.deepEqual(new GivenValues().values(), []);
  });
});
