// The participant's phone: join with a code, answer the current step, pass, see what the room
// said. No account and no name. Drafts and sent answers are kept in sessionStorage (this tab
// only), so a refresh or a dropped network loses nothing; reflect notes stay in localStorage
// on this device and are never sent. What the phone knows of its own answers is folded from the
// server's messages by phone-state.js.

import { $, announce, fill, h, randomId, store } from "./dom.js";
import { formatList, formatNumber, formatPercent, t } from "./i18n.js";
import { reducePhone, restored, submitted } from "./phone-state.js";
import { followCode, openLive, setupPage } from "./page.js";
import { codeFromHash, normalizeCode } from "./codes.js";
import { breathingPacer, countdown, reducedMotion } from "./pacer.js";
import { answerInput } from "./inputs.js";
import { resultsChart } from "./charts.js";
import { assignedNote, ownShiftNote } from "./shift.js";
import { ANSWERABLE, stepContent } from "./steps.js";
import { groupsPhone } from "./groups.js";
import { careNotice } from "./care.js";
import { showClock } from "./clock.js";
import { holdWake } from "./wake.js";

const main = $("#main");
let live = null;
let code = "";
/** This phone's own part in each step (phone-state.js), saved beside the live state. */
let phone = {};
/** The step now on screen, so updates patch it instead of rebuilding (and losing focus). */
let view = null;

const draftKey = (index) => `attune:draft:${code}:${index}`;
const noteKey = (index) => `attune:reflect:${code}:${index}`;
/** Under the live state's key, so leaving the session forgets it with the rest. */
const phoneKey = () => `${live.key}:phone`;
const sentOf = (index) => phone[index]?.sent ?? null;

function setPhone(changed) {
  if (changed === phone) return;
  phone = changed;
  store.set(phoneKey(), phone);
}

// --- joining -------------------------------------------------------------------------------

function joinForm(problem) {
  fill($("#leave-slot"));
  const input = h("input", {
    id: "code", name: "code", class: "code-input", autocomplete: "off", autocapitalize: "characters",
    spellcheck: "false", maxlength: 16, required: true, "aria-describedby": problem ? "join-problem" : null,
    value: problem ? code : null,
  });
  const form = h("form", {
    class: "join-form",
    onsubmit: (event) => {
      event.preventDefault();
      const wanted = normalizeCode(input.value);
      if (!wanted) return;
      if (codeFromHash(location.hash) === wanted) start(wanted);
      else location.hash = wanted;
    },
  },
  h("label", { for: "code", class: "join-label" }, t("join.codeLabel")),
  input,
  problem ? h("p", { id: "join-problem", class: "problem", role: "alert" }, problem) : null,
  h("button", { type: "submit", class: "button button-primary button-wide" }, t("join.button")));
  fill(main, h("section", { class: "panel join-panel" },
    h("h1", {}, t("join.title")), h("p", { class: "lead" }, t("join.lead")), form,
    h("p", { class: "fineprint" }, t("join.anonymous"))));
  input.focus();
}

function start(wanted) {
  if (live) live.stop();
  code = wanted;
  view = null;
  fill($("#code-slot"), h("span", { class: "code-pill", "aria-label": t("common.codeLabel", { code }) }, code));
  live = openLive({ role: "participant", code, onMessage: received, onFailed: failed, onStatus: update });
  phone = store.get(phoneKey(), {});
  if (live.state.status === "ended") render();
  else {
    live.connect();
    leaveControl();
  }
}

/** "Leave and remove my answers", confirmed inline; the server withdraws every answer. */
function leaveControl() {
  const slot = $("#leave-slot");
  const ask = h("button", { type: "button", class: "link-button", onclick: () => {
    fill(slot, h("div", { class: "leave-confirm", role: "group", "aria-labelledby": "leave-question" },
      h("p", { id: "leave-question" }, t("leave.question")),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "button button-danger", onclick: leave }, t("leave.confirm")),
        h("button", { type: "button", class: "button button-quiet", onclick: leaveControl }, t("leave.stay")))));
    slot.querySelector(".button-danger").focus();
  } }, t("leave.button"));
  fill(slot, ask);
}

function leave() {
  live.leave();
  view = null;
  fill($("#leave-slot"));
  fill($("#code-slot"));
  fill(main, h("section", { class: "panel waiting" },
    h("h1", { tabindex: "-1" }, t("leave.done")), h("p", { class: "lead" }, t("leave.doneLead")),
    h("a", { class: "button button-primary", href: "/join/" }, t("leave.again"))));
  main.querySelector("h1").focus();
}

function failed() {
  if (live.state.status === "ended") render();
  // A phone that was in the session learns it is gone, not that it mistyped the code.
  else joinForm(t(live.epoch ? "join.sessionGone" : "join.notFound", { code }));
}

function received(message) {
  setPhone(reducePhone(phone, message));
  showClock(live);
  switch (message.type) {
    case "welcome":
    case "step":
    case "ended":
      render();
      break;
    case "responses":
    case "reveal":
    case "results":
      update();
      break;
    case "ack":
      acknowledged(message);
      break;
    case "feedback":
    case "own_shift":
      update();
      break;
    case "assigned":
      showAssigned();
      break;
    case "groups":
    case "group":
      groupsChanged();
      break;
    case "error":
      if (message.ref) refused(message);
      break;
    default:
      break;
  }
}

// --- rendering -----------------------------------------------------------------------------

function render() {
  const state = live.state;
  if (state.status === "lobby" || (!state.step && state.status !== "ended")) {
    view = null;
    fill(main, h("section", { class: "panel waiting" },
      h("div", { class: "breath-dot", "aria-hidden": "true" }),
      h("h1", {}, t("join.in")),
      state.title ? h("p", { class: "lead", dir: "auto" }, state.title) : null,
      h("p", {}, t("join.waiting"))));
    return;
  }
  if (state.status === "ended") {
    view = null;
    fill($("#leave-slot"));
    fill(main, h("section", { class: "panel waiting" },
      h("h1", {}, t("join.ended")), h("p", { class: "lead" }, t("join.thanks")),
      h("p", { class: "fineprint" }, t("join.endedNotes"))));
    return;
  }
  const step = state.step;
  if (view && view.index === step.index) {
    update();
    return;
  }
  buildStep(step);
  update();
  view.heading?.focus({ preventScroll: true });
  announce(t("join.newStep", { n: step.index + 1 }));
}

function buildStep(step) {
  const state = live.state;
  // The question, above whatever the step asks for: the same on every kind of step.
  const content = stepContent(step, { level: "h1" });
  const progress = h("p", { class: "progress" },
    t("common.stepOf", { n: step.index + 1, total: state.step_count }));
  const section = h("section", { class: ["step", `step-${step.kind}`], dataset: { step: step.index } },
    progress, content);
  view = { index: step.index, step, section, heading: content[0] };
  if (step.assign) {
    view.assigned = h("div", { class: "assigned-slot", "aria-live": "polite" });
    section.append(view.assigned);
    showAssigned();
  }

  if (step.kind === "breathe" && step.pacer) {
    section.append(breathingPacer(step.pacer, state.started_at, () => live.now()));
    holdWake(section);
  } else if (step.kind === "timer" && step.seconds) {
    section.append(countdown(step.seconds, state.started_at, () => live.now(), () => live.state.clock));
    holdWake(section);
  } else if (step.kind === "reflect") {
    section.append(reflectNote(step));
  } else if (ANSWERABLE.has(step.kind)) {
    buildAnswer(step, section);
  } else if (step.kind === "groups") {
    view.groups = groupsPhone(step, live);
    view.phase = state.groups?.phase;
    section.append(view.groups.element);
    if (view.phase === "debrief" && step.debrief) {
      // The debrief is answered like a step of its kind, on the groups step's index.
      view.step = step.debrief;
      buildAnswer(step.debrief, section);
    }
  }
  fill(main, section);
}

/** A groups step changed round, phase or this phone's group: rebuild for the debrief. */
function groupsChanged() {
  if (!view?.groups) return;
  if (view.phase !== live.state.groups?.phase && live.state.groups?.phase === "debrief") {
    view = null;
    render();
    return;
  }
  view.phase = live.state.groups?.phase;
  view.groups.update();
}

function reflectNote(step) {
  const key = noteKey(step.index);
  const area = h("textarea", {
    id: "note", class: "textbox", rows: 6, dir: "auto", "aria-describedby": "note-private",
  });
  area.value = store.get(key, "", localStorage);
  const saved = h("p", { class: "hint", "aria-live": "polite" });
  area.addEventListener("input", () => {
    store.set(key, area.value, localStorage);
    saved.textContent = t("reflect.saved");
  });
  return h("div", { class: "reflect" },
    h("label", { for: "note", class: "field-label" }, t("reflect.label")), area,
    h("p", { id: "note-private", class: "private-note" }, t("reflect.private")), saved,
    h("button", {
      type: "button", class: "button button-quiet",
      onclick: () => {
        area.value = "";
        store.remove(key, localStorage);
        saved.textContent = t("reflect.deleted");
      },
    }, t("reflect.delete")));
}

function buildAnswer(step, section) {
  const input = answerInput(step, (draft) => {
    store.set(draftKey(step.index), draft);
    refreshButtons();
  });
  const send = h("button", { type: "submit", class: "button button-primary" }, t("answer.send"));
  const pass = h("button", { type: "button", class: "button button-quiet", onclick: () => submit(true) },
    t("answer.pass"));
  const back = h("button", { type: "button", class: "button button-quiet", hidden: true, onclick: () => showPart("answer") },
    t("answer.back"));
  const state = h("div", { class: "answer-state", role: "status", "aria-live": "polite" });
  const closed = h("p", { class: "closed-note", hidden: true }, t("answer.closed"));
  const form = h("form", {
    class: "answer-form", novalidate: true,
    onsubmit: (event) => {
      event.preventDefault();
      // With a guess to make, the answer's screen leads to the guess's; the guess's sends both.
      if (view.part === "answer" && input.guessPart) showPart("guess");
      else submit(false);
    },
  }, input.element, closed,
  h("div", { class: "answer-footer" }, state, h("div", { class: "actions" }, send, back, pass)));
  // Revealed results go above the form, and are brought into view when they arrive.
  const results = h("section", { class: "my-results", hidden: true, "aria-labelledby": `results-${step.index}` });
  const arrived = h("button", { type: "button", class: "results-arrived", hidden: true, onclick: () => showResults(true) },
    t("results.see"));
  section.append(results, form, arrived);

  const sent = sentOf(step.index);
  const draft = store.get(draftKey(step.index));
  const server = live.state.answers?.[step.index];
  if (draft) input.set(draft.value, draft.guess);
  else if (sent?.value) input.set(sent.value, sent.guess);
  else if (server) input.set(server, null);
  setPhone(restored(phone, live.state, step.index));
  Object.assign(view, { input, send, pass, back, state, closed, results, arrived, form, part: "answer" });
  const resumed = sentOf(step.index) || draft;
  showPart(input.guessPart && resumed?.guess ? "guess" : "answer", { focus: false });
}

/** One question per screen: the answer, then "now guess the room". */
function showPart(part, { focus = true } = {}) {
  const { input } = view;
  view.part = input.guessPart ? part : "answer";
  input.answer.hidden = view.part !== "answer";
  if (input.guessPart) input.guessPart.hidden = view.part !== "guess";
  view.back.hidden = view.part !== "guess";
  view.pass.hidden = view.part === "guess";
  view.section.classList.toggle("is-guessing", view.part === "guess");
  refreshButtons();
  if (!focus) return;
  const target = view.part === "guess" ? input.guessPart.querySelector(".guess-question") : view.heading;
  target?.focus({ preventScroll: true });
  view.section.scrollIntoView({ block: "start", behavior: reducedMotion() ? "auto" : "smooth" });
}

function same(a, b) {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

function refreshButtons() {
  if (!view?.input) return;
  const sent = sentOf(view.index);
  const changed = !sent || sent.pass || !same(sent.value, view.input.value()) || !same(sent.guess, view.input.guess());
  const open = live.state.responses_open;
  if (view.part === "answer" && view.input.guessPart) {
    view.send.textContent = t("answer.next");
    view.send.disabled = !view.input.value();
  } else {
    view.send.textContent = !live.joined ? t("answer.sendLater")
      : sent?.acked && !sent.pass ? t("answer.update") : t("answer.send");
    view.send.disabled = !open || !view.input.value() || !view.input.valid() || (sent && !changed && sent.acked);
  }
  view.pass.disabled = !open || Boolean(sent?.pass && sent.acked);
}

function submit(passing) {
  const index = view.index;
  const submission = randomId();
  let message;
  if (passing) {
    message = { type: "pass", step: index, submission };
  } else {
    const value = view.input.value();
    if (!value) {
      fill(view.state, h("p", { class: "problem" }, t("answer.pickFirst")));
      return;
    }
    const guess = view.input.guess();
    message = { type: "answer", step: index, submission, value };
    if (guess) message.guess = guess;
  }
  setPhone(submitted(phone, message));
  live.send(message, { keep: true });
  update();
}

/** After reducePhone took the ack: say so, if it was for the answer this phone is showing. */
function acknowledged(ack) {
  const sent = sentOf(ack.step);
  if (!sent || (sent.submission && sent.submission !== ack.submission)) return;
  if (view?.index === ack.step) {
    update();
    announce(sent.pass ? t("answer.passedNote") : t("answer.received"));
  }
}

function refused(error) {
  if (!view) return;
  update();
  fill(view.state, h("p", { class: "problem", role: "alert" }, t(`error.${error.code}`)));
}

/** Patch the current step: open/closed, answer state, revealed results. */
function update() {
  if (!view || !live) return;
  const state = live.state;
  if (view.input) {
    const open = state.responses_open;
    view.input.disable(!open);
    view.closed.hidden = open;
    const sent = sentOf(view.index);
    let note = null;
    if (sent && !sent.acked) {
      note = h("p", { class: "pending" }, live.joined ? t("answer.sending") : t("answer.willSend"));
    } else if (sent?.pass) {
      note = h("div", { class: "received received-pass" },
        h("div", {}, h("p", { class: "received-title" }, t("answer.passed")),
          h("p", {}, open ? t("answer.passedNote") : t("answer.kept"))));
    } else if (sent) {
      note = h("div", { class: "received" },
        h("span", { class: "tick", "aria-hidden": "true" }, "✓"),
        h("div", {}, h("p", { class: "received-title" }, t("answer.received")),
          h("p", {}, open ? t("answer.canChange") : t("answer.kept"))));
    }
    fill(view.state, note, sent?.help ? careNotice(sent.help) : null);
    refreshButtons();
    view.form.classList.toggle("is-answered", Boolean(sent?.acked));
    renderMyResults();
  }
}

const PHONE_CARDS = 6;
/** Free-text cards a phone shows after a reveal before "Read N more". */

function renderMyResults() {
  const state = live.state;
  const results = state.results;
  const box = view.results;
  const show = Boolean(state.revealed && results && results.step === view.index && results.answers);
  const fresh = show && box.hidden;
  box.hidden = !show;
  if (!show) {
    view.arrived.hidden = true;
    fill(box);
    return;
  }
  const feedback = phone[view.index]?.feedback;
  const own = phone[view.index]?.own_shift;
  fill(box, h("h2", { id: `results-${view.index}`, tabindex: "-1" }, t("results.room")),
    feedback ? feedbackNote(view.step, feedback) : null,
    own ? ownShiftNote(view.step, own) : null,
    resultsChart(view.step, results, { minResponses: state.min_responses, preview: PHONE_CARDS }));
  if (fresh) {
    announce(t("results.shown"));
    box.classList.add("is-new");
    showResults(false);
  }
}

/**
 * Bring the revealed results into view, wherever the participant is on the page; but never pull
 * someone out of the text they are typing: then a button at the bottom says they are in.
 */
function showResults(asked) {
  const typing = document.activeElement?.matches?.("textarea, input[type=text]");
  if (typing && !asked) {
    view.arrived.hidden = false;
    return;
  }
  view.arrived.hidden = true;
  view.results.scrollIntoView({ block: "start", behavior: reducedMotion() ? "auto" : "smooth" });
  view.results.querySelector("h2")?.focus({ preventScroll: true });
}

/** The character this phone answers as, sent privately by the server. */
function showAssigned() {
  if (!view?.assigned) return;
  const character = phone[view.index]?.assigned;
  fill(view.assigned, character ? assignedNote(character) : null);
}

function feedbackNote(step, feedback) {
  let text;
  // On a tie the room was split: name every answer tied for the most common, not one winner.
  const split = !feedback.close && (feedback.tied?.length ?? 0) > 1;
  const most = (name) => (split ? formatList(feedback.tied.map(name)) : name(feedback.actual));
  if (step.kind === "checkin") {
    const quadrant = (q) => t(`quadrant.${q}`);
    text = t(feedback.close ? "feedback.checkinClose" : split ? "feedback.checkinSplit" : "feedback.checkinFar", {
      guess: quadrant(feedback.guess), actual: most(quadrant), share: formatPercent(feedback.share ?? 0),
    });
  } else if (step.kind === "scale") {
    text = t(feedback.close ? "feedback.scaleClose" : "feedback.scaleFar", {
      guess: formatNumber(Number(feedback.guess)), actual: formatNumber(Number(feedback.actual), { maximumFractionDigits: 2 }),
    });
  } else {
    const label = (id) => step.options.find((o) => o.id === id)?.label ?? id;
    text = t(feedback.close ? "feedback.choiceClose" : split ? "feedback.choiceSplit" : "feedback.choiceFar", {
      guess: label(feedback.guess), actual: most(label), share: formatPercent(feedback.share ?? 0),
    });
  }
  return h("div", { class: ["feedback", feedback.close && "feedback-close"] },
    h("p", { class: "feedback-title" }, t("feedback.title")), h("p", { dir: "auto" }, text),
    h("p", { class: "hint" }, t("feedback.why")));
}

// --- start ---------------------------------------------------------------------------------

await setupPage();
followCode({ current: () => code, open: start, ask: () => joinForm() });
