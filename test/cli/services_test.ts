/**
 * The service commands in-process (runCli + captureIo) on temporary copies of the `infra`
 * fixture repository: blueprint, list, show, state, set_state, delete, destroy, update.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { cp, readdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { captureIo, runCli } from "../../src/cli/mod.ts";
import { currentHolder } from "../../src/store/holder.ts";
import { openRepositoryStore } from "../../src/store/open.ts";
import type { ServiceRecord } from "../../src/model/types.ts";
import { makeTempDir, type TempDir } from "../helpers/mod.ts";

const INFRA = fileURLToPath(new URL("../fixtures/repos/infra/", import.meta.url));

interface Result {
  code: number;
  out: string;
  err: string;
}

/** A temporary copy of the infra repository with its own config home. */
async function infraCopy(): Promise<
  { dir: TempDir; repo: string; ays: (...args: string[]) => Promise<Result> }
> {
  const dir = await makeTempDir("ays-services-");
  const repo = join(dir.path, "infra");
  await cp(INFRA, repo, { recursive: true });
  const env = { XDG_CONFIG_HOME: join(dir.path, "cfg") };
  const ays = async (...args: string[]): Promise<Result> => {
    const io = captureIo({ env, cwd: repo });
    const code = await runCli(args, io);
    return { code, out: io.out.join(""), err: io.err.join("") };
  };
  return { dir, repo, ays };
}

async function json<T>(result: Promise<Result>): Promise<T> {
  const r = await result;
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out) as T;
}

/** The stored service records (with action args), by `role!name`. */
async function storedServices(repo: string): Promise<Map<string, ServiceRecord>> {
  const opened = await openRepositoryStore({
    repoPath: repo,
    repoName: "infra",
    env: { XDG_CONFIG_HOME: join(repo, "..", "cfg") },
  });
  try {
    const services = await opened.store.loadServices();
    return new Map(services.map((s) => [`${s.role}!${s.name}`, s]));
  } finally {
    await opened.driver.close();
  }
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null)) !== null;
}

interface ListEntry {
  key: string;
  name: string;
  actor: string;
  role: string;
  state: string;
  parent: string | null;
  producers: string[];
  consumers: string[];
  actions: Record<string, string>;
}

describe("ays blueprint, list, show, state", () => {
  let dir: TempDir;
  let repo: string;
  let ays: (...args: string[]) => Promise<Result>;
  before(async () => {
    ({ dir, repo, ays } = await infraCopy());
  });
  after(() => dir.remove());

  it("--dry-run prints the change and writes nothing", async () => {
    const r = await ays("blueprint", "--dry-run");
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^\+ node!web1 \(node\.ssh\)$/m);
    assert.match(r.out, /^\+ disk!auto_1 \(disk\)$/m);
    assert.match(r.out, /nothing written/);
    const summary = await json<{ created: unknown[]; dryRun: boolean }>(
      ays("blueprint", "--dry-run", "--json"),
    );
    assert.equal(summary.dryRun, true);
    assert.equal(summary.created.length, 10);
    assert.equal(await exists(join(repo, "services")), false);
    assert.equal(await exists(join(repo, "actors")), false);
    assert.deepEqual(await json(ays("list", "--json")), []);
  });

  it("applies every active blueprint as one unit", async () => {
    const r = await ays("blueprint");
    assert.equal(r.code, 0, r.err);
    // 14: `recurring: 5m` schedules monitor of node!web1 and node!web2 too (v8.1).
    assert.match(r.out, /applied 4 blueprints: 10 created, 0 updated, 14 scheduled/);
    assert.ok(
      await exists(
        join(repo, "services", "datacenter!dc1", "node!web1", "os!web1", "service.json"),
      ),
    );
    assert.ok(await exists(join(repo, "actors", "node.ssh", "actor.json")));
  });

  it("list --json: the docs/cli.md shape, sorted by role then name, links resolved", async () => {
    const list = await json<ListEntry[]>(ays("list", "--json"));
    assert.deepEqual(list.map((e) => `${e.role}!${e.name}`), [
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
    const by = new Map(list.map((e) => [`${e.role}!${e.name}`, e]));
    const web1 = by.get("node!web1")!;
    assert.deepEqual(Object.keys(web1), [
      "key",
      "name",
      "actor",
      "role",
      "state",
      "parent",
      "producers",
      "consumers",
      "actions",
    ]);
    // Unnamed optional parent: exactly one datacenter exists, so it is the parent.
    assert.equal(web1.parent, "datacenter!dc1");
    assert.deepEqual(web1.producers, ["datacenter!dc1", "sshkey!main"]);
    assert.deepEqual(web1.consumers, ["os!web1", "web!shop"]);
    assert.equal(by.get("os!web1")!.parent, "node!web1");
    // consume:disk:2:3 auto → two disks created as auto_0 and auto_1.
    assert.deepEqual(by.get("db!main")!.producers, ["disk!auto_0", "disk!auto_1"]);
    assert.deepEqual(by.get("disk!auto_0")!.consumers, ["db!main"]);
    // sshkey consume:1:1 auto, not named for web2 → the one existing key is linked.
    assert.deepEqual(by.get("node!web2")!.producers, ["datacenter!dc1", "sshkey!main"]);
    assert.deepEqual(by.get("web!shop")!.producers, ["db!main", "node!web1"]);
    // The actions section: install for all; start for node.* actors whose name matches web.*.
    assert.ok(list.every((e) => e.actions.install === "scheduled"));
    assert.equal(web1.actions.start, "scheduled");
    assert.equal(by.get("node!cache")!.actions.start, "new");
    assert.equal(web1.state, "new");
  });

  it("-r matches a role or an actor, -i a whole instance name", async () => {
    const names = async (...args: string[]) =>
      (await json<ListEntry[]>(ays("list", "--json", ...args))).map((e) => `${e.role}!${e.name}`);
    assert.deepEqual(await names("-r", "node"), ["node!cache", "node!web1", "node!web2"]);
    assert.deepEqual(await names("-r", "node.ssh"), ["node!web1", "node!web2"]);
    // A filter that names nothing is a typo: exit 2 with the nearest name.
    const typo = await ays("list", "-i", "web");
    assert.equal(typo.code, 2);
    assert.match(typo.err, /no service matches -i web \(did you mean 'web1'\?\)/);
    const role = await ays("list", "-r", "nod");
    assert.equal(role.code, 2);
    assert.match(role.err, /unknown role or actor 'nod' \(did you mean 'node'\?\)/);
    assert.deepEqual(await names("-i", "web.*"), ["node!web1", "node!web2", "os!web1"]);
    assert.equal((await ays("list", "-i", "(")).code, 2);
  });

  it("show: three key spellings and aliases, list fields, secrets masked unless --reveal", async () => {
    const web2 = await json<{ data: Record<string, unknown> }>(ays("show", "node!web2", "--json"));
    assert.equal(web2.data.sshAddr, "10.0.0.6"); // ssh_addr
    assert.equal(web2.data.sshPort, 2222); // sshPort
    assert.equal(web2.data.osImage, "debian-12"); // alias image
    assert.deepEqual(web2.data.tags, ["web", "staging"]);
    const key = await json<{ data: Record<string, unknown>; actions: Record<string, unknown> }>(
      ays("show", "sshkey:main", "--json"),
    );
    assert.equal(key.data.keyPriv, "***");
    assert.deepEqual(key.actions.install, { state: "scheduled", period: 0, lastRun: null });
    const revealed = await json<{ data: Record<string, unknown> }>(
      ays("show", "sshkey!main", "--reveal", "--json"),
    );
    assert.equal(revealed.data.keyPriv, "PRIVATE KEY DATA");
    const text = await ays("show", "sshkey!main");
    assert.equal(text.code, 0);
    assert.match(text.out, /keyPriv: +"\*\*\*"/);
    assert.doesNotMatch(text.out, /PRIVATE KEY DATA/);
    const mirror = await readFile(join(repo, "services", "sshkey!main", "service.json"), "utf8");
    assert.doesNotMatch(mirror, /PRIVATE KEY DATA/);
  });

  it("show: the actions section's recurring period, unknown services exit 2", async () => {
    const web1 = await json<{ actions: Record<string, { period: number }> }>(
      ays("show", "node!web1", "--json"),
    );
    assert.equal(web1.actions.monitor.period, 300);
    const missing = await ays("show", "node!nope");
    assert.equal(missing.code, 2);
    assert.match(missing.err, /no service node!nope/);
    assert.equal((await ays("show", "nonsense")).code, 2);
  });

  it("show --deep adds producers and children recursively", async () => {
    const deep = await json<{ role: string; name: string }[]>(
      ays("show", "web!shop", "--deep", "--json"),
    );
    assert.deepEqual(deep.map((e) => `${e.role}!${e.name}`), [
      "web!shop",
      "datacenter!dc1",
      "db!main",
      "disk!auto_0",
      "disk!auto_1",
      "node!web1",
      "sshkey!main",
    ]);
    const down = await json<{ role: string; name: string }[]>(
      ays("show", "datacenter!dc1", "--deep", "--json"),
    );
    assert.ok(down.some((e) => e.role === "os" && e.name === "web1"), "grandchild included");
  });

  it("state: every action of every service", async () => {
    const state = await json<
      { service: string; state: string; actions: Record<string, { state: string }> }[]
    >(
      ays("state", "-r", "node.ssh", "--json"),
    );
    assert.deepEqual(state.map((s) => s.service), ["node!web1", "node!web2"]);
    assert.equal(state[0].actions.processChange.state, "new");
    const text = await ays("state", "-r", "os");
    assert.match(text.out, /os!web1 +new +install +scheduled/);
  });

  it("re-apply is idempotent; a changed value updates data and schedules processChange with the changes", async () => {
    const again = await ays("blueprint");
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, /0 created, 0 updated, 0 scheduled/);

    const nodes = join(repo, "blueprints", "02_nodes.yaml");
    const original = await readFile(nodes, "utf8");
    await writeFile(nodes, original.replace("ssh.port: 22\n", "ssh.port: 2200\n"));
    const r = await ays("blueprint", "--json");
    assert.equal(r.code, 0, r.err);
    const summary = JSON.parse(r.out);
    assert.deepEqual(summary.updated, [
      { service: "node!web1", changes: { sshPort: { old: 22, new: 2200 } } },
    ]);
    assert.deepEqual(summary.scheduled, [
      { service: "node!web1", action: "processChange", changes: ["sshPort"] },
    ]);
    const list = await json<ListEntry[]>(ays("list", "-r", "node", "-i", "web1", "--json"));
    assert.equal(list[0].state, "changed");
    let stored = (await storedServices(repo)).get("node!web1")!;
    assert.equal(stored.data.sshPort, 2200);
    assert.equal(stored.actions.processChange.state, "scheduled");
    assert.deepEqual(stored.actions.processChange.args, {
      changes: { sshPort: { old: 22, new: 2200 } },
    });

    // A second change before processChange ran: the oldest old, the newest new.
    await writeFile(
      nodes,
      original.replace("ssh.port: 22\n", "ssh.port: 2300\n").replace("10.0.0.5", "10.0.0.9"),
    );
    assert.equal((await ays("blueprint")).code, 0);
    stored = (await storedServices(repo)).get("node!web1")!;
    assert.deepEqual(stored.actions.processChange.args, {
      changes: {
        sshPort: { old: 22, new: 2300 },
        sshAddr: { old: "10.0.0.5", new: "10.0.0.9" },
      },
    });
    // Attributes a blueprint does not name keep their value.
    assert.deepEqual(stored.data.tags, ["web", "prod"]);
  });

  it("a changed secret is scheduled with its values masked", async () => {
    const base = join(repo, "blueprints", "01_base.yaml");
    const text = await readFile(base, "utf8");
    await writeFile(base, text.replace("PRIVATE KEY DATA", "NEW PRIVATE KEY"));
    const r = await ays("blueprint", "--json");
    assert.equal(r.code, 0, r.err);
    assert.doesNotMatch(r.out, /NEW PRIVATE KEY/);
    const stored = (await storedServices(repo)).get("sshkey!main")!;
    assert.equal(stored.data.keyPriv, "NEW PRIVATE KEY");
    assert.deepEqual(stored.actions.processChange.args, {
      changes: { keyPriv: { old: "***", new: "***" } },
    });
    const mirror = await readFile(join(repo, "services", "sshkey!main", "service.json"), "utf8");
    assert.doesNotMatch(mirror, /PRIVATE KEY/);
  });

  it("set_state sets an action's state by hand; bad states and actions exit 2", async () => {
    const r = await ays("set_state", "processChange", "--state", "ok", "-r", "node", "-i", "web1");
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /node!web1 processChange: scheduled → ok/);
    const list = await json<ListEntry[]>(ays("list", "-r", "node", "-i", "web1", "--json"));
    assert.equal(list[0].state, "new");
    assert.equal((await ays("set_state", "install", "--state", "done")).code, 2);
    assert.equal((await ays("set_state", "nosuch", "--state", "ok")).code, 2);
    assert.equal((await ays("set_state", "install", "--state", "ok", "node!zzz")).code, 2);
  });

  it("a bad blueprint exits 2 with file:line:column and changes nothing", async () => {
    const before = await json(ays("show", "--json"));
    await writeFile(
      join(repo, "blueprints", "09_bad.yaml"),
      "node.ssh__web9:\n  ssh.port: 99999\n",
    );
    const r = await ays("blueprint");
    assert.equal(r.code, 2);
    assert.match(r.err, /blueprints\/09_bad\.yaml:2:13: .*sshPort/);
    assert.deepEqual(await json(ays("show", "--json")), before);
    await rename(join(repo, "blueprints", "09_bad.yaml"), join(repo, "09_bad.yaml"));
    // A file given on the command line is named as given.
    const given = await ays("blueprint", "09_bad.yaml");
    assert.equal(given.code, 2);
    assert.match(given.err, /^ays: 09_bad\.yaml:2:13: /);
  });

  it("writers exit 3 naming the holder while a run holds the lock", async () => {
    const opened = await openRepositoryStore({
      repoPath: repo,
      repoName: "infra",
      env: { XDG_CONFIG_HOME: join(dir.path, "cfg") },
    });
    await opened.driver.acquireLock("repo", currentHolder("run-7"), 60_000);
    try {
      for (
        const args of [
          ["blueprint"],
          ["set_state", "install", "--state", "ok"],
          ["delete", "node!web1", "--yes"],
          ["destroy", "--yes"],
          ["update"],
        ]
      ) {
        const r = await ays(...args);
        assert.equal(r.code, 3, `${args.join(" ")}: ${r.err}`);
        assert.match(r.err, /run-7/);
      }
      // Readers do not need the lock.
      assert.equal((await ays("list")).code, 0);
    } finally {
      await opened.driver.close();
    }
  });
});

describe("ays delete, destroy, --archive", () => {
  let dir: TempDir;
  let repo: string;
  let ays: (...args: string[]) => Promise<Result>;
  before(async () => {
    ({ dir, repo, ays } = await infraCopy());
    assert.equal((await ays("blueprint")).code, 0);
  });
  after(() => dir.remove());

  it("delete needs --yes and a known service", async () => {
    const r = await ays("delete", "node!web1");
    assert.equal(r.code, 2);
    assert.match(r.err, /--yes/);
    assert.equal((await ays("delete", "node!nope", "--yes")).code, 2);
    assert.equal((await ays("delete", "--yes")).code, 2);
    assert.equal((await json<unknown[]>(ays("list", "--json"))).length, 10);
  });

  it("delete removes the service with its children and undoes the links", async () => {
    const r = await json<{ deleted: string[]; unlinked: string[] }>(
      ays("delete", "node:web1", "--yes", "--json"),
    );
    assert.deepEqual(r.deleted, ["node!web1", "os!web1", "web!shop"]);
    assert.deepEqual(r.unlinked, ["datacenter!dc1", "db!main", "sshkey!main"]);
    const by = new Map(
      (await json<ListEntry[]>(ays("list", "--json"))).map((e) => [`${e.role}!${e.name}`, e]),
    );
    assert.equal(by.size, 7);
    assert.deepEqual(by.get("sshkey!main")!.consumers, ["node!web2"]);
    assert.deepEqual(by.get("datacenter!dc1")!.consumers, ["node!web2"]);
    assert.deepEqual(by.get("db!main")!.consumers, []);
    assert.equal(await exists(join(repo, "services", "datacenter!dc1", "node!web1")), false);
    assert.ok(await exists(join(repo, "services", "sshkey!main", "service.json")));
    // The actor `web` has no service left: -r web is still no typo (list reads the actors for it).
    assert.deepEqual(await json<ListEntry[]>(ays("list", "--json", "-r", "web")), []);
    const typo = await ays("list", "-r", "wbe");
    assert.equal(typo.code, 2);
    assert.match(typo.err, /unknown role or actor 'wbe' \(did you mean 'web'\?\)/);
  });

  it("--archive renames the applied files", async () => {
    const r = await ays("blueprint", "--archive");
    assert.equal(r.code, 0, r.err);
    const names = (await readdir(join(repo, "blueprints"))).sort();
    assert.deepEqual(names, [
      "_01_base.yaml",
      "_02_nodes.yaml",
      "_03_app.yaml",
      "_04_actions.yaml",
      "_05_archived.yaml",
    ]);
    assert.match((await ays("blueprint")).out, /no active blueprints/);
  });

  it("destroy needs --yes, then removes the store's records and the mirror folders", async () => {
    assert.equal((await ays("destroy")).code, 2);
    // --archive re-applied the unit, so the deleted services are back.
    assert.equal((await json<unknown[]>(ays("list", "--json"))).length, 10);
    const r = await ays("destroy", "--yes");
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(await json(ays("list", "--json")), []);
    assert.equal(await exists(join(repo, "services")), false);
    assert.equal(await exists(join(repo, "actors")), false);
    assert.ok(await exists(join(repo, "actorTemplates", "machines", "node.ssh", "schema.hrd")));
    assert.ok(await exists(join(repo, "blueprints", "_01_base.yaml")));
    // Start over from the templates and blueprints.
    assert.equal((await ays("blueprint", "blueprints/_01_base.yaml")).code, 0);
    assert.equal((await json<unknown[]>(ays("list", "--json"))).length, 2);
  });
});

describe("ays update", () => {
  let dir: TempDir;
  let repo: string;
  let ays: (...args: string[]) => Promise<Result>;
  before(async () => {
    ({ dir, repo, ays } = await infraCopy());
    assert.equal((await ays("blueprint")).code, 0);
  });
  after(() => dir.remove());

  it("keeps the stored actor until update, then converts data by field name", async () => {
    const schema = join(repo, "actorTemplates", "machines", "node.ssh", "schema.hrd");
    await writeFile(
      schema,
      [
        "region = type:str default:'eu-west'",
        "ssh.addr = type:ipaddr",
        "ssh.port = type:str",
        "sshkey = consume:sshkey:1:1 auto",
        "tags = type:str list",
        "datacenter = parent:datacenter optional",
        "",
      ].join("\n"),
    );
    // blueprint keeps the stored actor and says to run update.
    const applied = await ays("blueprint");
    assert.equal(applied.code, 0, applied.err);
    assert.match(
      applied.err,
      /template of actor node\.ssh changed \(schema\).*ays update -n node\.ssh/,
    );
    let web1 = await json<{ data: Record<string, unknown> }>(ays("show", "node!web1", "--json"));
    assert.equal(web1.data.sshPort, 22);
    assert.equal(web1.data.region, undefined);

    const r = await ays("update", "--json");
    assert.equal(r.code, 0, r.err);
    const report = JSON.parse(r.out);
    assert.equal(report.updated.length, 1);
    const u = report.updated[0];
    assert.equal(u.actor, "node.ssh");
    assert.deepEqual(u.addedFields, ["region"]);
    assert.deepEqual(u.removedFields.sort(), ["osImage", "password"]);
    assert.equal(u.services, 2);
    assert.match(r.err, /osImage, password are gone/);

    web1 = await json<{ data: Record<string, unknown> }>(ays("show", "node!web1", "--json"));
    assert.deepEqual(web1.data, {
      region: "eu-west",
      sshAddr: "10.0.0.5",
      sshPort: "22",
      sshkey: "main",
      tags: ["web", "prod"],
      datacenter: "dc1",
    });
    assert.match((await ays("update")).out, /up to date/);
    assert.doesNotMatch((await ays("blueprint")).err, /changed/);
  });

  it("--mark-changed sets ok actions of an actor whose actions file changed to changed", async () => {
    assert.equal((await ays("set_state", "install", "--state", "ok", "-r", "node.ssh")).code, 0);
    const actions = join(repo, "actorTemplates", "machines", "node.ssh", "actions.ts");
    await writeFile(actions, (await readFile(actions, "utf8")) + "\nexport function backup() {}\n");
    const r = await json<
      { updated: { actor: string; markedChanged: number; addedActions: string[] }[] }
    >(
      ays("update", "-n", "node.ssh", "--mark-changed", "--json"),
    );
    assert.equal(r.updated[0].markedChanged, 2);
    assert.deepEqual(r.updated[0].addedActions, ["backup"]);
    const state = await json<{ actions: Record<string, { state: string }> }[]>(
      ays("state", "-r", "node.ssh", "--json"),
    );
    assert.equal(state[0].actions.install.state, "changed");
    assert.equal(state[0].actions.backup.state, "new");
    assert.equal((await ays("update", "-n", "nosuch")).code, 2);
  });
});
