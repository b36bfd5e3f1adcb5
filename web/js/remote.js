// The phone remote: the console shrunk to what a facilitator walking the room needs, like
// Mentimeter's remote. Big Back, Next and Reveal buttons, open/close responses, how many have
// answered, a timer's or countdown's time with pause and +30 s, this step's notes and the next
// one's. It opens with the facilitator link or the moderator link (same URL shape,
// /console/remote.html#SESSION.TOKEN) and sends the same commands as the console; a moderator
// link cannot end the session, and the remote never offers to.

import { $, fill, h, randomId } from "./dom.js";
import { formatNumber, t } from "./i18n.js";
import { Live } from "./live.js";
import { setupPage, showConnection } from "./page.js";
import { countdown } from "./pacer.js";
import { toggleClock } from "./clock.js";

const main = $("#main");
let live = null;

function command(type, extra = {}) {
  if (!live.send({ type, ref: randomId(), ...extra })) toast(t("console.notConnected"));
}

let toastTimer;
function toast(text) {
  const box = $("#toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 5000);
}

function notes(text) {
  return text ? text.split(/\n+/).map((line) => h("p", { dir: "auto" }, line)) : h("p", { class: "hint" }, t("remote.noNotes"));
}

function render() {
  const state = live.state;
  document.title = state.code ? `${state.title} · ${state.code} · ${t("remote.title")}` : t("remote.pageTitle");
  if (!state.session) {
    fill(main, h("p", { class: "panel" }, t("connection.connecting")));
    return;
  }
  const head = h("div", { class: "remote-head" },
    h("p", { class: "remote-session" }, h("span", { dir: "auto" }, state.title), " ", h("span", { class: "code-pill" }, state.code)),
    state.moderator ? h("span", { class: "tag moderator-tag" }, t("moderator.tag")) : null);
  if (state.status === "lobby") {
    fill(main, head, h("button", { type: "button", class: "button button-primary remote-big remote-start", onclick: () => command("start") }, t("console.startSession")));
    return;
  }
  if (state.status === "ended") {
    fill(main, head, h("h1", {}, t("console.endedTitle")));
    return;
  }
  const step = state.step;
  const next = state.outline.find((item) => item.index === step.index + 1);
  const answerable = ["checkin", "scale", "choice", "perspective"].includes(step.kind);
  const results = state.results;
  const held = results?.answers?.held ?? 0;
  fill(main, head,
    h("p", { class: "progress" }, t("common.stepOf", { n: step.index + 1, total: state.step_count }), " · ", t(`kind.${step.kind}`)),
    h("h1", { class: "remote-title", dir: "auto" }, step.title || step.prompt || t(`kind.${step.kind}`)),
    answerable ? h("p", { class: "remote-count", id: "remote-count" },
      h("strong", {}, formatNumber(results?.count ?? 0)), " ", t("console.answers", { count: results?.count ?? 0 }),
      held ? ` · ${t("remote.held", { count: held })}` : "") : null,
    h("div", { class: "remote-pad" },
      h("button", { type: "button", class: "button remote-big remote-back", disabled: step.index === 0, onclick: () => command("back") }, "← ", t("console.back")),
      h("button", { type: "button", class: "button button-primary remote-big remote-next", disabled: !next, onclick: () => command("next") }, t("console.next"), " →"),
      answerable ? h("button", {
        type: "button", class: "button button-accent remote-big remote-reveal", "aria-pressed": String(state.revealed),
        onclick: () => command(state.revealed ? "hide_results" : "reveal"),
      }, state.revealed ? t("console.hide") : t("console.reveal")) : null,
      answerable ? h("button", {
        type: "button", class: "button remote-big remote-open", "aria-pressed": String(state.responses_open),
        onclick: () => command(state.responses_open ? "close" : "open"),
      }, state.responses_open ? t("console.close") : t("console.open")) : null),
    remoteClock(step),
    h("section", { class: "remote-notes", "aria-labelledby": "remote-notes-now" },
      h("h2", { id: "remote-notes-now", class: "section-label" }, t("console.notes")), notes(step.notes)),
    next ? h("section", { class: "remote-notes remote-next-notes", "aria-labelledby": "remote-notes-next" },
      h("h2", { id: "remote-notes-next", class: "section-label" }, t("remote.nextNotes", { title: next.title })), notes(next.notes)) : null);
}

/** A timer step's time left, or an answer step's countdown, with pause or resume and +30 s. */
function remoteClock(step) {
  const { clock } = live.state;
  if (!clock) return null;
  const shown = step.kind === "timer" && step.seconds
    ? countdown(step.seconds, live.state.started_at, () => live.now(), () => live.state.clock) : null;
  return h("section", { class: "remote-clock", "aria-label": t(step.kind === "timer" ? "clock.timer" : "clock.title") },
    shown,
    h("div", { class: "remote-pad" },
      h("button", { type: "button", class: "button remote-big remote-pause", onclick: () => toggleClock(live, command) },
        t(clock.deadline != null ? "clock.pause" : "clock.resume")),
      h("button", { type: "button", class: "button remote-big remote-more", onclick: () => command("extend_clock", { seconds: 30 }) },
        t("clock.more", { n: formatNumber(30) }))));
}

async function start() {
  await setupPage();
  const [session, token] = location.hash.slice(1).split(".");
  if (!session || !token) {
    fill(main, h("section", { class: "panel" }, h("h1", {}, t("console.notFound")), h("p", {}, t("remote.needLink"))));
    return;
  }
  live = new Live({
    role: "facilitator", session, token,
    onMessage: (message) => {
      if (message.type === "error") toast(t(`error.${message.code}`));
      if (["welcome", "step", "ended", "responses", "reveal", "results", "clock"].includes(message.type)) render();
    },
    onStatus: (kind) => {
      if (kind === "failed") {
        fill(main, h("section", { class: "panel" }, h("h1", {}, t("console.notFound")), h("p", {}, t("console.notFoundLead"))));
        showConnection("open");
        return;
      }
      showConnection(kind);
    },
  });
  window.attuneLive = live;
  live.connect();
  render();
}

start();
