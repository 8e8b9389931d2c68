/**
 * A job's `secrets` (masked in its log, result and error) hold every secret value the job is
 * given: its own service's and those of the parent, producers and consumers it sees.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readSchemaHrd } from "../../src/hrd/mod.ts";
import type { ActorRecord, ServiceRecord } from "../../src/model/types.ts";
import { jobRequest } from "../../src/run/job_request.ts";
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
