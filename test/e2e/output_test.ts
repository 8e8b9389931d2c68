/**
 * Output to a pipe (docs/cli.md, "Conventions"): ays exits only once everything it printed has
 * been read, however slow the reader, and a reader that stops early ends ays quietly with its
 * usual exit code. Through the compiled binary and the sources under Bun and under Deno, with
 * more than 1 MB of standard output (`ays show` of a service holding 1.2 MB of text). The
 * readers are shell processes, so the pipe between them and ays is a real one.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  aysCommand,
  type AysLaunch,
  makeTempDir,
  makeTempRepo,
  runAys,
  type TempDir,
} from "../helpers/mod.ts";

const TEXT_LENGTH = 1_200_000;
/** More than the 64 KiB a pipe holds, which was all that reached a slow reader before. */
const EARLY_CLOSE_AT = 200_000;

interface Piped {
  /** ays' exit status. */
  code: number;
  /** What the reader passed on. */
  read: Buffer;
  /** ays' standard error. */
  stderr: string;
}

describe("output to a pipe", () => {
  let dir: TempDir;
  let repo: TempDir;
  let env: Record<string, string>;

  /** Runs `ays args… | reader` in bash; the reader is a shell command reading standard input. */
  async function piped(launch: AysLaunch, args: string[], reader: string): Promise<Piped> {
    const out = join(dir.path, "read");
    const err = join(dir.path, "stderr");
    const script = `"$@" 2>"${err}" | ${reader} >"${out}"; exit "\${PIPESTATUS[0]}"`;
    const code = await new Promise<number>((resolve, reject) => {
      const child = execFile("bash", ["-c", script, "ays", ...aysCommand(launch), ...args], {
        cwd: repo.path,
        env: { ...process.env as Record<string, string>, ...env },
      });
      child.once("error", reject);
      child.once("close", (status) => resolve(status ?? -1));
    });
    return { code, read: await readFile(out), stderr: await readFile(err, "utf8") };
  }

  before(async () => {
    dir = await makeTempDir("ays-e2e-output-");
    env = { XDG_CONFIG_HOME: join(dir.path, "cfg"), NO_COLOR: "1" };
    repo = await makeTempRepo({
      name: "output",
      files: {
        "actorTemplates/note/schema.hrd": "text = type:str\n",
        "blueprints/big.yaml": `note__big:\n  text: ${"t".repeat(TEXT_LENGTH)}\n`,
      },
    });
    const applied = await runAys(["blueprint"], { cwd: repo.path, extraEnv: env });
    assert.equal(applied.code, 0, applied.stderr);
  });
  after(async () => {
    await repo?.remove();
    await dir?.remove();
  });

  for (const launch of ["binary", "bun", "deno"] as const) {
    it(`${launch}: a slow reader gets all of more than 1 MB of JSON`, async () => {
      const r = await piped(launch, ["show", "note!big", "--json"], "(sleep 0.3; cat)");
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.read.length > 1_000_000, `only ${r.read.length} bytes arrived`);
      const shown = JSON.parse(r.read.toString("utf8")) as { data: { text: string } };
      assert.equal(shown.data.text.length, TEXT_LENGTH);
      assert.equal(r.stderr, "");
    });

    it(`${launch}: a slow reader gets the whole text output`, async () => {
      const r = await piped(launch, ["show", "note!big"], "(sleep 0.3; cat)");
      assert.equal(r.code, 0, r.stderr);
      const text = r.read.toString("utf8");
      assert.ok(text.includes("t".repeat(TEXT_LENGTH)), `only ${r.read.length} bytes arrived`);
      assert.ok(text.endsWith("\n"));
    });

    it(`${launch}: a reader that closes early ends ays quietly, exit 0`, async () => {
      const reader = `(sleep 0.3; head -c ${EARLY_CLOSE_AT})`;
      const r = await piped(launch, ["show", "note!big", "--json"], reader);
      assert.equal(r.read.length, EARLY_CLOSE_AT, "the reader got what it asked for");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, "");
    });

    it(`${launch}: a slow reader of a non-blocking pipe gets all of it`, async () => {
      // The parent made its pipe non-blocking: writes that would block fail with EAGAIN, and
      // ays goes on through the process stream instead of losing the rest.
      const script = [
        "import os, subprocess, sys, time, json",
        "r, w = os.pipe()",
        "os.set_blocking(w, False)",
        "child = subprocess.Popen(sys.argv[1:], stdout=w, stderr=subprocess.PIPE)",
        "os.close(w)",
        "time.sleep(0.3)",
        "data = b''",
        "while True:",
        "    chunk = os.read(r, 65536)",
        "    if not chunk: break",
        "    data += chunk",
        "err = child.stderr.read().decode()",
        "print(json.dumps({'code': child.wait(), 'length': len(data), 'err': err,",
        "  'text': len(json.loads(data)['data']['text']) if child.returncode == 0 else 0}))",
      ].join("\n");
      const out = await new Promise<string>((resolve, reject) => {
        execFile(
          "python3",
          ["-c", script, ...aysCommand(launch), "show", "note!big", "--json"],
          {
            cwd: repo.path,
            env: { ...process.env as Record<string, string>, ...env },
            maxBuffer: 1 << 20,
          },
          (error, stdout) => (error ? reject(error) : resolve(stdout)),
        );
      });
      const r = JSON.parse(out) as { code: number; length: number; err: string; text: number };
      assert.equal(r.code, 0, r.err);
      assert.equal(r.err, "");
      assert.equal(r.text, TEXT_LENGTH, `only ${r.length} bytes arrived`);
    });

    it(`${launch}: a failing command keeps its exit code when the reader is gone`, async () => {
      const r = await piped(launch, ["show", "note!nope"], "true");
      assert.equal(r.code, 2);
      assert.match(r.stderr, /no service note!nope/);
    });
  }
});
