import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { open, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { aysBinary, makeTempDir, projectRoot, type TempDir } from "../helpers/mod.ts";

/** ELF e_machine values (the ELF specification, "Machine architectures"). */
const EM_AARCH64 = 183;

interface ElfHeader {
  magic: boolean;
  bits: number;
  littleEndian: boolean;
  type: number;
  machine: number;
}

async function elfHeader(path: string): Promise<ElfHeader> {
  const file = await open(path, "r");
  try {
    const bytes = new Uint8Array(20);
    await file.read(bytes, 0, 20, 0);
    const view = new DataView(bytes.buffer);
    return {
      magic: bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46,
      bits: bytes[4] === 2 ? 64 : 32,
      littleEndian: bytes[5] === 1,
      type: view.getUint16(16, true),
      machine: view.getUint16(18, true),
    };
  } finally {
    await file.close();
  }
}

// Cheap (about a second once Bun has fetched the aarch64 runtime into its cache), so it runs
// with the other end-to-end tests rather than in the bench.
describe("bun build.ts --target linux-arm64", () => {
  let temp: TempDir;
  let outfile: string;
  before(async () => {
    temp = await makeTempDir("ays-cross-");
    outfile = join(temp.path, "ays-linux-arm64");
  });
  after(async () => {
    await temp?.remove();
  });

  it("cross-builds an aarch64 Linux executable of about the host binary's size", async () => {
    const bun = join(projectRoot, "node_modules", ".bin", "bun");
    const built = spawnSync(
      bun,
      ["build.ts", "--target", "linux-arm64", "--outfile", outfile],
      { cwd: projectRoot, encoding: "utf8" },
    );
    assert.equal(built.status, 0, built.stderr);

    const header = await elfHeader(outfile);
    assert.deepEqual(header, {
      magic: true,
      bits: 64,
      littleEndian: true,
      type: 2, // ET_EXEC: an executable, not a shared object or a bare bundle
      machine: EM_AARCH64,
    });
    // The host binary is the yardstick: same program, another CPU's Bun runtime.
    const size = (await stat(outfile)).size;
    const hostSize = (await stat(aysBinary)).size;
    assert.ok(size > 40 * 1024 * 1024, `only ${size} bytes: no runtime embedded?`);
    assert.ok(
      size > hostSize * 0.7 && size < hostSize * 1.3,
      `${size} bytes against ${hostSize} for the host binary`,
    );
    const mode = (await stat(outfile)).mode;
    assert.ok((mode & 0o111) !== 0, "not executable");
  });
});
