// The breathing pacer and the countdown timer. The pacer counts from the step's `started_at`
// and the timer from the step's clock, both on the server clock, so every phone, the console and
// the projector show the same phase at the same moment. With prefers-reduced-motion the circle
// does not move: a text countdown says the phase.

import { h } from "./dom.js";
import { t } from "./i18n.js";

const PHASES = ["inhale", "hold_in", "exhale", "hold_out"];
const SMALL = 0.42;

export const reducedMotion = () => matchMedia("(prefers-reduced-motion: reduce)").matches;

/** Where a pacer is at `elapsed` seconds: phase, seconds left in it, cycle, and circle size. */
export function pacerAt(pacer, elapsed) {
  const lengths = PHASES.map((phase) => pacer[phase] || 0);
  const cycle = lengths.reduce((a, b) => a + b, 0);
  if (elapsed < 0) return { phase: "ready", left: Math.ceil(-elapsed), cycle: 0, size: SMALL };
  if (elapsed >= cycle * pacer.cycles) return { phase: "done", left: 0, cycle: pacer.cycles, size: SMALL };
  const index = Math.floor(elapsed / cycle);
  let within = elapsed - index * cycle;
  for (let i = 0; i < PHASES.length; i += 1) {
    if (within < lengths[i]) {
      const progress = within / lengths[i];
      const size = PHASES[i] === "inhale" ? SMALL + (1 - SMALL) * ease(progress)
        : PHASES[i] === "exhale" ? 1 - (1 - SMALL) * ease(progress)
          : PHASES[i] === "hold_in" ? 1 : SMALL;
      return { phase: PHASES[i], left: Math.ceil(lengths[i] - within), cycle: index + 1, size };
    }
    within -= lengths[i];
  }
  return { phase: "done", left: 0, cycle: pacer.cycles, size: SMALL };
}

const ease = (x) => 0.5 - Math.cos(Math.PI * x) / 2;

function loop(element, frame) {
  let last = null;
  const tick = () => {
    if (!element.isConnected && last !== null) return;
    last = frame();
    requestAnimationFrame(tick);
  };
  tick();
}

/** A breathing pacer for a `breathe` step; `now()` is the server clock in ms. */
export function breathingPacer(pacer, startedAt, now) {
  const still = reducedMotion();
  const circle = h("div", { class: "pacer-circle", "aria-hidden": "true" });
  const phase = h("p", { class: "pacer-phase", "aria-live": "polite" });
  const count = h("p", { class: "pacer-count", "aria-hidden": still ? null : "true" });
  const cycle = h("p", { class: "pacer-cycle" });
  const element = h("div", { class: ["pacer", still && "pacer-still"], role: "group",
    "aria-label": t("pacer.label") },
  still ? null : h("div", { class: "pacer-stage" }, circle), phase, count, cycle);
  let shown = "";
  loop(element, () => {
    const at = pacerAt(pacer, (now() - startedAt) / 1000);
    if (!still) circle.style.transform = `scale(${at.size.toFixed(4)})`;
    element.dataset.phase = at.phase;
    if (shown !== at.phase) {
      shown = at.phase;
      phase.textContent = t(`pacer.${at.phase}`);
    }
    const seconds = at.phase === "done" ? "" : String(at.left);
    if (count.textContent !== seconds) count.textContent = seconds;
    const cycles = at.cycle > 0 && at.phase !== "done"
      ? t("pacer.cycle", { n: at.cycle, total: pacer.cycles }) : "";
    if (cycle.textContent !== cycles) cycle.textContent = cycles;
    return at;
  });
  return element;
}

export function clock(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/**
 * A countdown for a `timer` step. Time left comes from the step's server clock, `source()`: a
 * core/countdown.py Clock, running (`deadline`) or paused (`left`), so pause, resume and "+30 s"
 * from the console reach every device alike. Until that clock arrives (it follows the step
 * event), and in the editor's preview, the timer counts from `startedAt`.
 */
export function countdown(seconds, startedAt, now, source = () => null) {
  const time = h("p", { class: "timer-time", role: "timer", "aria-live": "off" });
  const bar = h("div", { class: "timer-bar" });
  const done = h("p", { class: "timer-done", "aria-live": "polite" });
  const element = h("div", { class: "timer" }, time,
    h("div", { class: "timer-track", "aria-hidden": "true" }, bar), done);
  // The bar is full at the longest time left seen, so "+30 s" refills it instead of overflowing.
  let span = seconds * 1000;
  loop(element, () => {
    const running = source() ?? { deadline: startedAt + seconds * 1000 };
    const left = Math.max(0, running.deadline != null ? running.deadline - now() : running.left ?? 0);
    span = Math.max(span, left);
    const paused = running.deadline == null && left > 0;
    const text = clock(left / 1000);
    if (time.textContent !== text) time.textContent = text;
    bar.style.width = `${(left / span) * 100}%`;
    const said = left <= 0 ? t("timer.done") : paused ? t("timer.paused") : "";
    if (done.textContent !== said) {
      done.textContent = said;
      element.classList.toggle("timer-over", left <= 0);
      element.classList.toggle("timer-paused", paused);
    }
    return left;
  });
  return element;
}
