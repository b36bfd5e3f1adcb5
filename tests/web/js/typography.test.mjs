// The unbreakable spaces of French punctuation (web/js/typography.js).
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { unbreakablePunctuation } from "../../../web/js/typography.js";

describe("unbreakablePunctuation", () => {
  it("binds ? ! ; to the word before with a narrow no-break space", () => {
    assert.equal(unbreakablePunctuation("Qu'avez-vous remarqué ?"), "Qu'avez-vous remarqué\u202F?");
    assert.equal(unbreakablePunctuation("Oui ! Non ; peut-être"), "Oui\u202F! Non\u202F; peut-être");
  });
  it("binds : and the guillemets with a no-break space", () => {
    assert.equal(unbreakablePunctuation("Consigne : « écoutez »"), "Consigne\u00A0: «\u00A0écoutez\u00A0»");
  });
  it("leaves text without a space before punctuation alone", () => {
    for (const text of ["How do you feel?", "http://10.0.0.2:8000/join", "你感觉怎么样？", "ok:)", ""]) {
      assert.equal(unbreakablePunctuation(text), text);
    }
  });
  it("is idempotent", () => {
    const once = unbreakablePunctuation("Prêts ? « Allons-y » : maintenant !");
    assert.equal(unbreakablePunctuation(once), once);
  });
});
