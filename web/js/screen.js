// The projector: large type for the back of the room. The code and QR in the lobby, the step
// content while people answer, the chart once the facilitator reveals it, and the breathing
// pacer in lockstep with the phones. It shows only what the whole room may see.
//
// The page is a grid the size of the viewport (top bar, the step's frame, the join strip) and
// never scrolls; fit.js scales and pages each frame into its row (docs/ui.md, "Layout rules").

import { $, fill, h } from "./dom.js";
import { t } from "./i18n.js";
import { followCode, openLive, setupPage } from "./page.js";
import { normalizeCode } from "./codes.js";
import { breathingPacer, countdown } from "./pacer.js";
import { resultsChart } from "./charts.js";
import { ANSWERABLE, stepContent } from "./steps.js";
import { joinUrl, qrSvg } from "./qr.js";
import { showSpotlight } from "./spotlight.js";
import { showClock } from "./clock.js";
import { followJoin, installScreenTools, screenTitle } from "./screen-tools.js";
import { fitFrame, fitOnResize, stepFrame } from "./fit.js";
import { screenViews } from "./screen-views.js";
import "./themes-screen.js";
import "./groups-screen.js";

const main = $("#main");
const strip = $("#join-strip");
let live = null;
let code = "";
let shown = null;

function askCode(problem) {
  showStrip(false);
  const input = h("input", { id: "code", class: "code-input", autocomplete: "off", maxlength: 16, required: true });
  fill(main, h("form", {
    class: "panel join-panel",
    onsubmit: (event) => {
      event.preventDefault();
      location.hash = normalizeCode(input.value);
    },
  },
  h("h1", {}, t("screen.title")),
  h("label", { for: "code", class: "join-label" }, t("screen.codeLabel")), input,
  problem ? h("p", { class: "problem", role: "alert" }, problem) : null,
  h("button", { type: "submit", class: "button button-primary button-wide" }, t("screen.show"))));
}

function start(wanted) {
  if (live) live.stop();
  code = wanted;
  shown = null;
  live = openLive({
    role: "screen", code,
    onFailed: () => {
      if (live.state.status === "ended") render();
      else askCode(t(live.epoch ? "screen.sessionGone" : "join.notFound", { code }));
    },
    onMessage: (message) => {
      showSpotlight(live.state);
      showClock(live);
      followJoin({ ...live.state, code });
      if (message.type === "welcome") screenTitle({ ...live.state, code });
      if (["welcome", "step", "ended", "reveal", "responses"].includes(message.type)) render();
      else if (message.type === "results") renderResults();
      else if (message.type === "presence") renderPresence();
      else if (["groups", "group_counts"].includes(message.type)) renderUpdate();
    },
  });
  live.connect();
  installScreenTools(() => ({ ...live.state, code }));
}

/** The join strip: always on screen during a session, compact on steps that need the room. */
function showStrip(visible, compact = false) {
  strip.hidden = !visible;
  strip.classList.toggle("is-compact", compact);
  if (!visible || strip.dataset.code === code) return;
  strip.dataset.code = code;
  fill(strip,
    h("span", { class: "strip-at" }, t("common.joinAt", { host: `${location.host}/join` })),
    h("strong", { class: "strip-code", "aria-label": t("common.codeLabel", { code }) }, code),
    h("span", { class: "strip-qr" }, qrSvg(joinUrl(code), t("common.qrLabel", { url: joinUrl(code) }))));
}

const current = () => main.querySelector(":scope > .screen-step");

function lobby(state) {
  const url = joinUrl(code);
  return stepFrame({
    kind: "lobby",
    head: state.title ? h("p", { class: "screen-session-title", dir: "auto" }, state.title) : null,
    stage: h("div", { class: "screen-lobby" },
      h("div", { class: "screen-qr" }, qrSvg(url, t("common.qrLabel", { url }))),
      h("div", { class: "screen-join" },
        h("p", { class: "screen-join-at" }, t("common.joinAt", { host: `${location.host}/join` })),
        h("p", { class: "screen-code fit-line" }, code),
        h("p", { class: "screen-presence", id: "screen-presence", "aria-live": "polite" }))),
  });
}

/** What the stage shows while a step runs (before any reveal). */
function stage(step, state) {
  const parts = [];
  const custom = screenViews.get(step.kind);
  if (custom?.stage) parts.push(custom.stage(step, state, live));
  if (step.kind === "breathe" && step.pacer) parts.push(breathingPacer(step.pacer, state.started_at, () => live.now()));
  if (step.kind === "timer" && step.seconds) parts.push(countdown(step.seconds, state.started_at, () => live.now(), () => live.state.clock));
  if (step.kind === "reflect") parts.push(h("p", { class: "screen-hint" }, t("screen.reflect")));
  if (step.kind === "choice" && !state.revealed) {
    parts.push(h("ol", { class: ["screen-options", step.options.length > 4 && "screen-options-many"] },
      step.options.map((o) => h("li", { dir: "auto" }, o.label))));
  }
  if (ANSWERABLE.has(step.kind) || custom?.results) {
    parts.push(h("div", { id: "screen-results", class: "screen-results", "aria-live": "polite" }));
  }
  return parts;
}

function render() {
  const state = live.state;
  if (state.status === "lobby" || (!state.step && state.status !== "ended")) {
    shown = "lobby";
    showStrip(false);
    fill(main, lobby(state));
    renderPresence();
    fitFrame(current());
    return;
  }
  if (state.status === "ended") {
    shown = "ended";
    showStrip(false);
    fill(main, stepFrame({
      kind: "end", head: h("h1", {}, t("screen.thanks")),
      stage: state.title ? h("p", { dir: "auto" }, state.title) : null,
    }));
    fitFrame(current());
    return;
  }
  const step = state.step;
  const key = `${step.index}:${state.revealed}`;
  if (shown === key) {
    renderResults();
    return;
  }
  shown = key;
  const custom = screenViews.get(step.kind);
  const roomy = custom?.roomy ? custom.roomy(state) : state.revealed && ANSWERABLE.has(step.kind);
  // The question stays in the head; a story's text and characters are the stage.
  const content = stepContent(step, { level: "h1" });
  const inHead = (node) => node.matches?.(".step-title, .step-prompt, .step-character");
  const staged = [...content.filter((node) => !inHead(node)), ...stage(step, state)];
  // A question with nothing else to show while the answers come in is the room's question
  // slide: set large, in the middle of the screen, rather than a line at the top of a blank one.
  const asking = !state.revealed && staged.length > 0
    && staged.every((node) => node.id === "screen-results" || node.matches?.(".screen-hint"));
  // A story is read from the back of the room: its text grows into the stage it leaves empty.
  for (const node of staged) {
    if (!node.matches?.(".story-text")) continue;
    node.classList.add("fit-grow");
    node.dataset.grow = "1.5";
  }
  const frame = stepFrame({
    kind: step.kind, roomy, classes: [state.revealed && "is-revealed", asking && "is-asking"],
    head: [
      h("p", { class: "progress" }, t("common.stepOf", { n: step.index + 1, total: state.step_count }),
        h("span", { id: "screen-live-count", class: "screen-live-count", "aria-live": "polite" })),
      ...content.filter(inHead),
    ],
    stage: staged,
  });
  frame.dataset.step = String(step.index);
  fill(main, frame);
  showStrip(true, roomy);
  renderResults();
}

function renderResults() {
  const frame = current();
  const box = $("#screen-results");
  if (!box) {
    if (frame) fitFrame(frame);
    return;
  }
  const state = live.state;
  const countBox = $("#screen-live-count");
  if (countBox) countBox.textContent = state.results && !state.revealed ? ` · ${t("text.summary", { count: state.results.count })}` : "";
  if (!state.revealed) {
    // Until the reveal the server sends the projector only the live count, never the answers.
    fill(box, h("p", { class: "screen-hint" }, state.responses_open ? t("screen.answerNow") : t("screen.closed")));
  } else {
    const custom = screenViews.get(state.step.kind);
    fill(box, custom?.results
      ? custom.results(state.step, state.results, state)
      : resultsChart(state.step, state.results, { minResponses: state.min_responses, fit: `step-${state.step.index}` }));
  }
  fitFrame(frame);
}

/** A view's own update for messages that change it without a new frame (a groups round). */
function renderUpdate() {
  const view = screenViews.get(live.state.step?.kind);
  if (!view?.update || !current()) return;
  view.update(live.state, live);
  fitFrame(current());
}

function renderPresence() {
  const box = $("#screen-presence");
  const presence = live.state.presence;
  if (box) box.textContent = t("screen.here", { count: presence?.connected ?? 0 });
}

await setupPage();
fitOnResize(document.documentElement, current);
followCode({ current: () => code, open: start, ask: () => askCode() });
