// Join codes and facilitator links as the pages read them (web/js/codes.js).
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { codeFromHash, linkFromHash, normalizeCode } from "../../../web/js/codes.js";

describe("normalizeCode", () => {
  it("keeps capitals and digits, whatever people type around them", () => {
    assert.equal(normalizeCode("  abc234 "), "ABC234");
    assert.equal(normalizeCode("ab-c 2.34"), "ABC234");
    assert.equal(normalizeCode(""), "");
    assert.equal(normalizeCode(undefined), "");
  });
});

describe("codeFromHash", () => {
  it("reads the code in a fragment, encoded or not", () => {
    assert.equal(codeFromHash("#ABC234"), "ABC234");
    assert.equal(codeFromHash("#abc%20234"), "ABC234");
    assert.equal(codeFromHash("abc234"), "ABC234");
    assert.equal(codeFromHash(""), "");
  });
  it("reads a fragment with a stray percent sign instead of failing", () => {
    assert.equal(codeFromHash("#AB%C2"), "ABC2");
  });
});

describe("linkFromHash", () => {
  it("splits SESSION.TOKEN", () => {
    assert.deepEqual(linkFromHash("#s1.t0k"), { session: "s1", token: "t0k" });
  });
  it("says what is missing", () => {
    assert.deepEqual(linkFromHash("#s1"), { session: "s1", token: "" });
    assert.deepEqual(linkFromHash(""), { session: "", token: "" });
  });
});
