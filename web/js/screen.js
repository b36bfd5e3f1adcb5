// The projector: large type for the back of the room. The code and QR in the lobby, the step
// content while people answer, the chart once the facilitator reveals it, and the breathing
// pacer in lockstep with the phones. It shows only what the whole room may see.

import { $, fill, h } from "./dom.js";
import { t } from "./i18n.js";
import { Live } from "./live.js";
import { setupPage, showConnection } from "./page.js";
import { breathingPacer, countdown } from "./pacer.js";
import { resultsChart } from "./charts.js";
import { ANSWERABLE, stepContent } from "./steps.js";
import { joinUrl, qrSvg } from "./qr.js";
import { hasThemes, themesBoard } from "./themes.js";

const main = $("#main");
let live = null;
let code = "";
let shown = null;

function codeFromHash() {
  return decodeURIComponent(location.hash.slice(1)).trim().toUpperCase().replace(/[^A-Z0-9]/g, "");
}

function askCode(problem) {
  const input = h("input", { id: "code", class: "code-input", autocomplete: "off", maxlength: 16, required: true });
  fill(main, h("form", {
    class: "panel join-panel",
    onsubmit: (event) => {
      event.preventDefault();
      location.hash = input.value.trim().toUpperCase();
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
  live = new Live({
    role: "screen", code,
    onStatus: (kind) => {
      if (kind === "failed") {
        if (live.state.status === "ended") render();
        else askCode(t("join.notFound", { code }));
        showConnection("open");
      } else showConnection(kind);
    },
    onMessage: (message) => {
      if (["welcome", "step", "ended", "reveal", "responses"].includes(message.type)) render();
      else if (message.type === "results") renderResults();
      else if (message.type === "presence") renderPresence();
    },
  });
  window.attuneLive = live;
  live.connect();
}

function joinStrip() {
  return h("footer", { class: "join-strip" },
    h("span", {}, t("common.joinAt", { host: `${location.host}/join` })),
    h("strong", { class: "strip-code" }, code),
    h("span", { class: "strip-qr" }, qrSvg(joinUrl(code), t("common.qrLabel", { url: joinUrl(code) }))));
}

function render() {
  const state = live.state;
  document.body.dataset.status = state.status;
  if (state.status === "lobby" || !state.step) {
    if (state.status !== "ended") {
      shown = "lobby";
      const url = joinUrl(code);
      fill(main, h("section", { class: "screen-lobby" },
        h("div", { class: "screen-qr" }, qrSvg(url, t("common.qrLabel", { url }))),
        h("div", { class: "screen-join" },
          state.title ? h("p", { class: "screen-session-title", dir: "auto" }, state.title) : null,
          h("p", { class: "screen-join-at" }, t("common.joinAt", { host: `${location.host}/join` })),
          h("p", { class: "screen-code" }, code),
          h("p", { class: "screen-presence", id: "screen-presence", "aria-live": "polite" }))));
      renderPresence();
      return;
    }
  }
  if (state.status === "ended") {
    shown = "ended";
    fill(main, h("section", { class: "screen-end" },
      h("h1", {}, t("screen.thanks")), state.title ? h("p", { dir: "auto" }, state.title) : null));
    return;
  }
  const step = state.step;
  const key = `${step.index}:${state.revealed}`;
  if (shown === key) {
    renderResults();
    return;
  }
  shown = key;
  const section = h("section", { class: ["screen-step", `screen-${step.kind}`, state.revealed && "is-revealed"] });
  section.append(h("p", { class: "progress" }, t("common.stepOf", { n: step.index + 1, total: state.step_count }),
    h("span", { id: "screen-live-count", class: "screen-live-count", "aria-live": "polite" })));
  section.append(...stepContent(step, { level: "h1" }));
  if (step.kind === "breathe" && step.pacer) section.append(breathingPacer(step.pacer, state.started_at, () => live.now()));
  if (step.kind === "timer" && step.seconds) section.append(countdown(step.seconds, state.started_at, () => live.now()));
  if (step.kind === "reflect") section.append(h("p", { class: "screen-hint" }, t("screen.reflect")));
  if (step.kind === "choice" && !state.revealed) {
    section.append(h("ol", { class: "screen-options" }, step.options.map((o) => h("li", { dir: "auto" }, o.label))));
  }
  if (ANSWERABLE.has(step.kind)) {
    section.append(h("div", { id: "screen-results", class: "screen-results", "aria-live": "polite" }));
  }
  fill(main, section, ANSWERABLE.has(step.kind) || step.kind === "story" ? joinStrip() : null);
  renderResults();
}

function renderResults() {
  const box = $("#screen-results");
  if (!box) return;
  const state = live.state;
  const countBox = $("#screen-live-count");
  if (countBox) countBox.textContent = state.results && !state.revealed ? ` · ${t("text.summary", { count: state.results.count })}` : "";
  if (!state.revealed) {
    // Until the reveal the server sends the projector only the live count, never the answers.
    fill(box, h("p", { class: "screen-hint" }, state.responses_open ? t("screen.answerNow") : t("screen.closed")));
    return;
  }
  const themed = hasThemes(state.results);
  box.closest(".screen-step")?.classList.toggle("has-themes", themed);
  fill(box, themed ? themesBoard(state.results.answers)
    : resultsChart(state.step, state.results, { minResponses: state.min_responses }));
}

function renderPresence() {
  const box = $("#screen-presence");
  const presence = live.state.presence;
  if (box) box.textContent = t("screen.here", { count: presence?.connected ?? 0 });
}

await setupPage();
window.addEventListener("hashchange", () => {
  const wanted = codeFromHash();
  if (wanted && wanted !== code) start(wanted);
});
const initial = codeFromHash();
if (initial) start(initial);
else askCode();
