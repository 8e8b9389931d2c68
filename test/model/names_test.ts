/** Service names (docs/repositories.md): how `role!instance` and `role:instance` split. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseServiceName, roleEndOf } from "../../src/model/names.ts";

describe("parseServiceName", () => {
  it("splits at the first `!` or `:`", () => {
    assert.deepEqual(parseServiceName("sshkey!main"), { role: "sshkey", instance: "main" });
    assert.deepEqual(parseServiceName("os:main"), { role: "os", instance: "main" });
    assert.deepEqual(parseServiceName("a!b!c"), { role: "a", instance: "b!c" });
    assert.deepEqual(parseServiceName("a:b!c"), { role: "a", instance: "b!c" });
    assert.deepEqual(parseServiceName("é!ü"), { role: "é", instance: "ü" });
    // A line break before the separator is part of the role.
    assert.deepEqual(parseServiceName("line\nbefore!x"), { role: "line\nbefore", instance: "x" });
  });

  it("does not split a name with nothing before or after the separator, or a line break after it", () => {
    for (
      const name of [
        "!lead",
        "trail!",
        "plain",
        "",
        "!",
        "x!line\nbreak",
        "x!cr\rx",
        "x!para\u2029graph",
        "x!ls\u2028x",
      ]
    ) {
      assert.equal(parseServiceName(name), null, JSON.stringify(name));
      assert.equal(roleEndOf(name), -1, JSON.stringify(name));
    }
  });

  it("roleEndOf gives where the role ends", () => {
    assert.equal(roleEndOf("sshkey!main"), 6);
    assert.equal(roleEndOf("a:b!c"), 1);
  });
});
