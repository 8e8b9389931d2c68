import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InputError } from "../../src/errors.ts";
import { formatPeriod, parsePeriod } from "../../src/hrd/period.ts";

describe("parsePeriod", () => {
  it("reads plain seconds as numbers and text", () => {
    assert.equal(parsePeriod(0), 0);
    assert.equal(parsePeriod(90), 90);
    assert.equal(parsePeriod("90"), 90);
    assert.equal(parsePeriod(" 0 "), 0);
  });

  it("reads every unit and their combinations", () => {
    assert.equal(parsePeriod("90s"), 90);
    assert.equal(parsePeriod("5m"), 300);
    assert.equal(parsePeriod("2h"), 7200);
    assert.equal(parsePeriod("1d"), 86400);
    assert.equal(parsePeriod("1w"), 604800);
    assert.equal(parsePeriod("1h30m"), 5400);
    assert.equal(parsePeriod("1w2d3h4m5s"), 604800 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5);
    assert.equal(parsePeriod("1h 30m"), 5400);
    assert.equal(parsePeriod("0m"), 0);
  });

  for (const bad of ["", "abc", "5x", "1m1h", "1h1h", "-5", "1.5", "5 m s", "m", "1H"]) {
    it(`rejects ${JSON.stringify(bad)} naming it`, () => {
      assert.throws(() => parsePeriod(bad), (error: unknown) => {
        assert.ok(error instanceof InputError);
        assert.ok(error.message.includes(JSON.stringify(bad)), error.message);
        return true;
      });
    });
  }

  it("rejects negative, fractional and unsafe numbers", () => {
    for (const bad of [-1, 1.5, Number.NaN, Infinity, 2 ** 60]) {
      assert.throws(() => parsePeriod(bad), InputError);
    }
  });

  it("puts the location and the subject on the error", () => {
    assert.throws(
      () => parsePeriod("soon", { what: "recurring.monitor", location: { file: "a", line: 2 } }),
      (error: unknown) => {
        assert.ok(error instanceof InputError);
        assert.match(error.message, /^recurring\.monitor: bad period "soon"/);
        assert.deepEqual(error.location, { file: "a", line: 2 });
        return true;
      },
    );
  });
});

describe("formatPeriod", () => {
  it("writes the shortest unit form", () => {
    assert.equal(formatPeriod(0), "0");
    assert.equal(formatPeriod(59), "59s");
    assert.equal(formatPeriod(90), "1m30s");
    assert.equal(formatPeriod(5400), "1h30m");
    assert.equal(formatPeriod(86400), "1d");
    assert.equal(formatPeriod(691200), "1w1d");
  });

  it("round-trips through parsePeriod", () => {
    for (const seconds of [0, 1, 59, 60, 61, 3599, 3600, 86399, 86400, 1234567, 99999999]) {
      assert.equal(parsePeriod(formatPeriod(seconds)), seconds);
    }
  });

  it("refuses what is not whole seconds", () => {
    assert.throws(() => formatPeriod(-1), RangeError);
    assert.throws(() => formatPeriod(1.5), RangeError);
  });
});
