// The live state every page folds from the server's messages (web/js/live-state.js).
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { emptyState, order, reduce } from "../../../web/js/live-state.js";

const step = (index, extra = {}) => ({ index, kind: "choice", title: `Step ${index + 1}`, ...extra });

/** The state after `messages`, in order, for `role`. */
function fold(messages, role = "participant", state = emptyState()) {
  return messages.reduce((folded, message) => reduce(folded, message, role), state);
}

const welcome = (extra = {}) => ({
  type: "welcome", epoch: "e1", seq: 4, replay: false, code: "ABC234", session: "s1",
  min_responses: 3, joined: 7, connected: 5, ...extra,
});

describe("order", () => {
  it("applies the next event and anything outside the event sequence", () => {
    assert.equal(order(4, { type: "step", seq: 5 }), "apply");
    assert.equal(order(4, { type: "results", step: 0 }), "apply");
    assert.equal(order(4, { type: "pong", t: 1, server: 2 }), "apply");
  });
  it("ignores an event already seen", () => {
    assert.equal(order(4, { type: "reveal", seq: 4 }), "old");
    assert.equal(order(4, { type: "reveal", seq: 2 }), "old");
  });
  it("calls a skipped event a gap", () => {
    assert.equal(order(4, { type: "responses", seq: 6 }), "gap");
  });
  it("counts every sequenced kind", () => {
    for (const type of ["step", "responses", "reveal", "ended", "groups", "clock", "join"]) {
      assert.equal(order(0, { type, seq: 2 }), "gap", type);
    }
  });
});

describe("reduce", () => {
  it("never changes the state it is given", () => {
    const before = emptyState();
    const frozen = JSON.stringify(before);
    reduce(before, welcome({ snapshot: { status: "running", step: step(0), title: "T" } }), "screen");
    reduce(before, { type: "step", seq: 1, step: step(1), started_at: 10, responses_open: true }, "screen");
    reduce(before, { type: "presence", joined: 2, connected: 1 }, "screen");
    assert.equal(JSON.stringify(before), frozen);
  });

  it("returns the same object for a message that changes nothing", () => {
    const state = emptyState();
    for (const type of ["ack", "pong", "error", "feedback", "assigned", "own_shift", "unknown"]) {
      assert.equal(reduce(state, { type }, "participant"), state, type);
    }
  });

  it("takes a snapshot welcome whole, with who and where the session is", () => {
    const state = fold([welcome({
      moderator: true, themes: true,
      snapshot: { title: "Snapped", status: "running", step: step(2), step_count: 5, responses_open: true },
    })], "facilitator");
    assert.equal(state.title, "Snapped");
    assert.equal(state.status, "running");
    assert.deepEqual(state.step, step(2));
    assert.equal(state.code, "ABC234");
    assert.equal(state.session, "s1");
    assert.equal(state.moderator, true);
    assert.equal(state.themes, true);
    assert.deepEqual(state.presence, { joined: 7, connected: 5 });
  });

  it("keeps a replay welcome's state as it was, for the missed events to follow", () => {
    const running = fold([welcome({ snapshot: { status: "running", step: step(1), title: "Kept" } })]);
    const replayed = reduce(running, welcome({ replay: true, seq: 9 }), "participant");
    assert.equal(replayed.title, "Kept");
    assert.deepEqual(replayed.step, step(1));
  });

  it("gives a participant no headcount, and others the one of now", () => {
    const saved = { ...emptyState(), presence: { joined: 40, connected: 30 } };
    assert.equal(reduce(emptyState(), welcome(), "participant").presence, null);
    assert.deepEqual(reduce(saved, welcome({ joined: 2, connected: 1 }), "screen").presence,
      { joined: 2, connected: 1 });
    assert.deepEqual(reduce(saved, welcome({ joined: undefined, connected: undefined }), "facilitator").presence,
      { joined: 0, connected: 0 });
  });

  it("keeps the results across a snapshot of the same step, and drops another step's", () => {
    const results = { type: "results", step: 1, count: 4 };
    const before = fold([welcome({ snapshot: { status: "running", step: step(1) } }), results]);
    assert.deepEqual(reduce(before, welcome({ snapshot: { status: "running", step: step(1) } }), "participant").results, results);
    assert.equal(reduce(before, welcome({ snapshot: { status: "running", step: step(2) } }), "participant").results, null);
  });

  it("starts a step afresh: no results, no reveal, no clock, no groups", () => {
    const state = fold([
      welcome({ snapshot: { status: "running", step: step(0) } }),
      { type: "reveal", seq: 5, revealed: true },
      { type: "results", step: 0, count: 3 },
      { type: "clock", seq: 6, clock: { deadline: 100 } },
      { type: "groups", seq: 7, step: 0, phase: "grouped" },
      { type: "step", seq: 8, step: step(1), started_at: 1234, responses_open: true },
    ]);
    assert.equal(state.status, "running");
    assert.deepEqual(state.step, step(1));
    assert.equal(state.started_at, 1234);
    assert.equal(state.responses_open, true);
    assert.equal(state.revealed, false);
    assert.equal(state.results, null);
    assert.equal(state.clock, null);
    assert.equal(state.groups, null);
  });

  it("takes results for the current step only", () => {
    const at = fold([{ type: "step", seq: 1, step: step(3), started_at: 0, responses_open: true }]);
    assert.equal(reduce(at, { type: "results", step: 2, count: 9 }, "screen"), at);
    assert.equal(reduce(at, { type: "results", step: 3, count: 9 }, "screen").results.count, 9);
    // Before any step (a lobby), results are taken as they come.
    assert.equal(reduce(emptyState(), { type: "results", step: 0, count: 1 }, "screen").results.count, 1);
  });

  it("hides results from phones and the projector on a hide, not from the console", () => {
    const shown = fold([
      { type: "step", seq: 1, step: step(0), started_at: 0, responses_open: true },
      { type: "reveal", seq: 2, revealed: true },
      { type: "results", step: 0, count: 5 },
    ]);
    const hide = { type: "reveal", seq: 3, revealed: false };
    assert.equal(reduce(shown, hide, "participant").results, null);
    assert.equal(reduce(shown, hide, "screen").results, null);
    assert.equal(reduce(shown, hide, "facilitator").results.count, 5);
    assert.equal(reduce(shown, hide, "facilitator").revealed, false);
  });

  it("follows responses, the clock, the join overlay, presence and the end", () => {
    const state = fold([
      { type: "step", seq: 1, step: step(0), started_at: 0, responses_open: true },
      { type: "responses", seq: 2, open: false },
      { type: "clock", seq: 3, clock: { left: 30000 } },
      { type: "join", seq: 4, shown: true },
      { type: "presence", joined: 12, connected: 10 },
    ], "screen");
    assert.equal(state.responses_open, false);
    assert.deepEqual(state.clock, { left: 30000 });
    assert.equal(state.join_shown, true);
    assert.deepEqual(state.presence, { joined: 12, connected: 10 });
    assert.equal(reduce(state, { type: "clock", seq: 5 }, "screen").clock, null);
    const ended = reduce({ ...state, responses_open: true }, { type: "ended", seq: 5 }, "screen");
    assert.equal(ended.status, "ended");
    assert.equal(ended.responses_open, false);
  });

  it("keeps a groups step's shared, own and counted state apart", () => {
    const groups = { type: "groups", seq: 2, step: 0, phase: "grouped", round: 1 };
    const group = { type: "group", step: 0, number: 3 };
    const counts = { type: "group_counts", step: 0, ready: 2 };
    const state = fold([{ type: "step", seq: 1, step: step(0, { kind: "groups" }), started_at: 0, responses_open: false },
      groups, group, counts]);
    assert.equal(state.groups, groups);
    assert.equal(state.group, group);
    assert.equal(state.group_counts, counts);
  });
});
