import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InputError } from "../../src/errors.ts";
import { applyBlueprints, type ChangeSet } from "../../src/blueprint/resolve.ts";
import { readBlueprint } from "../../src/blueprint/read.ts";
import { serviceKey } from "../../src/model/names.ts";
import type { ServiceRecord } from "../../src/model/types.ts";
import { actor, actorMap, field, storedService } from "./helpers.ts";

const REPO = "shop";

const sshkey = actor("sshkey", [field("key", { default: "none" })]);
const nodeSsh = actor("node.ssh", [
  field("ssh.addr", { type: "ipaddr" }),
  field("ssh.port", { type: "int", default: 22, minval: 1, maxval: 65535 }),
  field("os.image", { aliases: ["image", "img"] }),
  field("sshkeys", { list: true, consume: { roles: ["sshkey"], min: 1, max: 2 }, auto: true }),
  field("tags", { list: true }),
  field("password", { secret: true }),
], { actions: ["backup"], recurring: { monitor: 300 } });
const nodeDocker = actor("node.docker", [field("image")]);
const datacenter = actor("datacenter", [field("location")]);
const cockpit = actor("cockpit", [
  field("description"),
  field("datacenter", { parent: "datacenter" }),
]);
const osUbuntu = actor("os.ubuntu", [field("node", { parent: "node" })]);
const app = actor("app", [field("host", { parent: "vm", auto: true }), field("version")]);
const vm = actor("vm", [field("size", { type: "int", default: 1 })]);
const optionalChild = actor("opt", [field("dc", { parent: "datacenter", optional: true })]);
const db = actor("db", [
  field("replicas", { list: true, consume: { roles: ["disk"], min: 2, max: 3 }, auto: true }),
]);
const disk = actor("disk", [field("gb", { type: "int", default: 10 })]);
const strict = actor("strict", [
  field("disks", { list: true, consume: { roles: ["disk"], min: 1, max: 100 } }),
]);
const loopA = actor("loopa", [field("parent", { parent: "loopb" })]);
const loopB = actor("loopb", [field("parent", { parent: "loopa" })]);

const ACTORS = actorMap(
  sshkey,
  nodeSsh,
  nodeDocker,
  datacenter,
  cockpit,
  osUbuntu,
  app,
  vm,
  optionalChild,
  db,
  disk,
  strict,
  loopA,
  loopB,
);

/** Applies blueprint texts (file names bp1.yaml, bp2.yaml, …) to the given services. */
function apply(texts: string[], services: ServiceRecord[] = []): ChangeSet {
  const docs = texts.map((text, i) => readBlueprint(text, { file: `bp${i + 1}.yaml` }));
  return applyBlueprints(docs, { repoName: REPO, actors: ACTORS, services });
}

/** The services after a change set, as the store would hold them. */
function after(before: ServiceRecord[], changes: ChangeSet): ServiceRecord[] {
  const byKey = new Map(before.map((s) => [s.key, s]));
  for (const s of changes.created) byKey.set(s.key, s);
  for (const u of changes.updated) byKey.set(u.service.key, u.service);
  return [...byKey.values()];
}

function find(services: ServiceRecord[], role: string, name: string): ServiceRecord {
  const found = services.find((s) => s.role === role && s.name === name);
  assert.ok(found, `service ${role}!${name}`);
  return found;
}

function failsAt(
  texts: string[],
  where: string,
  fragment: RegExp,
  services: ServiceRecord[] = [],
): void {
  assert.throws(() => apply(texts, services), (error: unknown) => {
    assert.ok(error instanceof InputError, `expected an InputError, got ${error}`);
    const at = error.location;
    assert.equal(`${at?.file}:${at?.line}:${at?.column}`, where, error.message);
    assert.match(error.message, fragment);
    return true;
  });
}

describe("applyBlueprints: creating services", () => {
  it("creates services with defaults, keys and every action new", () => {
    const result = apply(["sshkey__main:\n"]);
    assert.equal(result.created.length, 1);
    const key = result.created[0];
    assert.equal(key.key, serviceKey(REPO, "sshkey", "main"));
    assert.deepEqual(
      { name: key.name, actor: key.actor, role: key.role, data: key.data, changed: key.changed },
      { name: "main", actor: "sshkey", role: "sshkey", data: { key: "none" }, changed: false },
    );
    assert.deepEqual(Object.keys(key.actions), sshkey.actionNames);
    assert.ok(Object.values(key.actions).every((a) => a.state === "new" && a.lastRun === null));
    assert.deepEqual(result.updated, []);
    assert.deepEqual(result.scheduled, []);
  });

  it("takes the recurring period from the actor config", () => {
    const result = apply(["sshkey__k:\nnode.ssh__web:\n  sshkeys: k\n"]);
    const web = find(result.created, "node", "web");
    assert.equal(web.actions.monitor.period, 300);
    assert.equal(web.actions.install.period, 0);
    assert.ok("backup" in web.actions);
  });

  it("accepts the key as written, with underscores, camelCase, an alias, and the producer's role", () => {
    const result = apply([
      "sshkey__k:\n" +
      "node.ssh__a:\n  ssh.addr: 10.0.0.1\n  ssh_port: 2201\n  image: ubuntu\n  sshkey: k\n" +
      "node.ssh__b:\n  sshAddr: 10.0.0.2\n  sshPort: 2202\n  osImage: debian\n  sshkeys: [k]\n" +
      "node.ssh__c:\n  img: alpine\n  os_image2: x\n",
    ].map((t) => t.replace("  os_image2: x\n", "")));
    const a = find(result.created, "node", "a");
    const b = find(result.created, "node", "b");
    const c = find(result.created, "node", "c");
    assert.deepEqual([a.data.sshAddr, a.data.sshPort, a.data.osImage, a.data.sshkeys], [
      "10.0.0.1",
      2201,
      "ubuntu",
      ["k"],
    ]);
    assert.deepEqual([b.data.sshAddr, b.data.sshPort, b.data.osImage, b.data.sshkeys], [
      "10.0.0.2",
      2202,
      "debian",
      ["k"],
    ]);
    assert.equal(c.data.osImage, "alpine");
  });

  it("two keys for one field are an error", () => {
    failsAt(
      ["node.docker__a:\n  image: x\n  IMAGE: y\n"],
      "bp1.yaml:3:3",
      /unknown attribute 'IMAGE'/,
    );
    failsAt(
      ["sshkey__k:\nnode.ssh__a:\n  image: x\n  os.image: y\n"],
      "bp1.yaml:4:3",
      /'image' and 'os.image' both set field osImage/,
    );
  });

  it("a service may refer to one defined later or in another file", () => {
    const result = apply(["node.ssh__web:\n  sshkeys: late\n", "sshkey__late:\n"]);
    assert.deepEqual(find(result.created, "node", "web").producers, { sshkey: ["sshkey!late"] });
  });
});

describe("applyBlueprints: values", () => {
  it("wrong type at the value", () => {
    failsAt(["node.docker__a:\n  image: [1]\n"], "bp1.yaml:2:10", /image/);
    failsAt(
      ["sshkey__k:\nnode.ssh__a:\n  ssh.port: 'twenty'\n"],
      "bp1.yaml:3:13",
      /sshPort/,
    );
  });

  it("constraint violations at the value", () => {
    failsAt(["sshkey__k:\nnode.ssh__a:\n  ssh.port: 0\n"], "bp1.yaml:3:13", /sshPort/);
    failsAt(["sshkey__k:\nnode.ssh__a:\n  ssh.port: 70000\n"], "bp1.yaml:3:13", /sshPort/);
    failsAt(["sshkey__k:\nnode.ssh__a:\n  ssh.addr: 'not an ip'\n"], "bp1.yaml:3:13", /sshAddr/);
  });

  it("a bad list item is reported at the item", () => {
    failsAt(
      ["sshkey__k:\nnode.ssh__a:\n  tags:\n    - ok\n    - [nested]\n"],
      "bp1.yaml:5:7",
      /tags/,
    );
  });

  it("unknown attribute and unknown actor", () => {
    failsAt(
      ["node.docker__a:\n  colour: red\n"],
      "bp1.yaml:2:3",
      /unknown attribute 'colour'.*fields: image/,
    );
    failsAt(
      ["sshkey__k:\n\nnode.sshh__a:\n"],
      "bp1.yaml:3:1",
      /unknown actor 'node.sshh'.*did you mean/,
    );
  });

  it("secret values never appear in messages", () => {
    assert.throws(
      () => apply(["sshkey__k:\nnode.ssh__a:\n  password: [hunter2]\n"]),
      (error: unknown) => error instanceof InputError && !error.message.includes("hunter2"),
    );
  });

  it("the same attribute with two values in the unit is an error; the same value is fine", () => {
    failsAt(
      ["node.docker__a:\n  image: x\n", "node.docker__a:\n  image: y\n"],
      "bp2.yaml:2:10",
      /two different values.*bp1\.yaml:2:10/,
    );
    const same = apply(["node.docker__a:\n  image: x\n", "node.docker__a:\n  image: x\n"]);
    assert.equal(same.created.length, 1);
  });
});

describe("applyBlueprints: parents", () => {
  it("links the named parent, which is also a producer, and the parent lists the child", () => {
    const result = apply([
      "datacenter__dc1:\ndatacenter__dc2:\ncockpit__c:\n  datacenter: dc2\n",
    ]);
    const c = find(result.created, "cockpit", "c");
    assert.equal(c.parent, "datacenter!dc2");
    assert.deepEqual(c.producers, { datacenter: ["datacenter!dc2"] });
    assert.equal(c.data.datacenter, "dc2");
    assert.deepEqual(find(result.created, "datacenter", "dc2").consumers, ["cockpit!c"]);
    assert.deepEqual(find(result.created, "datacenter", "dc1").consumers, []);
  });

  it("a named parent that does not exist is an error at the name", () => {
    failsAt(
      ["datacenter__dc1:\ncockpit__c:\n  datacenter: dcX\n"],
      "bp1.yaml:3:15",
      /parent datacenter!dcX of cockpit!c does not exist/,
    );
    // even when the field is auto
    failsAt(["app__a:\n  host: nope\n"], "bp1.yaml:2:9", /parent vm!nope of app!a does not exist/);
  });

  it("an unnamed parent is the only service of that role, from the store too", () => {
    const stored = [storedService(REPO, datacenter, "only", { data: { location: "" } })];
    const result = apply(["cockpit__c:\n"], stored);
    const c = find(result.created, "cockpit", "c");
    assert.equal(c.parent, "datacenter!only");
    assert.equal(result.updated.length, 1);
    assert.deepEqual(result.updated[0].service.consumers, ["cockpit!c"]);
    assert.deepEqual(result.updated[0].changes, {});
    // The stored record itself is not modified.
    assert.deepEqual(stored[0].consumers, []);
  });

  it("an unnamed parent with several candidates is ambiguous", () => {
    failsAt(
      ["datacenter__a:\ndatacenter__b:\n\ncockpit__c:\n  description: x\n"],
      "bp1.yaml:4:1",
      /needs a parent of role 'datacenter' and 2 exist \(a, b\)/,
    );
  });

  it("a producer named for a field of two roles: the one role that has it, or an error when both do", () => {
    const twoRoles = actorMap(
      actor("cache", [field("size", { type: "int", default: 1 })]),
      actor("store", [field("size", { type: "int", default: 1 })]),
      actor("web", [field("backend", { consume: { roles: ["cache", "store"], min: 1, max: 1 } })]),
    );
    const resolve = (text: string) =>
      applyBlueprints([readBlueprint(text, { file: "bp.yaml" })], {
        repoName: REPO,
        actors: twoRoles,
        services: [],
      });
    const linked = resolve("store__s1:\ncache__c1:\nweb__w:\n  backend: s1\n");
    assert.deepEqual(find(linked.created, "web", "w").producers, { store: ["store!s1"] });
    assert.equal(find(linked.created, "web", "w").data.backend, "s1");
    assert.deepEqual(find(linked.created, "store", "s1").consumers, ["web!w"]);
    assert.throws(
      () => resolve("store__x:\ncache__x:\nweb__w:\n  backend: x\n"),
      (error: unknown) => {
        assert.ok(error instanceof InputError, `expected an InputError, got ${error}`);
        assert.match(error.message, /producer 'x' of web!w is ambiguous: cache!x and store!x/);
        const at = error.location;
        assert.equal(`${at?.file}:${at?.line}:${at?.column}`, "bp.yaml:4:12");
        return true;
      },
    );
  });

  it("an auto-created service takes the first auto_<n> no service of its role has", () => {
    // db!main needs two replicas: disk!auto_0 is declared, so the one created is auto_1.
    const taken = apply(["disk__auto_0:\ndb__main:\n"]);
    assert.deepEqual(
      taken.created.map((s) => `${s.role}!${s.name}`),
      ["disk!auto_0", "db!main", "disk!auto_1"],
    );
    assert.deepEqual(find(taken.created, "db", "main").producers.disk, [
      "disk!auto_0",
      "disk!auto_1",
    ]);
  });

  it("dotted actor names (parent:node.ssh, consume:node.ssh) link to the role and auto-create that actor", () => {
    const dotted = actorMap(
      nodeSsh,
      sshkey,
      actor("web", [field("host", { parent: "node", parentActor: "node.ssh", auto: true })]),
      actor("mon", [
        field("nodes", {
          list: true,
          consume: { roles: ["node"], min: 1, max: 3, actors: ["node.ssh"] },
          auto: true,
        }),
      ]),
    );
    const docs = [readBlueprint("node.ssh__n1:\nmon__m:\nweb__w:\n", { file: "bp.yaml" })];
    const linked = applyBlueprints(docs, { repoName: REPO, actors: dotted, services: [] });
    assert.deepEqual(find(linked.created, "mon", "m").producers.node, ["node!n1"]);
    assert.equal(find(linked.created, "web", "w").parent, "node!n1");
    const alone = applyBlueprints([readBlueprint("web__w:\n", { file: "bp.yaml" })], {
      repoName: REPO,
      actors: dotted,
      services: [],
    });
    assert.equal(find(alone.created, "node", "auto_0").actor, "node.ssh");
    assert.equal(find(alone.created, "web", "w").parent, "node!auto_0");
  });

  it("no parent: created when auto, absent when optional, else an error", () => {
    const auto = apply(["app__a:\n"]);
    assert.deepEqual(auto.created.map((s) => `${s.role}!${s.name}`), ["app!a", "vm!auto_0"]);
    assert.equal(find(auto.created, "app", "a").parent, "vm!auto_0");
    assert.deepEqual(find(auto.created, "vm", "auto_0").consumers, ["app!a"]);
    assert.equal(find(auto.created, "vm", "auto_0").data.size, 1);

    const optional = apply(["opt__o:\n"]);
    assert.equal(optional.created[0].parent, null);
    assert.deepEqual(optional.created[0].producers, {});

    failsAt(
      ["cockpit__c:\n"],
      "bp1.yaml:1:1",
      /needs a parent of role 'datacenter' and none exists/,
    );
  });

  it("a parent cycle is an error", () => {
    failsAt(
      ["loopa__x:\n  parent: y\nloopb__y:\n  parent: x\n"],
      "bp1.yaml:2:11",
      /parent cycle: loopa!x → loopb!y → loopa!x/,
    );
  });

  it("a child can be declared before its parent and under the parent's role", () => {
    const result = apply(["os.ubuntu__u:\n  node: web\n", "node.docker__web:\n"]);
    assert.equal(find(result.created, "os", "u").parent, "node!web");
  });
});

describe("applyBlueprints: producers", () => {
  it("named producers must exist", () => {
    failsAt(
      ["sshkey__k:\nnode.ssh__a:\n  sshkeys: [k, missing]\n"],
      "bp1.yaml:3:16",
      /producer 'missing' of node!a does not exist/,
    );
    const stored = [storedService(REPO, sshkey, "old", { data: { key: "x" } })];
    const result = apply(["node.ssh__a:\n  sshkey: old\n"], stored);
    assert.deepEqual(find(result.created, "node", "a").producers, { sshkey: ["sshkey!old"] });
    assert.deepEqual(result.updated[0].service.consumers, ["node!a"]);
  });

  it("more than max named is an error", () => {
    failsAt(
      ["sshkey__a:\nsshkey__b:\nsshkey__c:\nnode.ssh__n:\n  sshkeys: [a, b, c]\n"],
      "bp1.yaml:5:12",
      /3 producers given, at most 2 allowed/,
    );
  });

  it("fills up to min from existing services in name order", () => {
    const result = apply(["disk__z:\ndisk__b:\ndisk__m:\ndb__d:\n"]);
    assert.deepEqual(find(result.created, "db", "d").producers, { disk: ["disk!b", "disk!m"] });
    assert.deepEqual(find(result.created, "db", "d").data.replicas, ["b", "m"]);
    assert.deepEqual(find(result.created, "disk", "z").consumers, []);
  });

  it("named ones count towards min; the rest are filled", () => {
    const result = apply(["disk__z:\ndisk__b:\ndb__d:\n  replicas: z\n"]);
    assert.deepEqual(find(result.created, "db", "d").producers.disk, ["disk!b", "disk!z"]);
  });

  it("auto-creates the missing ones as auto_<n>, smallest free n", () => {
    const stored = [storedService(REPO, disk, "auto_0", { data: { gb: 10 } })];
    const result = apply(["db__d:\n"], stored);
    assert.deepEqual(result.created.map((s) => `${s.role}!${s.name}`), ["db!d", "disk!auto_1"]);
    assert.deepEqual(find(result.created, "db", "d").producers, {
      disk: ["disk!auto_0", "disk!auto_1"],
    });
  });

  it("without auto, too few producers is an error", () => {
    failsAt(["strict__s:\n  disks: []\n"], "bp1.yaml:2:10", /needs at least 1 producer/);
    // Given none, but one exists: it is linked.
    const filled = apply(["disk__x:\nstrict__s:\n  disks: []\n"]);
    assert.deepEqual(find(filled.created, "strict", "s").producers, { disk: ["disk!x"] });
    failsAt(["strict__s:\n"], "bp1.yaml:1:1", /needs at least 1 producer\(s\) of role disk/);
  });

  it("auto-create needs an actor named like the role", () => {
    const noDiskActor = new Map(ACTORS);
    noDiskActor.delete("disk");
    const docs = [readBlueprint("db__d:\n", { file: "x.yaml" })];
    assert.throws(
      () => applyBlueprints(docs, { repoName: REPO, actors: noDiskActor, services: [] }),
      /no actor named 'disk'/,
    );
  });

  it("the same role!instance from two actors is an error, in the unit or against the store", () => {
    failsAt(
      ["node.ssh__web:\nnode.docker__web:\n"],
      "bp1.yaml:2:1",
      /are the same service node!web/,
    );
    const stored = [storedService(REPO, nodeDocker, "web", { data: { image: "" } })];
    failsAt(
      ["sshkey__k:\nnode.ssh__web:\n"],
      "bp1.yaml:2:1",
      /already exists from actor 'node.docker'/,
      stored,
    );
  });
});

describe("applyBlueprints: re-applying", () => {
  const text = "sshkey__k:\n" +
    "node.ssh__web:\n  ssh.addr: 10.0.0.5\n  ssh.port: 22\n  sshkeys: k\n" +
    "os.ubuntu__u:\n  node: web\n";

  it("is idempotent", () => {
    const first = apply([text]);
    const stored = after([], first);
    const snapshot = structuredClone(stored);
    const second = apply([text], stored);
    assert.deepEqual(second, { created: [], updated: [], scheduled: [], warnings: [] });
    assert.deepEqual(stored, snapshot);
  });

  it("a changed value updates the data, marks the service changed and schedules processChange", () => {
    const stored = after([], apply([text]));
    stored.find((s) => s.name === "web")!.data.osImage = "kept";
    const changed = apply([text.replace("ssh.port: 22", "ssh.port: 2222")], stored);
    assert.deepEqual(changed.created, []);
    assert.equal(changed.updated.length, 1);
    const web = changed.updated[0];
    assert.deepEqual(web.changes, { sshPort: { old: 22, new: 2222 } });
    assert.equal(web.service.data.sshPort, 2222);
    assert.equal(web.service.data.osImage, "kept", "attributes the blueprint does not name stay");
    assert.equal(web.service.changed, true);
    assert.equal(web.service.actions.processChange.state, "scheduled");
    assert.deepEqual(changed.scheduled, [{
      service: "node!web",
      action: "processChange",
      args: { changes: { sshPort: { old: 22, new: 2222 } } },
    }]);
  });

  it("processChange is scheduled again even when it was ok", () => {
    const stored = after([], apply([text]));
    stored.find((s) => s.name === "web")!.actions.processChange.state = "ok";
    const changed = apply([text.replace("10.0.0.5", "10.0.0.6")], stored);
    assert.equal(changed.updated[0].service.actions.processChange.state, "scheduled");
  });

  it("an attribute left out of the blueprint keeps its value", () => {
    const stored = after([], apply([text]));
    const result = apply([text.replace("  ssh.port: 22\n", "")], stored);
    assert.deepEqual(result.updated, []);
  });

  it("re-linking a producer moves the consumer entry", () => {
    const stored = after([], apply([text + "sshkey__k2:\n"]));
    const result = apply([text.replace("sshkeys: k", "sshkeys: k2") + "sshkey__k2:\n"], stored);
    const byName = new Map(result.updated.map((u) => [u.service.name, u]));
    assert.deepEqual(byName.get("web")!.service.producers, { sshkey: ["sshkey!k2"] });
    assert.deepEqual(byName.get("web")!.changes, { sshkeys: { old: ["k"], new: ["k2"] } });
    assert.deepEqual(byName.get("k")!.service.consumers, []);
    assert.deepEqual(byName.get("k2")!.service.consumers, ["node!web"]);
  });
});

describe("applyBlueprints: actions and eventfilters", () => {
  const services = "sshkey__k:\nnode.ssh__web1:\n  sshkeys: k\nnode.ssh__web2:\n  sshkeys: k\n" +
    "node.docker__db:\n";

  it("schedules actions for the services the regexes match", () => {
    const result = apply([
      services + "actions:\n  - action: install,start\n    actor: node\\..*\n    service: web.*\n",
    ]);
    assert.deepEqual(result.scheduled, [
      { service: "node!web1", action: "install" },
      { service: "node!web2", action: "install" },
      { service: "node!web1", action: "start" },
      { service: "node!web2", action: "start" },
    ]);
    assert.equal(find(result.created, "node", "db").actions.install.state, "new");
    assert.equal(find(result.created, "node", "web1").actions.start.state, "scheduled");
  });

  it("regexes match the whole name", () => {
    const result = apply([services + "actions:\n  - action: install\n    service: web\n"]);
    assert.deepEqual(result.scheduled, []);
    assert.match(
      result.warnings.join("\n"),
      /bp1\.yaml:8:5: this actions entry matches no service/,
    );
  });

  it("does not reschedule ok actions unless forced", () => {
    const stored = after([], apply([services]));
    for (const s of stored) s.actions.install.state = "ok";
    const plain = apply([services + "actions:\n  - action: install\n"], stored);
    assert.deepEqual(plain, { created: [], updated: [], scheduled: [], warnings: [] });
    const forced = apply([services + "actions:\n  - action: install\n    force: true\n"], stored);
    assert.equal(forced.scheduled.length, 4);
    assert.equal(forced.updated.length, 4);
  });

  it("recurring inside an actions entry sets the period and schedules the action, as v8.1", () => {
    const result = apply([
      services + "actions:\n  - action: backup\n    actor: node.ssh\n    recurring: 1m\n",
    ]);
    assert.deepEqual(
      result.scheduled.filter((s) => s.action === "backup").map((s) => s.service).sort(),
      ["node!web1", "node!web2"],
    );
    assert.equal(find(result.created, "node", "web1").actions.backup.period, 60);
    assert.equal(find(result.created, "node", "web1").actions.backup.state, "scheduled");
    const off = apply([
      services + "actions:\n  - action: backup\n    actor: node.ssh\n    recurring: 0\n",
    ]);
    assert.deepEqual(off.scheduled, []);
  });

  it("an action no matching service has is an error at the action", () => {
    failsAt(
      [services + "actions:\n  - action: install,backup\n    actor: node.docker\n"],
      "bp1.yaml:8:13",
      /no matching service has an action 'backup'/,
    );
  });

  it("eventfilters are stored on the matching services, once", () => {
    const text = services +
      "eventfilters:\n  - actor: node.ssh\n    channel: telegram\n    cmd: restart\n";
    const result = apply([text]);
    assert.deepEqual(find(result.created, "node", "web1").eventFilters, [
      { actor: "node.ssh", channel: "telegram", cmd: "restart" },
    ]);
    assert.deepEqual(find(result.created, "node", "db").eventFilters, []);
    const again = apply([text], after([], result));
    assert.deepEqual(again.updated, []);
  });
});

describe("applyBlueprints: v8.1 repositories", () => {
  const run = (text: string, extra: Partial<Parameters<typeof applyBlueprints>[1]> = {}) =>
    applyBlueprints([readBlueprint(text, { file: "bp.yaml" })], {
      repoName: REPO,
      actors: ACTORS,
      services: [],
      ...extra,
    });

  it("an unusable actor fails only the blueprint that uses it, with its reason", () => {
    const unusable = new Map([["vfs", {
      message: "template 'vfs' is defined twice: a/vfs and b/vfs",
    }]]);
    assert.equal(run("vm__v:\n", { unusable }).created.length, 1);
    assert.throws(
      () => run("vm__v:\nvfs__x:\n", { unusable }),
      (e: unknown) =>
        e instanceof InputError && e.location?.line === 2 &&
        /actor 'vfs' cannot be used: template 'vfs' is defined twice: a\/vfs and b\/vfs/.test(
          e.message,
        ),
    );
    const broken = new Map([["vm", {
      message: "unknown tag",
      location: { file: "t/vm/schema.hrd", line: 1, column: 5 },
    }]]);
    assert.throws(
      () => run("vm__v:\n", { unusable: broken }),
      (e: unknown) =>
        e instanceof InputError && e.location?.file === "t/vm/schema.hrd" &&
        e.location.line === 1 && e.location.column === 5 &&
        e.message === "unknown tag (the template of actor 'vm', used at bp.yaml:1:1)",
    );
    assert.throws(
      () => run("app__a:\n", { unusable: broken, actors: actorMap(app) }),
      /unknown tag \(the template of actor 'vm', used at bp\.yaml:1:1\)/,
    );
  });

  it("blueprint.<actor> is the fallback when <actor> has no template", () => {
    const actors = actorMap(actor("blueprint.site", [field("title")]), vm);
    const result = run("site__main:\n  title: hello\n", { actors });
    assert.equal(result.created[0].actor, "blueprint.site");
    assert.equal(result.created[0].data.title, "hello");
    assert.throws(() => run("nosite__main:\n", { actors }), /unknown actor 'nosite'/);
  });

  it("compat v81: a named producer that does not exist is dropped with a warning", () => {
    const text = "disk__d1:\nstrict__s:\n  disks: [d1, uservdc]\n";
    assert.throws(() => run(text), /producer 'uservdc' of strict!s does not exist/);
    const result = run(text, { compat: "v81" });
    assert.deepEqual(find(result.created, "strict", "s").producers, { disk: ["disk!d1"] });
    assert.equal(result.warnings.length, 1);
    assert.match(
      result.warnings[0],
      /^bp\.yaml:3:15: compat v81: producer 'uservdc' of strict!s does not exist .*dropped, as v8\.1 did/,
    );
  });
});

describe("collecting garbage while resolving", () => {
  it("changes nothing in the result", () => {
    const text = "sshkey__main:\n  key: k\nnode.ssh__a:\n  ssh.addr: 10.0.0.1\nnode.ssh__b:\n";
    const stored = apply([text]).created;
    const next = "sshkey__main:\n  key: k2\nnode.ssh__a:\n  ssh.addr: 10.0.0.2\n";
    const docs = [readBlueprint(next, { file: "bp1.yaml" })];
    const plain = applyBlueprints(docs, { repoName: REPO, actors: ACTORS, services: stored });
    const collected = applyBlueprints(docs, {
      repoName: REPO,
      actors: ACTORS,
      services: stored,
      collectGarbage: true,
    });
    assert.deepEqual(collected, plain);
    assert.ok(plain.updated.length > 0);
  });
});
