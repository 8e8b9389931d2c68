/**
 * The cross-site rules of state-changing requests: Sec-Fetch-Site, Origin against the Host,
 * and the custom header a cookie-authenticated request must carry.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  crossSiteRefusal,
  DASHBOARD_HEADER,
  rebindingRefusal,
} from "../../src/dashboard/cross_site.ts";

describe("crossSiteRefusal", () => {
  const host = "127.0.0.1:5000";

  it("lets the dashboard's own requests and non-browser clients pass", () => {
    const own = {
      host,
      origin: `http://${host}`,
      "sec-fetch-site": "same-origin",
      [DASHBOARD_HEADER]: "dashboard",
    };
    assert.equal(crossSiteRefusal(own, { viaCookie: true }), null);
    // curl with a bearer token: no Origin, no Sec-Fetch-Site.
    assert.equal(crossSiteRefusal({ host }, { viaCookie: false }), null);
    // Host names compare without case.
    assert.equal(
      crossSiteRefusal({ host: "LOCALHOST:5000", origin: "http://localhost:5000" }, {
        viaCookie: false,
      }),
      null,
    );
  });

  it("refuses another origin, a null origin, and an Origin without a Host", () => {
    for (const origin of ["http://evil.example", "http://127.0.0.1:5001", "null"]) {
      const refusal = crossSiteRefusal({ host, origin, [DASHBOARD_HEADER]: "1" }, {
        viaCookie: true,
      });
      assert.match(refusal ?? "", /cross-site request refused: Origin/, origin);
    }
    assert.match(
      crossSiteRefusal({ origin: "http://x" }, { viaCookie: false }) ?? "",
      /no Host header/,
    );
  });

  it("refuses what the browser says is cross-site or same-site (another port is same-site)", () => {
    for (const site of ["cross-site", "same-site"]) {
      const refusal = crossSiteRefusal({ host, "sec-fetch-site": site }, { viaCookie: false });
      assert.equal(refusal, `cross-site request refused (Sec-Fetch-Site: ${site})`);
    }
    assert.equal(crossSiteRefusal({ host, "sec-fetch-site": "none" }, { viaCookie: false }), null);
  });

  it("wants the custom header on a request the session cookie let in", () => {
    assert.match(
      crossSiteRefusal({ host, origin: `http://${host}` }, { viaCookie: true }) ?? "",
      /needs the header x-ays-request/,
    );
    assert.equal(crossSiteRefusal({ host, origin: `http://${host}` }, { viaCookie: false }), null);
  });

  it("without a token, only loopback names may address the daemon (DNS rebinding)", () => {
    for (
      const host of ["127.0.0.1:5000", "localhost:5000", "[::1]:5000", "a.localhost", "127.9.9.9"]
    ) {
      assert.equal(rebindingRefusal(host), null, host);
    }
    for (
      const host of ["evil.example:5000", "10.0.0.1:5000", "127.0.0.1.evil.example", "", undefined]
    ) {
      assert.match(rebindingRefusal(host) ?? "", /is not a loopback name/, String(host));
    }
  });
});
