/**
 * A job's `secrets` (masked in its log, result and error) hold every secret value the job is
 * given: its own service's and those of the parent, producers and consumers it sees.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readSchemaHrd } from "../../src/hrd/mod.ts";
import type { ActorRecord, ServiceRecord } from "../../src/model/types.ts";
import { jobAncestors, jobRequest } from "../../src/run/job_request.ts";
import { actor, link, service } from "./model_fixtures.ts";

function secretActor(name: string, schema: string): ActorRecord {
  return { ...actor(name), fields: readSchemaHrd(schema).fields };
}

describe("jobRequest secrets", () => {
  const actors = new Map<string, ActorRecord>([
    ["node", secretActor("node", "adminPassword = type:str secret\nhost = type:str\n")],
    ["db", secretActor("db", "dbPassword = type:password\n")],
    ["app", secretActor("app", "token = type:str secret\n")],
    ["web", secretActor("web", "apiKey = type:str secret\n")],
  ]);
  const node = service("node", "n1");
  node.data = { adminPassword: "node-admin-pw", host: "example.org" };
  const db = service("db", "d1");
  db.data = { dbPassword: "db-pw-42" };
  const app = service("app", "a1");
  app.data = { token: "app-token" };
  const web = service("web", "w1");
  web.data = { apiKey: "web-key" };
  link(app, node, true);
  link(app, db);
  link(web, app);
  const all = new Map<string, ServiceRecord>(
    [node, db, app, web].map((s) => [`${s.role}!${s.name}`, s]),
  );

  it("include the parent's, producers' and consumers' secret fields", () => {
    const request = jobRequest(app, "install", {
      actor: actors.get("app"),
      lookup: (name) => all.get(name),
      actors: (name) => actors.get(name),
      runId: "r1",
      repo: { name: "repo", path: "/repo" },
    });
    assert.deepEqual(
      [...(request.secrets ?? [])].sort(),
      ["app-token", "db-pw-42", "node-admin-pw", "web-key"],
    );
    // The job still sees the values it needs (masking is of what leaves the runner).
    assert.equal(request.service.parent?.data.adminPassword, "node-admin-pw");
    assert.ok(!(request.secrets ?? []).includes("example.org"));
  });

  it("are longest first, so a secret containing another is masked whole", () => {
    const request = jobRequest(web, "install", {
      actor: actors.get("web"),
      lookup: (name) => all.get(name),
      actors: (name) => actors.get(name),
      runId: "r1",
      repo: { name: "repo", path: "/repo" },
    });
    assert.deepEqual(request.secrets, ["app-token", "web-key"]);
  });
});

describe("jobRequest ancestors (the executor walk)", () => {
  const actors = new Map<string, ActorRecord>([
    ["node", { ...secretActor("node", "key = type:str secret\n"), actionsPath: "/t/node.js" }],
    ["os", { ...actor("os"), actionsPath: null }],
    ["app", { ...actor("app"), config: { ...actor("app").config, executor: "local" } }],
  ]);
  const node = service("node", "n1");
  node.data = { key: "-----BEGIN PRIVATE KEY----- abc" };
  const os = service("os", "o1");
  const app = service("app", "a1");
  link(os, node, true);
  link(app, os, true);
  const all = new Map<string, ServiceRecord>(
    [node, os, app].map((s) => [`${s.role}!${s.name}`, s]),
  );
  const options = {
    actor: actors.get("app"),
    lookup: (name: string) => all.get(name),
    actors: (name: string) => actors.get(name),
    runId: "r1",
    repo: { name: "repo", path: "/repo" },
  };

  it("lists the parent chain with actions files, and masks a grandparent's secrets", () => {
    const request = jobRequest(app, "install", options);
    assert.deepEqual(
      request.ancestors?.map((a) => [a.service.role, a.service.name, a.actionsPath]),
      [["os", "o1", null], ["node", "n1", "/t/node.js"]],
    );
    assert.ok(request.secrets?.includes("-----BEGIN PRIVATE KEY----- abc"));
    assert.equal(request.executorLocal, true);
    assert.equal(
      jobRequest(node, "install", { ...options, actor: actors.get("node") }).ancestors,
      undefined,
    );
  });

  it("stops at a cycle or an unknown parent", () => {
    const a = service("os", "x");
    const b = service("os", "y");
    a.parent = "os!y";
    b.parent = "os!x";
    const cyclic = new Map([["os!x", a], ["os!y", b]]);
    assert.equal(jobAncestors(a, (n) => cyclic.get(n), () => undefined).length, 1);
    const orphan = service("os", "z");
    orphan.parent = "node!gone";
    assert.deepEqual(jobAncestors(orphan, () => undefined, () => undefined), []);
  });
});
