import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseCapnp } from "../../src/capnp/mod.ts";
import { aysBinary, makeTempDir, projectRoot, type TempDir } from "../helpers/mod.ts";
import {
  capnp,
  capnpOk,
  fromToolJson,
  jsonLines,
  toCapnpText,
  toolLayout,
  withDefaults,
} from "../capnp/capnp_tool.ts";
import { randomStructValue } from "../capnp/random_schema.ts";

/** Runs dist/ays with binary stdin and stdout. */
function ays(
  args: string[],
  options: { cwd?: string; stdin?: Uint8Array | string } = {},
): Promise<{ code: number | null; stdout: Uint8Array; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(aysBinary, args, { cwd: options.cwd, stdio: ["pipe", "pipe", "pipe"] });
    const out: Uint8Array[] = [];
    let stderr = "";
    child.stdout.on("data", (chunk: Uint8Array) => out.push(chunk));
    child.stderr.on("data", (chunk) => (stderr += String(chunk)));
    child.once("error", reject);
    child.once("close", (code) => {
      const stdout = new Uint8Array(out.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const c of out) {
        stdout.set(c, at);
        at += c.length;
      }
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.stdin ?? "");
  });
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const fixtures = join(projectRoot, "test", "fixtures");

describe("ays schema (binary)", () => {
  let dir: TempDir;
  let hrdPath: string;
  let hrdCapnp: string;
  before(async () => {
    dir = await makeTempDir("ays-schema-");
    hrdPath = join(dir.path, "node.ssh", "schema.hrd");
    const { mkdir, writeFile } = await import("node:fs/promises");
    await mkdir(join(dir.path, "node.ssh"));
    await writeFile(hrdPath, readFileSync(join(fixtures, "hrd", "all_types.schema.hrd")));
    await writeFile(
      join(dir.path, "data.json"),
      JSON.stringify({ replicas: 7, settings: { a: [1] } }),
    );
    await writeFile(join(dir.path, "bad.json"), '{\n  "replicas": 7,\n  oops\n}\n');
    await writeFile(join(dir.path, "range.json"), '{"ratio": 3}');
    await writeFile(
      join(dir.path, "union.capnp"),
      "@0xc0ffee0000000001;\nstruct Schema {\n  union {\n    a @0 :Text;\n  }\n}\n",
    );
    await writeFile(join(dir.path, "schema.txt"), "x");
    await writeFile(
      join(dir.path, "binary.hrd"),
      Uint8Array.from([...new TextEncoder().encode("a = type:str\nb = x"), 0xff]),
    );
    await writeFile(join(dir.path, "nul.hrd"), "a = type:str\0\n");
    const printed = await ays(["schema", hrdPath]);
    assert.equal(printed.code, 0, printed.stderr);
    hrdCapnp = join(dir.path, "node_ssh.capnp");
    await writeFile(hrdCapnp, printed.stdout);
  });
  after(async () => {
    await dir?.remove();
  });

  it("prints an HRD schema as capnp that the official compiler accepts", async () => {
    const result = await ays(["schema", hrdPath]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      text(result.stdout),
      /^@0x[0-9a-f]{16};\n\nstruct Schema \{\n {2}name @0 :Text;\n/,
    );
    assert.match(text(result.stdout), /\n {2}listenPort @5 :Text;\n/);
    assert.match(text(result.stdout), /\n {2}replicas @15 :Int64;\n/);
    const compiled = capnp(["compile", "-o-", hrdCapnp]);
    assert.equal(compiled.code, 0, compiled.stderr);
  });

  it("--layout and --layout --json agree with capnp compile -ocapnp", async () => {
    const fixture = join(fixtures, "capnp", "every_type.capnp");
    const tool = toolLayout(fixture);
    const json = await ays(["schema", fixture, "--layout", "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(text(json.stdout)) as {
      struct: string;
      size: string;
      fields: { name: string; position: string }[];
    }[];
    assert.deepEqual(report.map((s) => s.struct).sort(), Object.keys(tool).sort());
    for (const s of report) {
      assert.equal(s.size, tool[s.struct].size);
      for (const f of s.fields) assert.equal(f.position, tool[s.struct].fields[f.name], f.name);
    }
    const plain = await ays(["schema", fixture, "--layout", "--struct", "Inner"]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(
      text(plain.stdout).split("\n")[0],
      `struct Schema.Inner  # ${tool["Schema.Inner"].size}`,
    );
    assert.match(text(plain.stdout), /\n {2}name @1 :Text; {2}# ptr\[0\]\n/);
  });

  it("--encode writes the validated message with defaults; capnp decodes it, packed or not", async () => {
    for (const packed of [false, true]) {
      const args = ["schema", hrdPath, "--encode", "data.json", ...(packed ? ["--packed"] : [])];
      const encoded = await ays(args, { cwd: dir.path });
      assert.equal(encoded.code, 0, encoded.stderr);
      const json = jsonLines(
        capnpOk(
          ["convert", `${packed ? "packed" : "binary"}:json`, "--short", hrdCapnp, "Schema"],
          encoded.stdout,
        ),
      )[0];
      assert.equal(json.replicas, "7");
      assert.equal(json.name, "my app");
      assert.equal(json.listenPort, "8080");
      assert.equal(json.created, "1704164645");
      assert.deepEqual(JSON.parse(json.settings as string), { a: [1] });
      const decoded = capnp(
        ["decode", ...(packed ? ["--packed"] : []), hrdCapnp, "Schema"],
        encoded.stdout,
      );
      assert.equal(decoded.code, 0, decoded.stderr);
      assert.match(text(decoded.stdout), /replicas = 7/);
      // And ays reads its own output back, dicts as objects again.
      const back = await ays(["schema", hrdPath, "--decode", ...(packed ? ["--packed"] : [])], {
        stdin: encoded.stdout,
      });
      assert.equal(back.code, 0, back.stderr);
      const value = JSON.parse(text(back.stdout));
      assert.equal(value.replicas, 7);
      assert.deepEqual(value.settings, { a: [1] });
      assert.equal(value.ratio, 0.75);
    }
  });

  it("--decode reads what capnp encode writes, packed or not, for every fixture struct", async () => {
    const fixture = join(fixtures, "capnp", "every_type.capnp");
    const file = parseCapnp(readFileSync(fixture, "utf8"));
    for (let seed = 1; seed <= 4; seed++) {
      const value = randomStructValue(file, "Schema", seed);
      const literal = toCapnpText(file, "Schema", value);
      for (const packed of [false, true]) {
        const flag = packed ? ["--packed"] : [];
        const bytes = capnpOk(["encode", ...flag, fixture, "Schema"], literal);
        const result = await ays(["schema", fixture, "--decode", ...flag], { stdin: bytes });
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(JSON.parse(text(result.stdout)), withDefaults(file, "Schema", value));
      }
      // And ays --encode of that value decodes in capnp to the same.
      const { writeFile } = await import("node:fs/promises");
      await writeFile(join(dir.path, `v${seed}.json`), JSON.stringify(value));
      const encoded = await ays(["schema", fixture, "--encode", `v${seed}.json`], {
        cwd: dir.path,
      });
      assert.equal(encoded.code, 0, encoded.stderr);
      const json = jsonLines(
        capnpOk(["convert", "binary:json", "--short", fixture, "Schema"], encoded.stdout),
      )[0];
      assert.deepEqual(fromToolJson(file, "Schema", json), withDefaults(file, "Schema", value));
    }
  });

  it("bad input exits 2 with file:line:column", async () => {
    const cases: [string[], RegExp][] = [
      [["schema", "bad.json"], /cannot tell the schema format/],
      [["schema", "schema.txt"], /schema\.txt: cannot tell the schema format/],
      [["schema", "union.capnp"], /union\.capnp:3:3: unions are not supported in ays schemas/],
      [["schema", hrdPath, "--encode", "bad.json"], /bad\.json:3:3: not valid JSON/],
      [["schema", hrdPath, "--encode", "range.json"], /range\.json: ratio: 3 is above maxval 1/],
      [["schema", hrdPath, "--struct", "Nope"], /no struct Nope/],
      [["schema", "missing.capnp"], /cannot read missing\.capnp/],
      [["schema", "binary.hrd"], /binary\.hrd:2:6: not a text file: byte 0xff is not valid UTF-8/],
      [["schema", "nul.hrd"], /nul\.hrd:1:13: not a text file: .*NUL/],
    ];
    for (const [args, message] of cases) {
      const result = await ays(args, { cwd: dir.path });
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.equal(result.stdout.length, 0);
    }
    const garbage = await ays(["schema", hrdPath, "--decode"], { stdin: "not a message" });
    assert.equal(garbage.code, 2);
    assert.match(garbage.stderr, /malformed Cap'n Proto message/);
  });
});
