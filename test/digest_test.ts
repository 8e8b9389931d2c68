import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sha256, sha256Hex } from "../src/digest.ts";
import { runtimeName, runtimeSha256Hex } from "../src/runtime.ts";
import { serviceKey } from "../src/model/mod.ts";

// FIPS 180-2's examples, and text beyond ASCII (hashed as UTF-8).
const VECTORS: [string | Uint8Array, string][] = [
  ["", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
  ["abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
  [
    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  ],
  [
    new TextEncoder().encode("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  ],
];

describe("digest", () => {
  it("gives SHA-256 in hex for text and bytes, as node:crypto does", () => {
    for (const [data, hex] of VECTORS) {
      assert.equal(sha256Hex(data), hex);
      assert.equal(sha256(data).toString("hex"), hex);
    }
    const text = "gen/node!ünïcödé→✓";
    assert.equal(sha256Hex(text), sha256(new TextEncoder().encode(text)).toString("hex"));
  });

  it("uses the runtime's own hasher under Bun only", () => {
    const own = runtimeSha256Hex("abc");
    if (runtimeName() === "bun") assert.equal(own, VECTORS[1][1]);
    else assert.equal(own, undefined);
  });

  it("keeps the service keys stored before (32 hex characters of repo/role!instance)", () => {
    assert.equal(serviceKey("gen", "node", "n1"), sha256Hex("gen/node!n1").slice(0, 32));
    assert.equal(
      serviceKey("gen", "node", "n1"),
      sha256(new TextEncoder().encode("gen/node!n1")).toString("hex").slice(0, 32),
    );
  });
});
