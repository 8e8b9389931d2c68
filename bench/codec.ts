/**
 * Encode + decode (and encode alone) of a 20-field service data object with the capnp codec,
 * objects/s, beside `JSON.stringify` + `JSON.parse` of the same object in the same run. Goal
 * (docs/benchmarks.md): ≥ 100,000 objects/s.
 *
 * Usage: `bun bench/codec.ts [--rounds N] [--count N] [--against DIR]` (or
 * `deno run -A bench/codec.ts …`). `--against DIR` also measures the codec of another checkout
 * (`DIR/src/capnp/mod.ts`, e.g. an older commit unpacked with `git archive`) in the same process,
 * round by round in alternating order, and prints the median of the per-round ratios: on a shared
 * machine that compares two versions under the same load, which separate runs do not.
 *
 * @module
 */
import { compileCodec, schemaFromFields } from "../src/capnp/mod.ts";
import type { FieldSpec, HrdType } from "../src/model/field_spec.ts";
import { newFieldSpec } from "../src/model/fields.ts";
import { runtimeName } from "../src/runtime.ts";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { printTable, stats, writeResults } from "./stats.ts";

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const rounds = arg("--rounds", 7);
const count = arg("--count", 50_000);
const againstAt = process.argv.indexOf("--against");
const against = againstAt > 0 ? process.argv[againstAt + 1] : undefined;
if (againstAt > 0 && !against) throw new Error("--against needs a folder (a checkout of ays)");
if (!Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(count) || count < 1) {
  throw new Error("--rounds and --count take whole numbers ≥ 1");
}

function spec(camelName: string, type: HrdType, list = false): FieldSpec {
  return newFieldSpec(camelName, { type, list });
}

// A plausible actor schema: addresses, ports, flags, sizes, a few lists.
const fields: FieldSpec[] = [
  spec("sshAddr", "ipaddr"),
  spec("sshPort", "int"),
  spec("sshLogin", "str"),
  spec("sshKey", "str"),
  spec("hostname", "str"),
  spec("description", "multiline"),
  spec("os", "str"),
  spec("memory", "int"),
  spec("cpus", "int"),
  spec("diskSize", "float"),
  spec("load", "float"),
  spec("enabled", "bool"),
  spec("monitored", "bool"),
  spec("public", "bool"),
  spec("installedAt", "date"),
  spec("owner", "email"),
  spec("tags", "str", true),
  spec("ports", "int", true),
  spec("dnsServers", "ipaddr", true),
  spec("config", "dict"),
];
const value: Record<string, unknown> = {
  sshAddr: "10.0.0.5",
  sshPort: 22,
  sshLogin: "root",
  sshKey: "main",
  hostname: "web1.example.com",
  description: "front web server\nserves the public site",
  os: "ubuntu-22.04",
  memory: 8192,
  cpus: 4,
  diskSize: 120.5,
  load: 0.75,
  enabled: true,
  monitored: true,
  public: false,
  installedAt: 1_700_000_000,
  owner: "ops@example.com",
  tags: ["web", "frontend", "prod"],
  ports: [80, 443, 8080],
  dnsServers: ["1.1.1.1", "8.8.8.8"],
  config: JSON.stringify({ workers: 4, gzip: true }),
};

const codec = compileCodec(schemaFromFields(fields, { actor: "node.web" }));
const encodedBytes = codec.encode(value).length;
const packedBytes = codec.encode(value, { packed: true }).length;
const jsonBytes = JSON.stringify(value).length;

function measure(run: () => unknown): number {
  const start = performance.now();
  for (let i = 0; i < count; i++) run();
  return count / ((performance.now() - start) / 1000);
}

let sink: unknown;
const capnpUnpacked = () => (sink = codec.decode(codec.encode(value)));
const capnpPacked =
  () => (sink = codec.decode(codec.encode(value, { packed: true }), { packed: true }));
const json = () => (sink = JSON.parse(JSON.stringify(value)));
// Encoding alone: what the store does at each record it writes.
const encodeOnly = () => (sink = codec.encode(value));

// The other checkout's codec, compiled from the same fields.
type CodecModule = typeof import("../src/capnp/mod.ts");
const other = against
  ? ((await import(pathToFileURL(join(resolve(against), "src/capnp/mod.ts")).href)) as CodecModule)
  : undefined;
const otherCodec = other?.compileCodec(other.schemaFromFields(fields, { actor: "node.web" }));
const otherUnpacked = () => (sink = otherCodec!.decode(otherCodec!.encode(value)));
const otherEncode = () => (sink = otherCodec!.encode(value));
const otherPacked = () => (sink = otherCodec!.decode(otherCodec!.encode(value, { packed: true }), {
  packed: true,
}));

// Warm up the JIT before measuring.
for (let i = 0; i < 20_000; i++) {
  capnpUnpacked();
  capnpPacked();
  json();
  encodeOnly();
  if (otherCodec) {
    otherUnpacked();
    otherPacked();
    otherEncode();
  }
}
const series: Record<string, number[]> = {
  unpacked: [],
  packed: [],
  json: [],
  encode: [],
  otherUnpacked: [],
  otherPacked: [],
  otherEncode: [],
  ratioUnpacked: [],
  ratioPacked: [],
  ratioEncode: [],
};
for (let r = 0; r < rounds; r++) {
  if (!otherCodec) {
    series.unpacked.push(measure(capnpUnpacked));
    series.packed.push(measure(capnpPacked));
    series.encode.push(measure(encodeOnly));
  } else {
    // Alternating which goes first, so neither always runs on the warmer or cooler machine.
    for (const kind of ["Unpacked", "Packed", "Encode"] as const) {
      const ours = { Unpacked: capnpUnpacked, Packed: capnpPacked, Encode: encodeOnly }[kind];
      const theirs = { Unpacked: otherUnpacked, Packed: otherPacked, Encode: otherEncode }[kind];
      let a: number;
      let b: number;
      if (r % 2 === 0) {
        a = measure(ours);
        b = measure(theirs);
      } else {
        b = measure(theirs);
        a = measure(ours);
      }
      series[kind.toLowerCase()].push(a);
      series[`other${kind}`].push(b);
      series[`ratio${kind}`].push(a / b);
    }
  }
  series.json.push(measure(json));
}
void sink;

const unpacked = stats(series.unpacked);
const packed = stats(series.packed);
const jsonStats = stats(series.json);
const encodeStats = stats(series.encode);
printTable(`codec, 20-field object, ${rounds} rounds × ${count} (${runtimeName()})`, [
  { name: "capnp encode+decode (unpacked)", stats: unpacked, unit: "objects/s" },
  { name: "capnp encode+decode (packed)", stats: packed, unit: "objects/s" },
  { name: "capnp encode only (unpacked)", stats: encodeStats, unit: "objects/s" },
  { name: "JSON.stringify+JSON.parse", stats: jsonStats, unit: "objects/s" },
]);
let comparison: Record<string, unknown> | undefined;
if (otherCodec) {
  const ratioUnpacked = stats(series.ratioUnpacked);
  const ratioPacked = stats(series.ratioPacked);
  const otherUnpackedStats = stats(series.otherUnpacked);
  const otherPackedStats = stats(series.otherPacked);
  const ratioEncode = stats(series.ratioEncode);
  const otherEncodeStats = stats(series.otherEncode);
  printTable(`against ${against} (same process, alternating rounds)`, [
    {
      name: "theirs: capnp encode+decode (unpacked)",
      stats: otherUnpackedStats,
      unit: "objects/s",
    },
    { name: "theirs: capnp encode+decode (packed)", stats: otherPackedStats, unit: "objects/s" },
    { name: "theirs: capnp encode only", stats: otherEncodeStats, unit: "objects/s" },
    { name: "ours / theirs per round (unpacked)", stats: ratioUnpacked, unit: "ratio" },
    { name: "ours / theirs per round (packed)", stats: ratioPacked, unit: "ratio" },
    { name: "ours / theirs per round (encode only)", stats: ratioEncode, unit: "ratio" },
  ]);
  comparison = {
    against,
    objectsPerSecond: {
      unpacked: otherUnpackedStats,
      packed: otherPackedStats,
      encode: otherEncodeStats,
    },
    oursOverTheirs: { unpacked: ratioUnpacked, packed: ratioPacked, encode: ratioEncode },
  };
}
console.log(
  `message: ${encodedBytes} bytes unpacked, ${packedBytes} packed; JSON ${jsonBytes} bytes. ` +
    `goal ≥ 100000 objects/s: ${unpacked.median >= 100_000 ? "met" : "NOT met"}`,
);
const path = await writeResults("codec", {
  runtime: runtimeName(),
  rounds,
  perRound: count,
  fields: fields.length,
  bytes: { unpacked: encodedBytes, packed: packedBytes, json: jsonBytes },
  objectsPerSecond: { unpacked, packed, encode: encodeStats, json: jsonStats },
  goal: { objectsPerSecond: 100_000 },
  ...(comparison ? { comparison } : {}),
});
console.log(`wrote ${path}`);
