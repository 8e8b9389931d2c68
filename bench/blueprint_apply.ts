/**
 * Reading and applying one blueprint of 10,000 services in memory (the store-independent part
 * of `ays blueprint`): 10,000 `node.ssh` services, each with an address, a port, a list and a
 * named producer, plus 100 `os.ubuntu` children with named parents; then re-applying the same
 * blueprint over the result (the idempotent path that must find nothing to do). Prints
 * median/min/max and the peak RSS, writes `bench/results/blueprint_apply.json`.
 *
 * Usage: `bun bench/blueprint_apply.ts [--rounds N] [--count N]` (or `deno run -A …`).
 *
 * @module
 */
import { readBlueprint } from "../src/blueprint/read.ts";
import { applyBlueprints } from "../src/blueprint/resolve.ts";
import type { FieldSpec } from "../src/model/field_spec.ts";
import { type FieldTags, newFieldSpec } from "../src/model/fields.ts";
import { roleOf } from "../src/model/names.ts";
import type { ActorRecord, ServiceRecord } from "../src/model/types.ts";
import { DEFAULT_ACTIONS } from "../src/model/types.ts";
import { runtimeName } from "../src/runtime.ts";
import { printTable, stats, writeResults } from "./stats.ts";

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const rounds = arg("--rounds", 5);
const count = arg("--count", 10_000);

function field(name: string, tags: FieldTags = {}): FieldSpec {
  return newFieldSpec(name, tags);
}

function actor(name: string, fields: FieldSpec[]): ActorRecord {
  return {
    name,
    role: roleOf(name),
    templatePath: "",
    fields,
    capnpSchema: "",
    actionsPath: null,
    actionsHash: null,
    actionNames: [...DEFAULT_ACTIONS],
    config: { recurring: {}, actions: {}, flists: {}, events: {} },
  };
}

const actors = new Map([
  ["sshkey", actor("sshkey", [field("key.pub")])],
  [
    "node.ssh",
    actor("node.ssh", [
      field("ssh.addr", { type: "ipaddr" }),
      field("ssh.port", { type: "int", default: 22, minval: 1, maxval: 65535 }),
      field("tags", { list: true }),
      field("sshkey", { consume: { roles: ["sshkey"], min: 1, max: 1 } }),
    ]),
  ],
  ["os.ubuntu", actor("os.ubuntu", [field("node", { parent: "node" })])],
]);

const lines = ["sshkey__main:", "  key.pub: 'ssh-ed25519 AAAA'", ""];
for (let i = 0; i < count; i++) {
  lines.push(
    `node.ssh__n${i}:`,
    `  ssh.addr: 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    `  ssh.port: ${1000 + (i % 60000)}`,
    `  tags: [web, n${i % 10}]`,
    "  sshkey: main",
  );
}
for (let i = 0; i < 100; i++) lines.push(`os.ubuntu__u${i}:`, `  node: n${i}`);
lines.push("actions:", "  - action: install");
const text = lines.join("\n") + "\n";

let peakRss = 0;
const sampleRss = () => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
};
const timer = setInterval(sampleRss, 5);

const series: Record<string, number[]> = { read: [], apply: [], reapply: [] };
let stored: ServiceRecord[] = [];
for (let r = 0; r < rounds; r++) {
  let start = performance.now();
  const doc = readBlueprint(text, { file: "big.yaml" });
  series.read.push(performance.now() - start);
  sampleRss();
  start = performance.now();
  const result = applyBlueprints([doc], { repoName: "bench", actors, services: [] });
  series.apply.push(performance.now() - start);
  sampleRss();
  stored = result.created;
  start = performance.now();
  const again = applyBlueprints([doc], { repoName: "bench", actors, services: stored });
  series.reapply.push(performance.now() - start);
  sampleRss();
  if (again.created.length + again.updated.length + again.scheduled.length !== 0) {
    throw new Error("re-apply changed something");
  }
}
clearInterval(timer);

const rows = [
  { name: `read ${count + 101} services`, stats: stats(series.read), unit: "ms" },
  { name: "apply to an empty store", stats: stats(series.apply), unit: "ms" },
  { name: "re-apply over the result", stats: stats(series.reapply), unit: "ms" },
];
printTable(`blueprint of ${count + 101} services, ${rounds} rounds (${runtimeName()})`, rows);
console.log(`services created: ${stored.length}; peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
const path = await writeResults(`blueprint_apply.${runtimeName()}`, {
  runtime: runtimeName(),
  rounds,
  services: stored.length,
  blueprintBytes: text.length,
  ms: { read: rows[0].stats, apply: rows[1].stats, reapply: rows[2].stats },
  peakRssBytes: peakRss,
});
console.log(`wrote ${path}`);
