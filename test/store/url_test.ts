/**
 * Store URLs: the backend a scheme selects, the connection settings of a Redis URL, and
 * masking passwords in URLs and in texts that contain them.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "../../src/errors.ts";
import { maskUrl, parseRedisUrl, redact, storeKindOf } from "../../src/store/url.ts";
import { makeTempDir } from "../helpers/mod.ts";

describe("storeKindOf", () => {
  it("names the backend of each scheme, case-insensitively, and null for others", () => {
    assert.equal(storeKindOf("redis://h"), "redis");
    assert.equal(storeKindOf("REDISS://h"), "redis");
    assert.equal(storeKindOf("sqlite:x.db"), "sqlite");
    assert.equal(storeKindOf("file:///a/b.db"), "sqlite");
    assert.equal(storeKindOf("mongodb://h"), null);
    assert.equal(storeKindOf("/plain/path.db"), null);
    assert.equal(storeKindOf(""), null);
  });
});

describe("parseRedisUrl", () => {
  it("reads host, port, database, user and URL-decoded password", () => {
    assert.deepEqual(parseRedisUrl("redis://u:p%40ss@db.example:6380/3"), {
      host: "db.example",
      port: 6380,
      db: 3,
      username: "u",
      password: "p@ss",
    });
  });

  it("defaults to port 6379, database 0 and no TLS", () => {
    assert.deepEqual(parseRedisUrl("redis://h"), { host: "h", port: 6379, db: 0 });
  });

  it("reads `redis://secret@host` as a password alone, as redis-cli does", () => {
    const options = parseRedisUrl("redis://s3cret@h:1/0");
    assert.equal(options.password, "s3cret");
    assert.equal(options.username, undefined);
  });

  it("unwraps an IPv6 host", () => {
    assert.equal(parseRedisUrl("redis://[::1]:7000").host, "::1");
  });

  it("turns on TLS for rediss://, with ?insecure=1 and ?ca=PATH", async () => {
    assert.deepEqual(parseRedisUrl("rediss://:pw@h/").tls, {});
    assert.deepEqual(parseRedisUrl("rediss://h/?insecure=1").tls, { rejectUnauthorized: false });
    assert.deepEqual(parseRedisUrl("rediss://h/?insecure=0").tls, {});
    const dir = await makeTempDir();
    try {
      const ca = join(dir.path, "ca.pem");
      await writeFile(ca, "PEM TEXT");
      assert.deepEqual(parseRedisUrl(`rediss://h/?ca=${encodeURIComponent(ca)}`).tls, {
        ca: "PEM TEXT",
      });
    } finally {
      await dir.remove();
    }
  });

  it("refuses a bad database, a bad URL, another scheme and an unreadable CA, masked", () => {
    assert.throws(() => parseRedisUrl("redis://h/x"), InputError);
    assert.throws(() => parseRedisUrl("redis://h/-1"), InputError);
    assert.throws(() => parseRedisUrl("sqlite:x.db"), InputError);
    assert.throws(() => parseRedisUrl("redis://u:hunter2@[bad"), (error: Error) => {
      assert.ok(error instanceof InputError);
      assert.doesNotMatch(error.message, /hunter2/);
      return true;
    });
    assert.throws(() => parseRedisUrl("rediss://u:hunter2@h/?ca=/nonexistent/ca.pem"), (
      error: Error,
    ) => {
      assert.ok(error instanceof InputError);
      assert.match(error.message, /\/nonexistent\/ca\.pem/);
      assert.doesNotMatch(error.message, /hunter2/);
      return true;
    });
  });
});

describe("maskUrl", () => {
  it("masks the password of user:password and password-only URLs", () => {
    assert.equal(maskUrl("redis://user:pa:ss@h:1/0"), "redis://user:***@h:1/0");
    assert.equal(maskUrl("rediss://:pw@h"), "rediss://:***@h");
    assert.equal(maskUrl("redis://s3cretpw@host:6379/0"), "redis://***@host:6379/0");
  });

  it("masks every URL inside a longer text and leaves URLs without a password alone", () => {
    assert.equal(
      maskUrl("see redis://u:p@h/2 and rediss://x:y@z"),
      "see redis://u:***@h/2 and rediss://x:***@z",
    );
    assert.equal(maskUrl("redis://h:6379"), "redis://h:6379");
    assert.equal(maskUrl("sqlite:/a/b.db"), "sqlite:/a/b.db");
  });
});

describe("redact", () => {
  it("removes every occurrence of the secret and of its URL-encoded form", () => {
    assert.equal(redact("a p@ss b p@ss", "p@ss"), "a *** b ***");
    assert.equal(redact("url redis://:p%40ss@h", "p@ss"), "url redis://:***@h");
  });

  it("leaves the text alone without a secret", () => {
    assert.equal(redact("a b", undefined), "a b");
    assert.equal(redact("a b", ""), "a b");
  });
});
