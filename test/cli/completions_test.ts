import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { captureIo, runCli } from "../../src/cli/mod.ts";
import { makeTempDir } from "../helpers/mod.ts";

async function script(shell: string): Promise<string> {
  const io = captureIo();
  assert.equal(await runCli(["completions", shell], io), 0, io.err.join(""));
  return io.out.join("");
}

/** Sources the bash script, fills COMP_WORDS as bash would and returns COMPREPLY. */
async function complete(words: string[]): Promise<string[]> {
  const dir = await makeTempDir();
  try {
    const file = join(dir.path, "ays.bash");
    await writeFile(file, await script("bash"));
    const quoted = words.map((w) => `'${w}'`).join(" ");
    const program = `source ${file}; COMP_WORDS=(${quoted}); COMP_CWORD=${
      words.length - 1
    }; _ays; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const result = spawnSync("bash", ["-c", program], { encoding: "utf8" });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout.split("\n").filter(Boolean);
  } finally {
    await dir.remove();
  }
}

describe("ays completions", () => {
  it("bash completes command names and a command's options", async () => {
    assert.deepEqual(await complete(["ays", "doc"]), ["doctor"]);
    const options = await complete(["ays", "doctor", "--"]);
    assert.ok(options.includes("--json"), options.join(" "));
    assert.ok(options.includes("--repo"));
    assert.ok(!options.includes("doctor"));
  });

  it("completes the shell names' own command", async () => {
    assert.deepEqual(await complete(["ays", "compl"]), ["completions"]);
  });

  it("zsh wraps the bash function and fish lists commands with descriptions", async () => {
    const zsh = await script("zsh");
    assert.match(zsh, /^#compdef ays/);
    assert.match(zsh, /bashcompinit/);
    const fish = await script("fish");
    assert.match(
      fish,
      /complete -c ays -n '__fish_use_subcommand' -a 'doctor' -d 'check that ays works/,
    );
    assert.match(fish, /-l json/);
  });

  it("rejects an unknown shell with exit 2", async () => {
    const io = captureIo();
    assert.equal(await runCli(["completions", "powershell"], io), 2);
    assert.match(io.err.join(""), /unknown shell 'powershell'/);
  });
});
