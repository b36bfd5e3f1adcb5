// The scenario editor's draft model (web/js/editor/model.js): pure functions over drafts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  blank, charactersBefore, editable, missing, move, newStep, parsePath, serialize, slug, stepOf,
  stepsBefore, texts,
} from "../../../web/js/editor/model.js";

const file = () => ({
  id: "lunch", title: "Lunch", summary: "A short one", languages: ["en", "fr"],
  steps: [
    { kind: "story", text: "Noor snaps.", characters: [{ id: "noor", name: "Noor" }, { name: { en: "Sam" } }] },
    { kind: "choice", id: "why", prompt: "Why?", options: [{ id: "a", label: "Tired" }, { id: "b", label: "Busy" }],
      predict: { prompt: "What will the room say?" } },
    { kind: "checkin", id: "before", prompt: "How do you feel?" },
    { kind: "checkin", id: "after", prompt: "And now?", compare: "before" },
  ],
});

describe("editable", () => {
  it("makes every text one per language of the scenario, lists and guess prompts included", () => {
    const draft = editable(file());
    assert.deepEqual(draft.title, { en: "Lunch", fr: "Lunch" });
    assert.deepEqual(draft.steps[0].text, { en: "Noor snaps.", fr: "Noor snaps." });
    assert.deepEqual(draft.steps[0].characters[0].name, { en: "Noor", fr: "Noor" });
    assert.deepEqual(draft.steps[1].options[1].label, { en: "Busy", fr: "Busy" });
    assert.deepEqual(draft.steps[1].predict.prompt, { en: "What will the room say?", fr: "What will the room say?" });
    assert.equal(draft.steps[1].options[0].id, "a", "ids are not texts");
  });
  it("leaves the document it is given alone, and opens what is not a scenario as an empty one", () => {
    const original = file();
    editable(original);
    assert.equal(original.title, "Lunch");
    assert.deepEqual(editable(null).steps, []);
    assert.deepEqual(editable([1, 2]).steps, []);
  });
  it("takes English when the file names no languages, and ignores languages it does not know", () => {
    assert.deepEqual(editable({ title: "T" }).title, { en: "T" });
    assert.deepEqual(editable({ title: "T", languages: ["de", "zh"] }).title, { zh: "T" });
  });
});

describe("serialize", () => {
  it("drops empty translations, and an empty optional text, but keeps an empty required one", () => {
    const draft = editable(file());
    draft.title.fr = "  ";
    draft.steps[2].title = {};
    draft.steps[2].prompt = { en: "", fr: "" };
    const out = serialize(draft);
    assert.deepEqual(out.title, { en: "Lunch" });
    assert.equal("title" in out.steps[2], false);
    assert.deepEqual(out.steps[2].prompt, {});
    assert.deepEqual(draft.title, { en: "Lunch", fr: "  " }, "the draft itself is unchanged");
  });
  it("gives back what editable read, translated", () => {
    const out = serialize(editable(file()));
    assert.deepEqual(out.steps[1].options.map((o) => o.label.en), ["Tired", "Busy"]);
    assert.equal(out.steps[3].compare, "before");
  });
});

describe("texts and missing", () => {
  it("lists the texts that need words, and which lack them in a language", () => {
    const draft = editable(file());
    draft.steps[1].options[1].label.fr = "";
    assert.ok(texts(draft).some(([path]) => path === "$.steps[1].options[1].label"));
    // Sam was named in English only in the file; the Busy option's French was just emptied.
    assert.deepEqual(missing(draft, "fr"), ["$.steps[0].characters[1].name", "$.steps[1].options[1].label"]);
    assert.deepEqual(missing(draft, "en"), []);
    assert.ok(missing(draft, "zh").includes("$.title"));
  });
  it("counts a plain string as words in every language", () => {
    assert.deepEqual(missing({ title: "T", summary: "S", steps: [] }, "zh"), []);
  });
});

describe("newStep and blank", () => {
  it("gives a new step what it needs to be valid but the words", () => {
    assert.deepEqual(newStep("timer"), { kind: "timer", prompt: {}, seconds: 120 });
    assert.deepEqual(newStep("choice").options, [{ id: "a", label: {} }, { id: "b", label: {} }]);
    assert.deepEqual(newStep("groups").roles.map((r) => r.id), ["speaker", "listener"]);
    assert.deepEqual(newStep("unknown-kind"), { kind: "unknown-kind" });
  });
  it("starts a blank scenario in English for a workshop", () => {
    assert.deepEqual(blank(), {
      id: "", title: {}, summary: {}, audience: ["workshop"], duration_minutes: 15, languages: ["en"], steps: [],
    });
  });
});

describe("move", () => {
  it("moves a step and leaves the given list alone", () => {
    const steps = ["a", "b", "c", "d"];
    assert.deepEqual(move(steps, 0, 2), ["b", "c", "a", "d"]);
    assert.deepEqual(move(steps, 3, 0), ["d", "a", "b", "c"]);
    assert.deepEqual(steps, ["a", "b", "c", "d"]);
  });
  it("does nothing for an index outside the list", () => {
    assert.deepEqual(move(["a", "b"], 0, 2), ["a", "b"]);
    assert.deepEqual(move(["a", "b"], -1, 0), ["a", "b"]);
  });
});

describe("what earlier steps offer", () => {
  it("names the characters of earlier stories, by id or else by English name, once each", () => {
    const draft = editable(file());
    draft.steps.push({ kind: "story", text: "Again", characters: [{ id: "noor", name: "Noor" }] });
    assert.deepEqual(charactersBefore(draft, 0), []);
    assert.deepEqual(charactersBefore(draft, 5), [{ key: "noor", name: "Noor" }, { key: "Sam", name: "Sam" }]);
  });
  it("lists earlier steps of a kind that have an id, for compare", () => {
    const draft = file();
    assert.deepEqual(stepsBefore(draft, 3, "checkin"), ["before"]);
    assert.deepEqual(stepsBefore(draft, 2, "checkin"), []);
  });
});

describe("slug, stepOf and parsePath", () => {
  it("makes an id from a title", () => {
    assert.equal(slug("Quand un ami s'emporte !"), "quand-un-ami-s-emporte");
    assert.equal(slug("Été"), "ete");
    assert.equal(slug("朋友"), "my-scenario");
    assert.equal(slug("x".repeat(60)).length, 48);
  });
  it("reads an error path", () => {
    assert.equal(stepOf("$.steps[12].options[0].label"), 12);
    assert.equal(stepOf("$.title"), -1);
    assert.deepEqual(parsePath("$.steps[2].options[0].label"), ["steps", 2, "options", 0, "label"]);
    assert.deepEqual(parsePath("$"), []);
  });
});
