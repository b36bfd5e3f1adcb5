// A toolbar that stays on one line in every language: when its controls do not fit, the least
// needed ones move, in a set order, into a "More" menu at its end, and come back when there is
// room again (a wider window, a shorter label). French labels are a third longer than English
// ones, so a fixed layout that fits in English wraps into a second ragged row in French.
//
// The caller says what may move and in what order: `data-overflow="N"` on a control, higher N
// first (then the later one first); a control without it always stays. On a phone-sized console
// (800 px and less) the toolbar wraps as before, and nothing moves.

import { h } from "./dom.js";
import { t } from "./i18n.js";

const NARROW = "(max-width: 800px)";
const toolbars = new WeakMap();

// A click anywhere else closes an open "More" menu, as menus do.
document.addEventListener("click", (event) => {
  for (const menu of document.querySelectorAll("details.more-menu[open]")) {
    if (!menu.contains(event.target)) menu.open = false;
  }
});

/** Fit `bar` on one line now, and again whenever its width changes. Call it again after a
 * control's label changes. `small`: the "More" button matches small buttons. */
export function keepOnOneLine(bar, { small = false } = {}) {
  let state = toolbars.get(bar);
  if (!state) {
    state = setUp(bar, small);
    toolbars.set(bar, state);
  }
  fit(bar, state);
}

function setUp(bar, small) {
  const list = h("div", { class: "more-list" });
  const summary = h("summary", { class: ["button", small && "button-small", "more-button"] }, t("common.more"), " ▾");
  const menu = h("details", { class: "more-menu" }, summary, list);
  menu.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !menu.open) return;
    menu.open = false;
    summary.focus();
  });
  const state = { menu, list, homes: new Map(), observer: null };
  // A resize is fitted on the next frame, outside the observer's callback, so moving controls
  // never feeds back into the observation that caused it.
  state.observer = new ResizeObserver(() => requestAnimationFrame(() => fit(bar, state)));
  state.observer.observe(bar);
  return state;
}

function overflows(bar) {
  return bar.scrollWidth > bar.clientWidth + 1;
}

function fit(bar, state) {
  if (!bar.isConnected) {
    state.observer.disconnect();
    return;
  }
  const focused = document.activeElement;
  for (const [control, home] of state.homes) if (home.isConnected) home.replaceWith(control);
  state.homes.clear();
  state.list.replaceChildren();
  state.menu.remove();
  if (matchMedia(NARROW).matches || !overflows(bar)) {
    if (focused && focused !== document.activeElement && focused.isConnected) focused.focus();
    return;
  }
  bar.append(state.menu);
  const movable = [...bar.querySelectorAll("[data-overflow]")]
    .map((control, index) => ({ control, index, rank: Number(control.dataset.overflow) }))
    .sort((a, b) => b.rank - a.rank || b.index - a.index);
  const moved = [];
  for (const entry of movable) {
    if (!overflows(bar)) break;
    const home = document.createComment("");
    entry.control.replaceWith(home);
    state.homes.set(entry.control, home);
    moved.push(entry);
    state.list.append(entry.control);
  }
  // In the menu, the controls keep the order they had on the toolbar.
  state.list.replaceChildren(...moved.sort((a, b) => a.index - b.index).map((entry) => entry.control));
  // Moving a control takes the focus away from it; a keyboard user keeps their place.
  if (focused && focused !== document.activeElement && focused.isConnected) focused.focus();
}
