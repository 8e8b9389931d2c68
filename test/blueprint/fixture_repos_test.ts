/**
 * The fixture repositories of test/fixtures/repos/ applied through the whole store-independent
 * path: find the repository, load its templates, list and read its active blueprints, apply
 * them as one unit. The end-to-end tests drive the same repositories through the binary.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { listBlueprints, readBlueprintFiles } from "../../src/blueprint/files.ts";
import { applyBlueprints, type ChangeSet } from "../../src/blueprint/resolve.ts";
import { serviceName } from "../../src/model/names.ts";
import { serviceState } from "../../src/model/schedule.ts";
import type { ServiceRecord } from "../../src/model/types.ts";
import { loadRepoActors } from "../../src/repo/actor.ts";
import { openRepo } from "../../src/repo/open.ts";

const REPOS = fileURLToPath(new URL("../fixtures/repos/", import.meta.url));

async function applyRepo(
  folder: string,
  services: ServiceRecord[] = [],
): Promise<{ result: ChangeSet; name: string; warnings: string[]; marker: string }> {
  const repo = await openRepo(REPOS + folder + "/blueprints", { env: {}, noRegister: true });
  const { actors, warnings } = await loadRepoActors(repo.path);
  const docs = await readBlueprintFiles(await listBlueprints(repo.path), { relativeTo: repo.path });
  const result = applyBlueprints(docs, { repoName: repo.name, actors, services });
  return { result, name: repo.name, warnings, marker: repo.marker };
}

function byName(services: ServiceRecord[]): Map<string, ServiceRecord> {
  return new Map(services.map((s) => [serviceName(s.role, s.name), s]));
}

describe("fixture repository infra", () => {
  it("applies to the expected services, links, actions and filters", async () => {
    const { result, name, warnings } = await applyRepo("infra");
    assert.equal(name, "infra");
    assert.deepEqual(warnings, []);
    assert.deepEqual(result.updated, []);
    const all = byName(result.created);
    assert.deepEqual([...all.keys()].sort(), [
      "datacenter!dc1",
      "db!main",
      "disk!auto_0",
      "disk!auto_1",
      "node!cache",
      "node!web1",
      "node!web2",
      "os!web1",
      "sshkey!main",
      "web!shop",
    ]);
    const web1 = all.get("node!web1")!;
    const web2 = all.get("node!web2")!;
    assert.deepEqual(web1.data, {
      sshAddr: "10.0.0.5",
      sshPort: 22,
      sshkey: "main",
      osImage: "ubuntu-22.04",
      tags: ["web", "prod"],
      password: "",
      datacenter: "dc1",
    });
    assert.deepEqual(
      [web2.data.sshAddr, web2.data.sshPort, web2.data.osImage, web2.data.tags, web2.data.sshkey],
      ["10.0.0.6", 2222, "debian-12", ["web", "staging"], "main"],
    );
    assert.equal(all.get("node!cache")!.data.image, "redis");
    // The only datacenter is the unnamed parent of both ssh nodes, and also their producer.
    assert.equal(web1.parent, "datacenter!dc1");
    assert.deepEqual(web2.producers, { datacenter: ["datacenter!dc1"], sshkey: ["sshkey!main"] });
    assert.equal(all.get("node!cache")!.parent, null);
    assert.equal(all.get("os!web1")!.parent, "node!web1");
    assert.equal(all.get("os!web1")!.data.version, "24.04");
    assert.deepEqual(all.get("db!main")!.producers, { disk: ["disk!auto_0", "disk!auto_1"] });
    assert.deepEqual(all.get("web!shop")!.producers, { db: ["db!main"], node: ["node!web1"] });
    assert.deepEqual(all.get("node!web1")!.consumers, ["os!web1", "web!shop"]);
    assert.deepEqual(all.get("sshkey!main")!.consumers, ["node!web1", "node!web2"]);
    assert.deepEqual(all.get("datacenter!dc1")!.consumers, ["node!web1", "node!web2"]);
    assert.deepEqual(all.get("disk!auto_1")!.consumers, ["db!main"]);
    assert.equal(all.get("sshkey!main")!.data.keyPriv, "PRIVATE KEY DATA");

    // actions: install everywhere, start on the ssh nodes named web*, monitor every 5m.
    for (const service of all.values()) {
      assert.equal(
        service.actions.install.state,
        "scheduled",
        serviceName(service.role, service.name),
      );
    }
    assert.deepEqual(
      result.scheduled.filter((s) => s.action === "start").map((s) => s.service),
      ["node!web1", "node!web2"],
    );
    assert.equal(web1.actions.monitor.period, 300);
    assert.equal(all.get("node!cache")!.actions.monitor.period, 0);
    assert.equal(all.get("web!shop")!.actions.monitor.period, 300, "from actor.yaml");
    assert.deepEqual(web1.eventFilters, [
      { actor: "node.ssh", channel: "telegram", cmd: "restart" },
    ]);
    assert.deepEqual(all.get("node!cache")!.eventFilters, []);
    assert.ok("processChange" in web1.actions && "install" in web1.actions);
    assert.equal(serviceState(web1), "new");
  });

  it("re-applies without any change", async () => {
    const first = await applyRepo("infra");
    const again = await applyRepo("infra", first.result.created);
    assert.deepEqual(again.result, { created: [], updated: [], scheduled: [], warnings: [] });
  });
});

describe("fixture repository v81", () => {
  it("accepts the v8.1 layout: .ays file, actor.hrd, a field defined twice, unnamed parent", async () => {
    const { result, name, warnings, marker } = await applyRepo("v81");
    assert.equal(name, "v81");
    assert.equal(marker, "file");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /cockpit[\\/]schema\.hrd:3/);
    const all = byName(result.created);
    assert.deepEqual([...all.keys()].sort(), [
      "cockpit!cockpitv1",
      "datacenter!ovh_germany1",
      "test_recurring!instance",
    ]);
    const cockpit = all.get("cockpit!cockpitv1")!;
    assert.equal(cockpit.parent, "datacenter!ovh_germany1");
    assert.equal(cockpit.data.description, "cockpit v1");
    const recurring = all.get("test_recurring!instance")!;
    assert.equal(recurring.actions.check.period, 60);
    assert.equal(recurring.actions.check.state, "scheduled");
    assert.equal(recurring.data.timeout, 2);
  });
});
