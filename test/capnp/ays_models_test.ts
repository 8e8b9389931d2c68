import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  actorDataCodec,
  decodeRecord,
  decodeService,
  encodeRecord,
  encodeService,
  type RecordKinds,
} from "../../src/capnp/ays_models.ts";
import { AYS_SCHEMA_TEXT } from "../../src/capnp/ays_schema_text.ts";
import {
  emitCapnp,
  formatPosition,
  formatStructSize,
  layoutSchema,
  parseCapnp,
  schemaFromFields,
} from "../../src/capnp/mod.ts";
import { readSchemaHrd } from "../../src/hrd/schema_hrd.ts";
import type { ActorRecord, JobRecord, RunRecord, ServiceRecord } from "../../src/model/types.ts";
import { parseServiceName, serviceName } from "../../src/model/names.ts";
import { validateData } from "../../src/model/validate.ts";
import { projectRoot } from "../helpers/mod.ts";
import { capnpOk, jsonLines, scratchDir, toolLayout } from "./capnp_tool.ts";

const schemaPath = join(projectRoot, "schemas", "ays.capnp");
const textModule = join(projectRoot, "src", "capnp", "ays_schema_text.ts");

const fields = readSchemaHrd(
  [
    "ssh.addr = type:ipaddr default:'10.0.0.1' descr:'the__address' @ask",
    "ssh.port = type:int default:22 minval:1 maxval:65535 alias:'port,p'",
    "sshkey = consume:sshkey:1:2 auto",
    "node = parent:node optional",
    "mode = singlechoice:'a,b' default:a",
    "flags = multichoice:'x,y' list",
    "pass = type:password",
    "conf = type:dict default:'{\"a\": 1}'",
    "tags = type:str list default:'p,q'",
    "ratio = type:float",
    "host = regex:'^[a-z.]+$'",
  ].join("\n") + "\n",
  { file: "node.ssh/schema.hrd" },
).fields;

const actor: ActorRecord = {
  name: "node.ssh",
  role: "node",
  templatePath: "/repo/actorTemplates/node.ssh",
  fields,
  capnpSchema: emitCapnp(schemaFromFields(fields, { actor: "node.ssh" })),
  actionsPath: "/repo/actorTemplates/node.ssh/actions.ts",
  actionsHash: "ab".repeat(32),
  actionNames: ["init", "install", "start", "backup"],
  exported: ["install", "backup"],
  config: {
    recurring: { monitor: { period: 300, log: true } },
    actions: {
      install: { timeout: 600, retries: 2, retryDelay: 5, deps: ["init"] },
      backup: { timeout: 7200, producers: true, isolation: "job" },
      start: {},
      build: { isolation: "process", memory: 512 * 1024 * 1024 },
    },
    flists: { root: "https://example.com/x.flist" },
    events: { "event.x": "y" },
    executor: "local",
  },
};

const service: ServiceRecord = {
  key: "0123456789abcdef0123456789abcdef",
  name: "web1",
  actor: "node.ssh",
  role: "node",
  parent: "os!main",
  producers: { sshkey: ["sshkey!main", "sshkey!backup"], os: ["os!main"] },
  consumers: ["app!shop"],
  data: validateData(fields, { "ssh.port": 2222, conf: { x: [1, 2] }, flags: ["x"] }),
  changed: true,
  actions: {
    install: { state: "ok", period: 0, lastRun: 1_700_000_000_123, lastJob: "job-1" },
    monitor: { state: "scheduled", period: 300, lastRun: null, lastJob: null },
  },
  eventFilters: [{ channel: "telegram", action: "monitor" }, {}],
};

const run: RunRecord = {
  id: "run-1",
  repo: "demo",
  scope: { role: "node", action: "install" },
  steps: [[{ service: "node!web1", action: "init" }], [
    { service: "node!web1", action: "install" },
    { service: "node!web2", action: "install" },
  ]],
  state: "running",
  createdAt: 1_700_000_000_000,
  startedAt: 1_700_000_000_500,
  endedAt: null,
  holder: { pid: 4242, host: "box" },
};

const job: JobRecord = {
  id: "job-1",
  runId: "run-1",
  service: "node!web1",
  action: "install",
  state: "error",
  attempts: 3,
  startedAt: 0,
  endedAt: 1_700_000_001_000,
  result: { ok: false, list: [1, "two", null] },
  error: { message: "boom", stack: "Error: boom\n  at x" },
  actionsHash: null,
};

describe("ays models (schemas/ays.capnp)", () => {
  it("embeds schemas/ays.capnp verbatim in src/capnp/ays_schema_text.ts", () => {
    const text = readFileSync(schemaPath, "utf8");
    if (process.env.AYS_WRITE_SCHEMA_TEXT === "1" && text !== AYS_SCHEMA_TEXT) {
      const source = readFileSync(textModule, "utf8");
      const start = source.indexOf("export const AYS_SCHEMA_TEXT");
      writeFileSync(
        textModule,
        source.slice(0, start) +
          `export const AYS_SCHEMA_TEXT: string = ${JSON.stringify(text)};\n`,
      );
      return;
    }
    assert.equal(AYS_SCHEMA_TEXT, text, "run AYS_WRITE_SCHEMA_TEXT=1 to regenerate");
  });

  it("compiles with capnp and has the layout the compiler computes", () => {
    const model = parseCapnp(AYS_SCHEMA_TEXT, { file: "ays.capnp" });
    const tool = toolLayout(schemaPath);
    const ours = layoutSchema(model);
    assert.deepEqual(Object.keys(tool).sort(), [...ours.keys()].sort());
    for (const [name, layout] of ours) {
      assert.equal(tool[name].size, formatStructSize(layout), name);
      for (const f of layout.fields) {
        assert.equal(
          tool[name].fields[f.field.name],
          formatPosition(f.position),
          `${name}.${f.field.name}`,
        );
      }
    }
  });

  const samples: { [K in keyof RecordKinds]: RecordKinds[K] } = {
    repository: { name: "demo", path: "/srv/demo", createdAt: 1_700_000_000_000, layoutVersion: 1 },
    actor,
    service: { ...service, data: new Uint8Array([0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) },
    run,
    job,
  };
  for (const kind of Object.keys(samples) as (keyof RecordKinds)[]) {
    it(`round trips a ${kind} record, and capnp decodes it`, () => {
      const bytes = encodeRecord(kind, samples[kind]);
      assert.deepEqual(decodeRecord(kind, bytes), samples[kind]);
      const struct = {
        repository: "Repository",
        actor: "Actor",
        service: "Service",
        run: "Run",
        job: "Job",
      }[kind];
      const json =
        jsonLines(capnpOk(["convert", "binary:json", "--short", schemaPath, struct], bytes))[0];
      assert.ok(Object.keys(json).length > 3);
    });
  }

  it("keeps absent optional values absent (null pointers, has-flags)", () => {
    const bare: JobRecord = {
      ...job,
      startedAt: null,
      endedAt: null,
      result: null,
      error: { message: "no stack" },
      actionsHash: null,
    };
    assert.deepEqual(decodeRecord("job", encodeRecord("job", bare)), bare);
    const lonely: RunRecord = { ...run, scope: {}, holder: null, startedAt: null, steps: [] };
    assert.deepEqual(decodeRecord("run", encodeRecord("run", lonely)), lonely);
    const orphan = {
      ...samples.service,
      parent: null,
      producers: {},
      consumers: [],
      eventFilters: [],
    };
    assert.deepEqual(decodeRecord("service", encodeRecord("service", orphan)), orphan);
    // capnp sees the absent fields as null pointers: they are left out of its JSON.
    const json = jsonLines(
      capnpOk(["convert", "binary:json", "--short", schemaPath, "Job"], encodeRecord("job", bare)),
    )[0];
    assert.equal(json.resultJson, undefined);
    assert.equal(json.hasStartedAt, false);
  });

  it("stores service data with the actor's own schema, dicts as JSON text", () => {
    const dataCodec = actorDataCodec(actor);
    assert.equal(actorDataCodec(actor), dataCodec);
    assert.equal(actorDataCodec({ ...actor }), dataCodec);
    // An actor whose schema changed gets the codec of the new schema.
    const changed = { ...actor, fields: fields.slice(0, 2) };
    changed.capnpSchema = emitCapnp(schemaFromFields(changed.fields, { actor: "node.ssh" }));
    const smaller = actorDataCodec(changed);
    assert.notEqual(smaller, dataCodec);
    assert.deepEqual(Object.keys(smaller.decode(smaller.encode({ sshPort: 1 }))), [
      "sshAddr",
      "sshPort",
    ]);
    const bytes = encodeService(service, dataCodec);
    assert.deepEqual(decodeService(bytes, dataCodec), service);
    const stored = decodeRecord("service", bytes);
    // The Data inside is a message of the actor's schema that capnp reads too.
    const scratch = scratchDir();
    try {
      const path = scratch.write("node_ssh.capnp", actor.capnpSchema);
      const json = jsonLines(
        capnpOk(["convert", "binary:json", "--short", path, "Schema"], stored.data),
      )[0];
      assert.equal(json.sshPort, "2222");
      assert.equal(JSON.parse(json.conf as string).x[1], 2);
    } finally {
      scratch.remove();
    }
  });

  it("splits linked names as parseServiceName does, whatever their characters", () => {
    // The first `!` or `:` splits; a name that does not split (no separator, nothing before or
    // after it, a line break after it) is kept whole as the role.
    const names = [
      "sshkey!main",
      "os:main",
      "a!b!c",
      "a:b!c",
      "!lead",
      "trail!",
      "plain",
      "",
      "x!line\nbreak",
      "x!para\u2029graph",
      "line\nbefore!x",
      "é!ü",
    ];
    const expected = (name: string) => {
      const parsed = parseServiceName(name);
      return parsed ? serviceName(parsed.role, parsed.instance) : serviceName(name, "");
    };
    const odd = { ...samples.service, producers: { sshkey: names }, consumers: names };
    for (const parent of names) {
      const back = decodeRecord("service", encodeRecord("service", { ...odd, parent }));
      assert.deepEqual(back.producers.sshkey, names.map(expected), parent);
      assert.deepEqual(back.consumers, names.map(expected), parent);
      assert.equal(back.parent, expected(parent), parent);
    }
  });

  it("refuses a message that is not a record with an InputError", () => {
    assert.throws(
      () => decodeRecord("service", new Uint8Array([0, 0, 0, 0, 9, 0, 0, 0])),
      /malformed/,
    );
  });
});
