// Countdowns on answer steps, on every device: a badge with the time left, computed from the
// server's deadline and this page's estimate of the server clock, so the console, the projector
// and every phone show the same second. The console adds the controls: start (1 or 2 minutes,
// optionally revealing at zero), pause, resume, +30 s, stop. Responses close at zero on the
// server, not here (core/countdown.py). A `timer` step runs on the same clock, but its own big
// timer shows it (pacer.js), so no badge there, and its controls are pause, resume and +30 s.

import { h } from "./dom.js";
import { formatNumber, t } from "./i18n.js";

let ticker = null;

function left(clock, now) {
  if (!clock) return null;
  return clock.deadline != null ? Math.max(0, clock.deadline - now) : clock.left ?? 0;
}

function mmss(ms) {
  const seconds = Math.ceil(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

/** Show, update or remove the countdown badge for this page's live state. */
export function showClock(live) {
  const { state } = live;
  const clock = state.status === "running" && state.step?.kind !== "timer" ? state.clock : null;
  let badge = document.getElementById("clock-badge");
  clearInterval(ticker);
  if (!clock) {
    badge?.remove();
    return;
  }
  if (!badge) {
    badge = h("div", { id: "clock-badge", class: "clock-badge", role: "timer", "aria-live": "off" });
    document.body.append(badge);
  }
  const paint = () => {
    const ms = left(clock, live.now());
    badge.classList.toggle("is-paused", clock.deadline == null);
    badge.classList.toggle("is-low", ms <= 10_000);
    badge.textContent = clock.deadline == null ? `${mmss(ms)} · ${t("clock.paused")}` : mmss(ms);
  };
  paint();
  if (clock.deadline != null) ticker = setInterval(paint, 250);
}

/** The console's countdown controls for the current answer or timer step. */
export function clockControls(live, command) {
  const clock = live.state.clock;
  const timer = live.state.step?.kind === "timer";
  if (!clock && timer) return null;
  if (!clock) {
    const reveal = h("input", { type: "checkbox", id: "clock-reveal" });
    return h("div", { class: "clock-controls" },
      h("span", { class: "section-label" }, t("clock.title")),
      [60, 120].map((seconds) => h("button", {
        type: "button", class: "button button-small clock-start", dataset: { seconds },
        onclick: () => command("countdown", { seconds, reveal: reveal.checked }),
      }, t("clock.minutes", { count: seconds / 60 }))),
      h("label", { class: "clock-reveal", for: "clock-reveal" }, reveal, " ", t("clock.revealAtZero")));
  }
  return h("div", { class: "clock-controls" },
    // Under a timer step's own big timer, the buttons need no heading.
    timer ? null : h("span", { class: "section-label" }, t("clock.title")),
    clock.deadline != null
      ? h("button", { type: "button", class: "button button-small clock-pause", "aria-keyshortcuts": "t", onclick: () => command("pause_clock") }, t("clock.pause"))
      : h("button", { type: "button", class: "button button-small clock-resume", "aria-keyshortcuts": "t", onclick: () => command("resume_clock") }, t("clock.resume")),
    h("button", { type: "button", class: "button button-small clock-more", "aria-keyshortcuts": "=", onclick: () => command("extend_clock", { seconds: 30 }) },
      t("clock.more", { n: formatNumber(30) })),
    timer ? null : h("button", { type: "button", class: "button button-small clock-stop", onclick: () => command("countdown") }, t("clock.stop")),
    clock.reveal ? h("span", { class: "hint" }, t("clock.willReveal")) : null);
}

/** Pause a running clock, or resume a paused one (the console's T key, the remote's button). */
export function toggleClock(live, command) {
  command(live.state.clock?.deadline != null ? "pause_clock" : "resume_clock");
}
