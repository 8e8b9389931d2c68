import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { didYouMean, editDistance, nearestName } from "../../src/model/suggest.ts";

describe("editDistance", () => {
  it("counts edits, a swap of neighbours as one", () => {
    assert.equal(editDistance("redis", "redis"), 0);
    assert.equal(editDistance("redsi", "redis"), 1);
    assert.equal(editDistance("flsh", "flush"), 1);
    assert.equal(editDistance("", "abc"), 3);
    assert.equal(editDistance("kitten", "sitting"), 3);
  });
});

describe("nearestName / didYouMean", () => {
  const roles = ["redis", "app", "webserver", "site"];

  it("suggests the nearest known name when it is near enough", () => {
    assert.equal(nearestName("redsi", roles), "redis");
    assert.equal(nearestName("webservr", roles), "webserver");
    assert.equal(nearestName("Redis", roles), "redis");
    assert.equal(didYouMean("redsi", roles), " (did you mean 'redis'?)");
  });

  it("suggests nothing for a word far from every name", () => {
    assert.equal(nearestName("nosuchrole", roles), undefined);
    assert.equal(didYouMean("xyz", roles), "");
    assert.equal(didYouMean("redis", []), "");
  });

  it("breaks ties by name, whatever the order given", () => {
    assert.equal(nearestName("ab", ["ac", "ab2", "aa"]), "aa");
    assert.equal(nearestName("ab", ["aa", "ac"]), "aa");
  });
});
