/**
 * The service commands through dist/ays on both backends (the embedded SQLite default and a
 * private Redis via --store): blueprint, list, show, state, re-apply with a change, set_state,
 * update after a schema change, delete, destroy.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Redis from "ioredis";
import { type BackendRepo, BACKENDS, openBackendRepo } from "../helpers/mod.ts";

const INFRA = fileURLToPath(new URL("../fixtures/repos/infra/", import.meta.url));

interface Entry {
  name: string;
  role: string;
  state: string;
  parent: string | null;
  producers: string[];
  consumers: string[];
  actions: Record<string, unknown>;
  data?: Record<string, unknown>;
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null)) !== null;
}

for (const backend of BACKENDS) {
  describe(`dist/ays service commands (${backend})`, () => {
    let setup: BackendRepo;
    let repo: string;
    let redis: BackendRepo["redis"];
    let ays: BackendRepo["ays"];
    let ok: BackendRepo["ok"];
    let data: BackendRepo["json"];

    before(async () => {
      setup = await openBackendRepo(backend, {
        fixture: INFRA,
        name: "infra",
        prefix: "ays-e2e-services-",
      });
      ({ repo, redis, ays, ok, json: data } = setup);
    });
    after(async () => {
      await setup?.close();
    });

    it("blueprint, then list/show/state", async () => {
      const applied = await ok("blueprint");
      assert.match(applied.stdout, /applied 4 blueprints: 10 created/);
      const list = await data<Entry[]>("list");
      assert.equal(list.length, 10);
      assert.deepEqual(list.map((e) => e.role), [...list.map((e) => e.role)].sort());
      const web1 = list.find((e) => e.role === "node" && e.name === "web1")!;
      assert.equal(web1.parent, "datacenter!dc1");
      assert.deepEqual(web1.consumers, ["os!web1", "web!shop"]);
      const key = await data<Entry>("show", "sshkey:main");
      assert.equal(key.data!.keyPriv, "***");
      const revealed = await data<Entry>("show", "sshkey!main", "--reveal");
      assert.equal(revealed.data!.keyPriv, "PRIVATE KEY DATA");
      assert.match((await ok("list")).stdout, /^SERVICE +ACTOR +STATE/);
      assert.match((await ok("state", "-r", "web")).stdout, /web!shop +new +install +scheduled/);
      assert.equal((await ays("show", "web!nope")).code, 2);
      assert.ok(await exists(join(repo, "services", "sshkey!main", "service.json")));
    });

    it("re-apply with a change: data updated, changed, processChange scheduled", async () => {
      const nodes = join(repo, "blueprints", "02_nodes.yaml");
      await writeFile(
        nodes,
        (await readFile(nodes, "utf8")).replace("ssh.port: 22\n", "ssh.port: 2200\n"),
      );
      const summary = await data<{ scheduled: unknown[] }>("blueprint");
      assert.deepEqual(summary.scheduled, [
        { service: "node!web1", action: "processChange", changes: ["sshPort"] },
      ]);
      const web1 = await data<Entry & { actions: Record<string, { state: string }> }>(
        "show",
        "node!web1",
      );
      assert.equal(web1.data!.sshPort, 2200);
      assert.equal(web1.state, "changed");
      assert.equal(web1.actions.processChange.state, "scheduled");
      await ok("set_state", "processChange", "--state", "ok", "node!web1");
      assert.equal((await data<Entry>("show", "node!web1")).state, "new");
    });

    it("update converts data by field name after a schema change", async () => {
      const schema = join(repo, "actorTemplates", "storage", "disk", "schema.hrd");
      await writeFile(schema, "size = type:str\nkind = type:str default:'ssd'\n");
      const warned = await ok("blueprint");
      assert.match(warned.stderr, /ays update -n disk/);
      const report = await data<{ updated: { removedFields: string[]; addedFields: string[] }[] }>(
        "update",
        "-n",
        "disk",
      );
      assert.deepEqual(report.updated[0].addedFields, ["kind"]);
      const disk = await data<Entry>("show", "disk!auto_0");
      assert.deepEqual(disk.data, { size: "10", kind: "ssd" });
    });

    it("delete with children, links undone; destroy removes everything", async () => {
      assert.equal((await ays("delete", "node!web1")).code, 2);
      const deleted = await data<{ deleted: string[] }>("delete", "node!web1", "--yes");
      assert.deepEqual(deleted.deleted, ["node!web1", "os!web1", "web!shop"]);
      const key = await data<Entry>("show", "sshkey!main");
      assert.deepEqual(key.consumers, ["node!web2"]);
      assert.equal((await data<Entry[]>("list")).length, 7);

      await ok("destroy", "--yes");
      assert.deepEqual(await data("list"), []);
      assert.equal(await exists(join(repo, "services")), false);
      assert.equal(await exists(join(repo, "actors")), false);
      assert.ok(await exists(join(repo, "blueprints", "01_base.yaml")));
      if (redis) {
        const client = new Redis(redis.url);
        try {
          const keys = await client.keys("ays:infra:*");
          assert.deepEqual(keys.filter((k) => /:(service|actor|idx):/.test(k)), []);
        } finally {
          client.disconnect();
        }
      }
      // The templates and blueprints are still there to start over.
      assert.match((await ok("blueprint")).stdout, /10 created/);
    });
  });
}
