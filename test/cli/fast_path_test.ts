/**
 * The fast path (src/cli/fast_path.ts): `ays list` and `ays run` read without commander, and
 * everything else left to commander; through `runCli`, the output, errors and exit codes are
 * those commander's way gives, argument for argument.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { cp } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { captureIo, runCli } from "../../src/cli/mod.ts";
import { parseFast } from "../../src/cli/fast_path.ts";
import { LIST_FAST } from "../../src/cli/list.ts";
import { RUN_FAST } from "../../src/cli/run.ts";
import { makeTempDir, type TempDir } from "../helpers/mod.ts";

const INFRA = fileURLToPath(new URL("../fixtures/repos/infra/", import.meta.url));
const LIST = { name: "list", options: ["-r, --role <role>", "-i, --instance <regex>"] };
const RUN = {
  name: "run",
  options: ["--parallel <n>", "--fail-fast", "--worker-timeout <dur>", "-r, --role <role>"],
};
const env = {};

describe("parseFast", () => {
  it("reads the command's and the global options in the forms commander reads", () => {
    const parsed = parseFast(
      ["--json", "--repo", "/a", "list", "-r", "node", "--instance=web.*", "--repo=/b", "-q"],
      LIST,
      { env },
    );
    assert.deepEqual(parsed, {
      globals: {
        repo: "/b",
        repos: ["/a", "/b"],
        store: undefined,
        json: true,
        quiet: true,
        color: true,
      },
      values: { role: "node", instance: "web.*" },
    });
  });

  it("keys flags as commander does, the last value of an option counting", () => {
    const parsed = parseFast(
      ["run", "--fail-fast", "--parallel", "2", "--parallel", "3", "--worker-timeout", "5s"],
      RUN,
      { env },
    );
    assert.deepEqual(parsed?.values, { failFast: true, parallel: "3", workerTimeout: "5s" });
  });

  it("turns colour off with --no-color or NO_COLOR", () => {
    assert.equal(parseFast(["list", "--no-color"], LIST, { env })?.globals.color, false);
    assert.equal(parseFast(["list"], LIST, { env: { NO_COLOR: "1" } })?.globals.color, false);
    assert.equal(parseFast(["list"], LIST, { env })?.globals.color, true);
  });

  it("leaves to commander what it does not read for sure", () => {
    const left = [
      [],
      ["--json"],
      ["list", "--help"],
      ["list", "-h"],
      ["list", "-V"],
      ["list", "extra"],
      ["list", "list"],
      ["list", "--"],
      ["list", "-r"],
      ["list", "-r", "--json"],
      ["list", "-r", "-x"],
      ["list", "-rnode"],
      ["list", "-qr", "node"],
      ["list", "--json=yes"],
      ["list", "--bogus"],
      ["-r", "node", "list"],
      ["--store"],
      ["run", "show", "last"],
      ["help", "list"],
    ];
    for (const argv of left) {
      const command = argv[0] === "run" ? RUN : LIST;
      assert.equal(parseFast(argv, command, { env }), undefined, argv.join(" "));
    }
  });
});

describe("runCli: the fast path and commander agree", () => {
  let dir: TempDir;
  let repo: string;
  const run = async (argv: string[], commander: boolean) => {
    const io = captureIo({ env: { XDG_CONFIG_HOME: join(dir.path, "cfg") }, cwd: repo });
    const code = await runCli(argv, io, { commander });
    return { code, out: io.out.join(""), err: io.err.join("") };
  };

  before(async () => {
    dir = await makeTempDir("ays-fast-path-");
    repo = join(dir.path, "infra");
    await cp(INFRA, repo, { recursive: true });
    const applied = await run(["blueprint", "-q"], true);
    assert.equal(applied.code, 0, applied.err);
  });
  after(() => dir.remove());

  const cases = [
    ["list"],
    ["list", "--json"],
    ["--json", "list", "-r", "node"],
    ["list", "-r", "node", "--json"],
    ["list", "--role=node", "-i", "web.*"],
    ["list", "-i", "nothing-matches"],
    ["list", "-r", "no-such-role"],
    ["list", "-r", "node", "-r", "no-such-role"],
    ["list", "--role="],
    ["list", "--no-color", "--quiet"],
    ["list", "--repo", "."],
    ["list", "--store", "bogus://x"],
    ["run", "--parallel", "abc"],
    ["run", "--parallel="],
    ["run", "--isolation", "bad"],
    ["run", "--worker-timeout", "soon"],
    ["run", "--queue", "--wait"],
    ["run", "--events", "--json"],
    ["run", "-r", "no-such-role"],
    ["run", "-i", "nothing-matches", "-q"],
  ];
  for (const argv of cases) {
    it(argv.join(" "), async () => {
      const fast = await run(argv, false);
      const commander = await run(argv, true);
      assert.deepEqual(fast, commander);
    });
  }

  it("reads every case above itself (none falls back to commander)", () => {
    for (const argv of cases) {
      const [name, command] = argv.includes("run") ? ["run", RUN_FAST] : ["list", LIST_FAST];
      const parsed = parseFast(argv, { name, options: command.options }, { env });
      assert.notEqual(parsed, undefined, argv.join(" "));
    }
  });
});
