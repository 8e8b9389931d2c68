import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type FieldSpec, newFieldSpec } from "../../src/model/mod.ts";
import { maskJson, maskText, secretValues } from "../../src/model/secrets.ts";

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

  it("masks the passwords of URLs, the password-only Redis form too", () => {
    assert.equal(maskText("redis://s3cretpw@host:6379/0"), "redis://***@host:6379/0");
    assert.equal(
      maskText("at redis://ays:hunter2@db:6379/0 now"),
      "at redis://ays:***@db:6379/0 now",
    );
    assert.equal(maskText("rediss://:pw@db:6380"), "rediss://:***@db:6380");
    assert.equal(maskText("https://u:p@example.org/x"), "https://u:***@example.org/x");
    assert.equal(
      maskText("redis://db:6379/0 and https://u@example.org"),
      "redis://db:6379/0 and https://u@example.org",
    );
  });

  it("masks every string of a JSON value, keeping it JSON", () => {
    const value = { a: "redis://u:p", b: "x@y", list: ["hunter2", 3, null], [`k hunter2`]: true };
    assert.deepEqual(maskJson(value, ["hunter2"]), {
      a: "redis://u:p",
      b: "x@y",
      list: ["***", 3, null],
      "k ***": true,
    });
    const clean = { a: 1, b: ["x"] };
    assert.equal(maskJson(clean, ["hunter2"]), clean);
  });
});
