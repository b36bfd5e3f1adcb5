// The phone remote: the console shrunk to what a facilitator walking the room needs, like
// Mentimeter's remote. Big Back, Next and Reveal buttons, open/close responses, how many have
// answered, a timer's or countdown's time with pause and +30 s, this step's notes and the next
// one's. It opens with the facilitator link or the moderator link (same URL shape,
// /console/remote.html#SESSION.TOKEN) and sends the same commands as the console; a moderator
// link cannot end the session, and the remote never offers to.

import { $, fill, h } from "./dom.js";
import { formatNumber, t } from "./i18n.js";
import { openLive, setupPage } from "./page.js";
import { linkFromHash } from "./codes.js";
import { countdown } from "./pacer.js";
import { toggleClock } from "./clock.js";
import { ANSWERABLE } from "./steps.js";
import {
  commander, noteLines, openCommand, openLabel, refusal, revealCommand, revealLabel, sessionNotFound,
  stepName, stepProgress, tabTitle,
} from "./command.js";

const main = $("#main");
let live = null;
const command = commander(() => live);

function notes(text) {
  return text ? noteLines(text) : h("p", { class: "hint" }, t("remote.noNotes"));
}

function render() {
  const state = live.state;
  tabTitle(state, t("remote.title"), t("remote.pageTitle"));
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
  const answerable = ANSWERABLE.has(step.kind);
  const results = state.results;
  const held = results?.answers?.held ?? 0;
  fill(main, head,
    h("p", { class: "progress" }, stepProgress(step, state)),
    h("h1", { class: "remote-title", dir: "auto" }, stepName(step)),
    answerable ? h("p", { class: "remote-count", id: "remote-count" },
      h("strong", {}, formatNumber(results?.count ?? 0)), " ", t("console.answers", { count: results?.count ?? 0 }),
      held ? ` · ${t("remote.held", { count: held })}` : "") : null,
    h("div", { class: "remote-pad" },
      h("button", { type: "button", class: "button remote-big remote-back", disabled: step.index === 0, onclick: () => command("back") }, "← ", t("console.back")),
      h("button", { type: "button", class: "button button-primary remote-big remote-next", disabled: !next, onclick: () => command("next") }, t("console.next"), "\u00a0→"),
      answerable ? h("button", {
        type: "button", class: "button button-accent remote-big remote-reveal", "aria-pressed": String(state.revealed),
        onclick: () => command(revealCommand(state)),
      }, revealLabel(state)) : null,
      answerable ? h("button", {
        type: "button", class: "button remote-big remote-open", "aria-pressed": String(state.responses_open),
        onclick: () => command(openCommand(state)),
      }, openLabel(state)) : null),
    remoteClock(step),
    h("section", { class: "remote-notes", "aria-labelledby": "remote-notes-now" },
      h("h2", { id: "remote-notes-now", class: "section-label" }, t("console.notes")), notes(step.notes)),
    next ? h("section", { class: "remote-notes remote-next-notes", "aria-labelledby": "remote-notes-next" },
      h("h2", { id: "remote-notes-next", class: "section-label" }, t("remote.nextNotes", { title: next.title || t(`kind.${next.kind}`) })), notes(next.notes)) : null);
}

/** The current step's countdown length, as the remote first saw it (null without a clock). */
let span = null;

/** A timer step's time left, or an answer step's countdown, with pause or resume and +30 s. */
function remoteClock(step) {
  const { clock } = live.state;
  if (!clock) {
    span = null;
    return null;
  }
  // A timer step's bar spans its seconds; an answer step's countdown, the most time left seen on
  // this step's clock (the remote is redrawn on every push: "time left now" would refill the bar).
  const left = clock.deadline != null ? clock.deadline - live.now() : clock.left ?? 0;
  if (span?.step !== step.index) span = { step: step.index, seconds: 0 };
  span.seconds = Math.max(span.seconds, Math.ceil(left / 1000), 1);
  const seconds = step.kind === "timer" && step.seconds ? step.seconds : span.seconds;
  const shown = countdown(seconds, live.state.started_at, () => live.now(), () => live.state.clock);
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
  const { session, token } = linkFromHash(location.hash);
  if (!session || !token) {
    fill(main, sessionNotFound(t("remote.needLink")));
    return;
  }
  live = openLive({
    role: "facilitator", session, token,
    onMessage: (message) => {
      refusal(message);
      if (["welcome", "step", "ended", "responses", "reveal", "results", "clock"].includes(message.type)) render();
    },
    onFailed: () => fill(main, sessionNotFound(t("console.notFoundLead"))),
  });
  live.connect();
  render();
}

start();
