/**
 * The resolver over stored services read as heads (`ApplyOptions.wholeService`,
 * docs/blueprints.md "How stored services are read"): the same change set as over whole
 * records, with only the services it changes, or whose actions or filters it reads, read whole.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { applyBlueprints, type ChangeSet } from "../../src/blueprint/resolve.ts";
import { readBlueprint } from "../../src/blueprint/read.ts";
import type { ServiceRecord } from "../../src/model/types.ts";
import { actor, actorMap, field } from "./helpers.ts";

const REPO = "shop";
const ACTORS = actorMap(
  actor("sshkey", [field("key", { default: "none" })]),
  actor("node.ssh", [
    field("ssh.port", { type: "int", default: 22 }),
    field("sshkeys", { list: true, consume: { roles: ["sshkey"], min: 1, max: 2 } }),
  ], { actions: ["backup"] }),
);

const TEXT = [
  "sshkey__k:",
  "  key: abc",
  "node.ssh__web:",
  "  ssh.port: 22",
  "  sshkeys: k",
  "node.ssh__db:",
  "  ssh.port: 23",
  "  sshkeys: k",
  "",
].join("\n");

function resolve(text: string, services: ServiceRecord[] = [], whole?: typeof wholeOf) {
  return applyBlueprints([readBlueprint(text, { file: "bp.yaml" })], {
    repoName: REPO,
    actors: ACTORS,
    services,
    wholeService: whole,
  });
}

/** The services after a change set. */
function after(before: ServiceRecord[], changes: ChangeSet): ServiceRecord[] {
  const byKey = new Map(before.map((s) => [s.key, s]));
  for (const s of changes.created) byKey.set(s.key, s);
  for (const u of changes.updated) byKey.set(u.service.key, u.service);
  return [...byKey.values()];
}

let wholeOf: (head: ServiceRecord) => ServiceRecord;

/**
 * The stored services as heads (no actions, no event filters) and a reader of the whole ones
 * that counts what it was asked for.
 */
function heads(stored: ServiceRecord[]): { heads: ServiceRecord[]; asked: string[] } {
  const asked: string[] = [];
  const byKey = new Map(stored.map((s) => [s.key, s]));
  wholeOf = (head) => {
    asked.push(`${head.role}!${head.name}`);
    return structuredClone(byKey.get(head.key)!);
  };
  const list = stored.map((s) => {
    const head = structuredClone(s) as Partial<ServiceRecord>;
    delete head.actions;
    delete head.eventFilters;
    return head as ServiceRecord;
  });
  return { heads: list, asked };
}

/** Both ways, the same change set; returns the services read whole. */
function sameBothWays(text: string, stored: ServiceRecord[]): string[] {
  const expected = resolve(text, structuredClone(stored));
  const { heads: list, asked } = heads(stored);
  assert.deepEqual(resolve(text, list, wholeOf), expected);
  return asked.sort();
}

describe("applyBlueprints over heads", () => {
  const stored = after([], resolve(TEXT));

  it("a re-apply that changes nothing reads no service whole", () => {
    assert.deepEqual(sameBothWays(TEXT, stored), []);
  });

  it("a changed value reads that service whole, and its installed consumers", () => {
    assert.deepEqual(sameBothWays(TEXT.replace("ssh.port: 22", "ssh.port: 2"), stored), [
      "node!web",
    ]);
    const installed = structuredClone(stored);
    for (const s of installed) s.actions.install.state = "ok";
    assert.deepEqual(sameBothWays(TEXT.replace("key: abc", "key: xyz"), installed), [
      "node!db",
      "node!web",
      "sshkey!k",
    ]);
  });

  it("an actions: section reads the services it matches whole", () => {
    const text = TEXT + "actions:\n  - action: backup\n    service: db\n";
    assert.deepEqual(sameBothWays(text, stored), ["node!db"]);
    const recurring = TEXT +
      "actions:\n  - action: backup\n    actor: node.ssh\n    recurring: 1m\n";
    assert.deepEqual(sameBothWays(recurring, stored), ["node!db", "node!web"]);
  });

  it("an eventfilters: section reads the services it matches whole", () => {
    const text = TEXT + "eventfilters:\n  - actor: node.ssh\n    channel: telegram\n";
    assert.deepEqual(sameBothWays(text, stored), ["node!db", "node!web"]);
    const filtered = after(stored, resolve(text, structuredClone(stored)));
    assert.deepEqual(sameBothWays(text, filtered), ["node!db", "node!web"]);
  });

  it("a new link reads the producers whose consumers change, not the others", () => {
    const text = TEXT + "sshkey__k2:\n";
    const relinked = text.replace("sshkeys: k\nnode.ssh__db", "sshkeys: k2\nnode.ssh__db");
    const storedWithK2 = after(stored, resolve(text, structuredClone(stored)));
    assert.deepEqual(sameBothWays(relinked, storedWithK2), ["node!web", "sshkey!k", "sshkey!k2"]);
  });
});
