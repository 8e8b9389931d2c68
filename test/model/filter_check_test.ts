import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InputError } from "../../src/errors.ts";
import { checkServiceFilter, filterNeedsActors } from "../../src/model/filter_check.ts";

const services = [
  { role: "redis", actor: "redis", name: "main" },
  { role: "app", actor: "app.web", name: "frontend" },
];

function refused(fn: () => void, message: RegExp) {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof InputError);
    assert.equal(error.exitCode, 2);
    assert.match(error.message, message);
    return true;
  });
}

describe("checkServiceFilter", () => {
  it("passes known roles, actors and matching instances", () => {
    checkServiceFilter(services, {});
    checkServiceFilter(services, { role: "redis" });
    checkServiceFilter(services, { role: "app.web", instance: "front.*" });
    checkServiceFilter(services, { role: "db" }, { actors: [{ name: "db", role: "db" }] });
  });

  it("refuses an unknown role with the nearest one", () => {
    refused(
      () => checkServiceFilter(services, { role: "redsi" }),
      /^unknown role or actor 'redsi' \(did you mean 'redis'\?\)$/,
    );
    refused(() => checkServiceFilter(services, { role: "nosuchrole" }), /^unknown role.*'$/);
  });

  it("refuses an instance that matches nothing, suggesting within the role", () => {
    refused(
      () => checkServiceFilter(services, { instance: "frontedn" }),
      /no service matches -i frontedn \(did you mean 'frontend'\?\)/,
    );
    refused(
      () => checkServiceFilter(services, { role: "redis", instance: "frontend" }),
      /-r redis$/,
    );
  });
});

describe("filterNeedsActors", () => {
  it("only for a role that no service has as its role or actor", () => {
    assert.equal(filterNeedsActors(services, {}), false);
    assert.equal(filterNeedsActors(services, { instance: "nope" }), false);
    assert.equal(filterNeedsActors(services, { role: "redis" }), false);
    assert.equal(filterNeedsActors(services, { role: "app.web" }), false);
    assert.equal(filterNeedsActors(services, { role: "db" }), true);
    assert.equal(filterNeedsActors([], { role: "redis" }), true);
    // A name users give is looked up as itself: no service has the role __proto__.
    assert.equal(filterNeedsActors(services, { role: "__proto__" }), true);
  });
});
