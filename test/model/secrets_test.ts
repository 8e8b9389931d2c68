import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { FieldSpec } from "../../src/model/field_spec.ts";
import { newFieldSpec } from "../../src/model/fields.ts";
import { maskText, secretValues } from "../../src/model/secrets.ts";

function field(camelName: string, secret: boolean, list = false): FieldSpec {
  return newFieldSpec(camelName, { secret, list });
}

describe("secrets", () => {
  const fields = [
    field("user", false),
    field("password", true),
    field("keys", true, true),
    field("empty", true),
  ];

  it("collects the values of secret fields, list items one by one, longest first", () => {
    const data = { user: "root", password: "hunter2", keys: ["k-one", "hunter2-long"], empty: "" };
    assert.deepEqual(secretValues(fields, data), ["hunter2-long", "hunter2", "k-one"]);
  });

  it("masks every occurrence, a longer secret before the one it contains", () => {
    const secrets = secretValues(fields, { password: "hunter2", keys: ["hunter2-long"] });
    assert.equal(
      maskText("login root/hunter2, key hunter2-long, again hunter2", secrets),
      "login root/***, key ***, again ***",
    );
    assert.equal(maskText("nothing secret here", secrets), "nothing secret here");
  });
});
