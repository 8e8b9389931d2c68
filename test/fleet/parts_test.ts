import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  cacheTree,
  decodePayload,
  encodePayload,
  type FleetPayload,
  labelOf,
  readTemplateTree,
  RefusedJobError,
  servesLabel,
  signPayload,
  treeHash,
} from "../../src/fleet/mod.ts";
import { readActorYaml } from "../../src/hrd/mod.ts";
import type { ActorRecord } from "../../src/model/mod.ts";
import { parseRepoConfig } from "../../src/repo/config_yaml.ts";
import { loadTemplateTree, saveTemplateTree } from "../../src/store/mod.ts";
import { makeTempDir, writeFiles } from "../helpers/mod.ts";
import { makeServiceRecord } from "../helpers/service_record.ts";

const enc = (text: string) => new TextEncoder().encode(text);

describe("template trees", () => {
  it("hash every file by path and content, whatever the order; a change is another hash", () => {
    const a = [{ path: "actions.ts", data: enc("x") }, { path: "lib/h.ts", data: enc("y") }];
    assert.equal(treeHash(a), treeHash([...a].reverse()));
    assert.notEqual(treeHash(a), treeHash([a[0], { path: "lib/h.ts", data: enc("z") }]));
    assert.notEqual(treeHash(a), treeHash([a[0], { path: "lib/g.ts", data: enc("y") }]));
    // path and content are delimited: moving a byte between them changes the hash
    assert.notEqual(
      treeHash([{ path: "ab", data: enc("c") }]),
      treeHash([{ path: "a", data: enc("bc") }]),
    );
  });

  it("read a folder without dot-entries and node_modules, keep and load it by hash, cache it", async () => {
    const dir = await makeTempDir();
    try {
      await writeFiles(dir.path, {
        "t/actions.ts": "export const a = 1;\n",
        "t/lib/helper.ts": "export const h = 2;\n",
        "t/.git/HEAD": "no",
        "t/node_modules/x/index.js": "no",
      });
      const tree = await readTemplateTree(join(dir.path, "t"));
      assert.deepEqual(tree.files.map((f) => f.path).sort(), ["actions.ts", "lib/helper.ts"]);
      const kv = new Map<string, Uint8Array>();
      const store = {
        get: (key: string) => Promise.resolve(kv.get(key) ?? null),
        set: (key: string, value: Uint8Array) => Promise.resolve(void kv.set(key, value)),
      };
      await saveTemplateTree(store, tree);
      assert.deepEqual([...kv.keys()], [`tree:${tree.sha}`]);
      const loaded = await loadTemplateTree(store, tree.sha);
      assert.equal(treeHash(loaded!), tree.sha);
      const cached = await cacheTree(
        join(dir.path, "cache"),
        tree.sha,
        { load: () => Promise.resolve(loaded!) },
      );
      assert.equal(
        await readFile(join(cached, "lib", "helper.ts"), "utf8"),
        "export const h = 2;\n",
      );
      // A second job finds it cached and fetches nothing.
      const again = await cacheTree(join(dir.path, "cache"), tree.sha, {
        load: () => {
          throw new Error("fetched again");
        },
      });
      assert.equal(again, cached);
    } finally {
      await dir.remove();
    }
  });

  it("a cache refuses files that do not match their hash, or that leave the folder", async () => {
    const dir = await makeTempDir();
    try {
      const good = [{ path: "actions.ts", data: enc("x") }];
      const sha = treeHash(good);
      await assert.rejects(
        cacheTree(
          dir.path,
          sha,
          { load: () => Promise.resolve([{ path: "actions.ts", data: enc("evil") }]) },
        ),
        /do not match their hash/,
      );
      const escaping = [{ path: "../escape.ts", data: enc("x") }];
      await assert.rejects(
        cacheTree(dir.path, treeHash(escaping), { load: () => Promise.resolve(escaping) }),
        /bad path/,
      );
    } finally {
      await dir.remove();
    }
  });
});

describe("payloads", () => {
  const payload = { v: 1, request: {}, tree: null, label: "default" } as unknown as FleetPayload;

  it("a worker without a key reads any payload; one with a key only correctly signed ones", () => {
    assert.deepEqual(decodePayload(encodePayload(payload)), payload);
    assert.deepEqual(decodePayload(encodePayload(payload, "k"), "k"), payload);
    assert.throws(() => decodePayload(encodePayload(payload), "k"), /not signed/);
    assert.throws(() => decodePayload(encodePayload(payload, "other"), "k"), /does not match/);
    const tampered = encodePayload(payload, "k");
    tampered.payload = tampered.payload.replace("default", "db");
    assert.throws(() => decodePayload(tampered, "k"), RefusedJobError);
    assert.match(signPayload("text", "k"), /^hmac-sha256:[0-9a-f]{64}$/);
  });

  it("refuses what is not a fleet payload of this version", () => {
    assert.throws(() => decodePayload({ nope: 1 }), /not a job of the ays fleet/);
    assert.throws(() => decodePayload({ payload: "{", signature: null }), /not JSON/);
    assert.throws(
      () => decodePayload(encodePayload({ ...payload, v: 99 })),
      /payload version 99/,
    );
  });

  it("names one tree or null per ancestor, each a SHA-256, or refuses the job", () => {
    const sha = "a".repeat(64);
    const ancestor = { actionsPath: "actions.js", service: { data: {} } };
    const withAncestors = (ancestorTrees: unknown, count = 2) =>
      encodePayload({
        ...payload,
        request: { ancestors: Array.from({ length: count }, () => ancestor) },
        ancestorTrees,
      } as unknown as FleetPayload);
    assert.deepEqual(decodePayload(withAncestors([sha, null])).ancestorTrees, [sha, null]);
    for (const bad of [[sha], [sha, "b".repeat(63)], "nope", [sha, 7]]) {
      assert.throws(
        () => decodePayload(withAncestors(bad)),
        /no valid template trees of its ancestors/,
        JSON.stringify(bad),
      );
    }
  });
});

describe("routing", () => {
  const actor = (name: string, worker?: string) =>
    ({
      name,
      config: { recurring: {}, actions: {}, flists: {}, events: {}, worker },
    }) as unknown as ActorRecord;
  const actors = new Map([
    ["dc", actor("dc", "zone1")],
    ["node", actor("node", "edge")],
    ["app", actor("app")],
    ["free", actor("free")],
  ]);
  const services = new Map([
    ["dc!d1", makeServiceRecord({ name: "dc", role: "dc" }, "d1")],
    ["node!n1", makeServiceRecord({ name: "node", role: "node" }, "n1", { parent: "dc!d1" })],
    ["app!a1", makeServiceRecord({ name: "app", role: "app" }, "a1", { parent: "node!n1" })],
    ["free!f1", makeServiceRecord({ name: "free", role: "free" }, "f1")],
  ]);

  it("takes the actor's label, else the nearest ancestor's, else default", () => {
    assert.equal(labelOf("node!n1", { services, actors }), "edge");
    assert.equal(labelOf("app!a1", { services, actors }), "edge");
    assert.equal(labelOf("dc!d1", { services, actors }), "zone1");
    assert.equal(labelOf("free!f1", { services, actors }), "default");
  });

  it("a live worker serves its labels and default; a gone one serves nothing", () => {
    const w = { live: true, labels: ["edge", "default"] } as never;
    const gone = { live: false, labels: ["db", "default"] } as never;
    assert.equal(servesLabel([w], "edge"), true);
    assert.equal(servesLabel([w], "default"), true);
    assert.equal(servesLabel([w, gone], "db"), false);
  });
});

describe("settings of the fleet", () => {
  it("worker: of actor.yaml is a label, checked at its line", () => {
    assert.equal(readActorYaml("worker: edge\n").worker, "edge");
    assert.equal(readActorYaml("recurring: {}\n").worker, undefined);
    assert.throws(
      () => readActorYaml("recurring: {}\nworker: 'no spaces'\n", { file: "actor.yaml" }),
      (e: Error & { location?: { line: number } }) =>
        /worker: must start with a letter or digit/.test(e.message) && e.location?.line === 2,
    );
  });

  it("fleet: of .ays/config.yaml is true or false", () => {
    assert.deepEqual(parseRepoConfig("fleet: true\n", { file: "c.yaml" }), { fleet: true });
    assert.throws(() => parseRepoConfig("fleet: yes please\n", { file: "c.yaml" }), /'fleet'/);
  });
});
