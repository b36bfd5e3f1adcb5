// What a phone keeps of its own answers (web/js/phone-state.js).
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { reducePhone, restored, submitted } from "../../../web/js/phone-state.js";

const answer = { type: "answer", step: 2, submission: "s-1", value: "calm", guess: { word: "tired" } };

describe("submitted", () => {
  it("records an answer as sent and waiting for its ack", () => {
    assert.deepEqual(submitted({}, answer)[2].sent,
      { pass: false, value: "calm", guess: { word: "tired" }, acked: false, submission: "s-1" });
  });
  it("records a pass with no value", () => {
    assert.deepEqual(submitted({}, { type: "pass", step: 0, submission: "p-1" })[0].sent,
      { pass: true, value: null, guess: null, acked: false, submission: "p-1" });
  });
  it("keeps what else the phone knows of the step", () => {
    const phone = { 2: { assigned: "Noor" } };
    assert.equal(submitted(phone, answer)[2].assigned, "Noor");
    assert.deepEqual(phone, { 2: { assigned: "Noor" } });
  });
});

describe("reducePhone", () => {
  it("marks the submission acknowledged, with any care note", () => {
    const phone = reducePhone(submitted({}, answer), { type: "ack", step: 2, submission: "s-1", help: "care" });
    assert.equal(phone[2].sent.acked, true);
    assert.equal(phone[2].sent.help, "care");
    assert.equal(reducePhone(submitted({}, answer), { type: "ack", step: 2, submission: "s-1" })[2].sent.help, null);
  });
  it("ignores an ack for an earlier submission or for a step with nothing sent", () => {
    const phone = submitted({}, answer);
    assert.equal(reducePhone(phone, { type: "ack", step: 2, submission: "older" }), phone);
    assert.equal(reducePhone(phone, { type: "ack", step: 5, submission: "s-1" }), phone);
  });
  it("acknowledges an answer the server restored (no submission id)", () => {
    const phone = restored({}, { answers: { 1: "sad" }, passed: [] }, 1);
    assert.equal(reducePhone(phone, { type: "ack", step: 1, submission: "x" })[1].sent.acked, true);
  });
  it("forgets a refused submission, and nothing else", () => {
    const phone = submitted(submitted({}, answer), { type: "pass", step: 0, submission: "p-1" });
    const refused = reducePhone(phone, { type: "error", code: "closed", ref: "s-1" });
    assert.equal(refused[2].sent, null);
    assert.equal(refused[0].sent.submission, "p-1");
    assert.equal(reducePhone(phone, { type: "error", code: "closed", ref: "other" }), phone);
    assert.equal(reducePhone(phone, { type: "error", code: "rate-limited" }), phone);
  });
  it("keeps feedback, the assigned character and the own shift per step", () => {
    const feedback = { type: "feedback", step: 2, close: true, guess: "a", actual: "a" };
    const shift = { type: "own_shift", step: 3, moved: true };
    let phone = reducePhone({}, feedback);
    phone = reducePhone(phone, { type: "assigned", step: 2, character: "Sam" });
    phone = reducePhone(phone, shift);
    assert.equal(phone[2].feedback, feedback);
    assert.equal(phone[2].assigned, "Sam");
    assert.equal(phone[3].own_shift, shift);
  });
  it("returns the same object for the messages that are not its own", () => {
    const phone = {};
    for (const type of ["step", "results", "reveal", "welcome", "pong"]) {
      assert.equal(reducePhone(phone, { type }), phone, type);
    }
  });
});

describe("restored", () => {
  it("takes the server's answer or pass when the phone has none", () => {
    const state = { answers: { 1: "sad" }, passed: [4] };
    assert.deepEqual(restored({}, state, 1)[1].sent,
      { pass: false, value: "sad", guess: null, acked: true, submission: null });
    assert.deepEqual(restored({}, state, 4)[4].sent,
      { pass: true, value: null, guess: null, acked: true, submission: null });
  });
  it("keeps the phone's own record, and changes nothing for a step not answered", () => {
    const phone = submitted({}, { ...answer, step: 1 });
    assert.equal(restored(phone, { answers: { 1: "sad" } }, 1), phone);
    assert.equal(restored(phone, { answers: {}, passed: [] }, 3), phone);
  });
});
