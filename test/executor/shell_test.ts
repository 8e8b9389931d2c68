import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { PGID_MARKER, shQuote } from "../../src/executor/mod.ts";
import { wrapCommand, writeFileScript } from "../../src/executor/shell.ts";

/** Runs a script with sh as sshd would (a new session: the shell leads its group). */
function sh(script: string, input?: string) {
  return spawnSync("setsid", ["-w", "sh", "-c", script], { input, encoding: "utf8" });
}

describe("remote shell scripts", () => {
  it("quotes any text as one word", () => {
    for (const value of ["plain", "it's", '$HOME `x` "q"', "a\nb", ""]) {
      assert.equal(sh(`printf %s ${shQuote(value)}`).stdout, value);
    }
  });

  it("reports the process group first, then runs the command with env and cwd", () => {
    const r = sh(wrapCommand('echo "$X in $(pwd)"; exit 3', { env: { X: "it's x" }, cwd: "/tmp" }));
    assert.equal(r.status, 3);
    assert.equal(r.stdout, "it's x in /tmp\n");
    const [first] = r.stderr.split("\n");
    assert.ok(first.startsWith(PGID_MARKER), JSON.stringify(r.stderr));
    assert.ok(Number(first.slice(PGID_MARKER.length)) > 1);
    assert.throws(() => wrapCommand("true", { env: { "A-B": "x" } }), /bad environment variable/);
  });

  it("writes standard input to a file through a temporary one, with its mode", () => {
    const path = `/tmp/ays-shell-test-${process.pid}`;
    const r = sh(
      `${writeFileScript(path, 0o640)}; stat -c %a ${path}; cat ${path}; rm ${path}`,
      "data",
    );
    assert.equal(r.stdout, "640\ndata");
  });
});
