// The projector's layout rules, in code. A step on the projector never scrolls and never cuts:
// its frame is the viewport; the head (progress, title, prompt) and the stage (the step's content)
// share it; the join strip below is a fixed row of the page grid and is never covered. What does
// not fit is first scaled down, to a floor that stays readable from the back of the room, and what
// still does not fit is paged on a visible rhythm ("Page 2 of 5"). Everything is decided by
// measuring the real layout in the browser, so it holds in every language and at every size.
//
// A step view follows the rules by building its frame with `stepFrame()` and marking its parts:
//   .fit-pages   a list whose children are shown a page at a time (cards, long lists);
//   .fit-fill    a list that keeps as many of its leading children as fit (a word cloud, ranked);
//   .fit-line    one line that never wraps (the lobby's code): set smaller until it fits its width;
//   .fit-grow    a box that should use the room the stage leaves (a few large group tiles, a big
//                count): set larger through --grow, from 1 up to GROW (or its `data-grow`), while
//                everything still fits;
//   anything else in the stage scales with it (--fit, 1 down to FLOOR), so it uses `em`, not `rem`.
// `fitFrame(frame)` applies the rules; the projector calls it after every render and resize.

import { h } from "./dom.js";
import { t } from "./i18n.js";

/** The smallest scale a head or stage is shrunk to before paging takes over. */
export const FLOOR = 0.62;
/** The largest scale a `fit-grow` box is enlarged to when the stage has room to spare, unless
 * the box says otherwise (`data-grow`): text set larger than this would outshout the question. */
export const GROW = 2;
/** How long a page of a paged list stays up, in milliseconds, unless the list says otherwise. */
export const EVERY = 12000;

/** Which page each paged list is on, by its `data-pager` name, so a re-render keeps the page. */
const pagers = new Map();

/** True when `el`'s content is taller or wider than its box. */
export function overflows(el) {
  return el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1;
}

/**
 * The largest scale in [floor, 1] at which `box` does not overflow, set as `--fit` on `box`
 * (binary search: seven layouts at most). Returns the scale.
 */
export function scaleToFit(box, { floor = FLOOR } = {}) {
  box.style.setProperty("--fit", "1");
  if (!overflows(box)) return 1;
  let low = floor;
  let high = 1;
  for (let i = 0; i < 7; i += 1) {
    const middle = (low + high) / 2;
    box.style.setProperty("--fit", middle.toFixed(3));
    if (overflows(box)) high = middle;
    else low = middle;
  }
  box.style.setProperty("--fit", low.toFixed(3));
  return low;
}

/**
 * The frame of one projector step: `head` nodes (progress, title, prompt) over `stage` nodes.
 * `roomy` marks steps that need the room (revealed charts): the head and the join strip shrink.
 */
export function stepFrame({ kind, head, stage, roomy = false, classes = [] }) {
  return h("section", { class: ["screen-step", `screen-${kind}`, roomy && "is-roomy", ...classes] },
    h("header", { class: "screen-head" }, head),
    h("div", { class: "screen-stage" }, stage));
}

/** Keep as many leading children of `list` as fit in its box (binary search on the count). */
function fill(list) {
  const items = list.fitItems;
  list.replaceChildren(...items);
  if (!overflows(list)) return;
  let low = 1;
  let high = items.length;
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    list.replaceChildren(...items.slice(0, middle));
    if (overflows(list)) high = middle;
    else low = middle;
  }
  list.replaceChildren(...items.slice(0, low));
}

/** The "Page 2 of 5" line under a paged list; it always holds its place, so pages never jump. */
function pagerLabel(list) {
  if (!list.fitLabel) {
    list.fitLabel = h("p", { class: "pager pager-single", "aria-hidden": "true" },
      h("span", { class: "pager-text" }), h("span", { class: "pager-bar" }, h("span", { class: "pager-fill" })));
    list.after(list.fitLabel);
  }
  return list.fitLabel;
}

/**
 * Page the children of `list`: each page is as many children as its box holds, measured; the
 * pages turn every `data-every` ms, with "Page n of N" and a bar that fills until the next turn.
 */
function page(list) {
  const key = list.dataset.pager || "";
  const old = pagers.get(key);
  const items = list.fitItems;
  clearTimeout(old?.timer);
  if (!items.length) {
    // Nothing the room may see yet (every card waits for moderation): no pages to turn.
    pagers.delete(key);
    return;
  }
  const pages = [];
  let rest = items;
  while (rest.length) {
    list.replaceChildren(...rest);
    // Whatever starts below the box, or in a column right of it, waits for a later page.
    const box = list.getBoundingClientRect();
    let n = rest.findIndex((item) => {
      const r = item.getBoundingClientRect();
      return r.bottom > box.bottom + 1 || r.right > box.right + 1;
    });
    if (n === -1) n = rest.length;
    // A single item taller than the box gets a page of its own, scaled down to fit it.
    pages.push(rest.slice(0, Math.max(1, n)));
    rest = rest.slice(Math.max(1, n));
  }
  const label = pagerLabel(list);
  const every = Number(list.dataset.every) || EVERY;
  // A re-render (new answers arrive) keeps the page and its clock: the rhythm never restarts,
  // so pages keep turning however often the results change.
  const state = {
    pages, index: Math.min(old?.index ?? 0, pages.length - 1), since: old?.since ?? performance.now(), timer: null,
  };
  pagers.set(key, state);
  const show = () => {
    list.replaceChildren(...state.pages[state.index]);
    list.style.setProperty("--fit", "1");
    if (state.pages[state.index].length === 1) scaleToFit(list, { floor: 0.4 });
    label.classList.toggle("pager-single", state.pages.length < 2);
    label.firstChild.textContent = t("screen.page", { n: state.index + 1, total: state.pages.length });
    const bar = label.querySelector(".pager-fill");
    bar.style.animationDuration = `${every}ms`;
    bar.style.animationDelay = `${-(performance.now() - state.since)}ms`;
    bar.classList.remove("pager-run");
    void bar.offsetWidth; // restart the fill animation, from where this page's clock is
    bar.classList.add("pager-run");
  };
  const turn = () => {
    if (!list.isConnected) return;
    state.index = (state.index + 1) % state.pages.length;
    state.since = performance.now();
    show();
    state.timer = setTimeout(turn, every);
  };
  show();
  if (pages.length > 1) state.timer = setTimeout(turn, Math.max(0, every - (performance.now() - state.since)));
}

/** True when something inside `box` is cut: a line set to one line with an ellipsis, a clamped
 * text, or a box that clips what overflows it (a column with `overflow: hidden`). */
function cutInside(box) {
  for (const el of box.querySelectorAll("*")) {
    // Screen-reader text is a clipped 1px box on purpose.
    if ((el.clientWidth === 0 && el.clientHeight === 0) || el.closest(".visually-hidden")) continue;
    const style = getComputedStyle(el);
    if (style.overflow !== "visible" && overflows(el)) return true;
    if (style.textOverflow === "ellipsis" && el.scrollWidth > el.clientWidth + 1) return true;
    if (style.webkitLineClamp !== "none" && style.webkitLineClamp && el.scrollHeight > el.clientHeight + 1) return true;
  }
  return false;
}

/**
 * Enlarge `box` (through `--grow`, 1 up to its `data-grow` or GROW) to the largest size at which the stage, the
 * box and every paged or filled list in it still fit and no text in it is cut (binary search, as
 * scaleToFit). A paged list grows only when it holds all its items on one page.
 */
function grow(box, stage) {
  const pager = pagers.get(box.dataset.pager || "");
  if (box.classList.contains("fit-pages") && pager?.pages.length !== 1) return;
  // A filled list that overflows would lose an item it showed: growing never costs content.
  const lists = [box, ...box.querySelectorAll(".fit-pages, .fit-fill")];
  const fits = () => !overflows(stage) && !lists.some(overflows) && !cutInside(box);
  let low = 1;
  let high = Number(box.dataset.grow) || GROW;
  box.style.setProperty("--grow", String(high));
  if (fits()) return;
  for (let i = 0; i < 7; i += 1) {
    const middle = (low + high) / 2;
    box.style.setProperty("--grow", middle.toFixed(3));
    if (fits()) low = middle;
    else high = middle;
  }
  box.style.setProperty("--grow", low.toFixed(3));
}

/**
 * Apply the layout rules to a frame already in the page: scale the head into its share, scale the
 * stage until it fits, then fill and page the lists inside it.
 */
export function fitFrame(frame) {
  const head = frame.querySelector(".screen-head");
  const stage = frame.querySelector(".screen-stage");
  if (head) scaleToFit(head);
  if (!stage) return;
  // A line that must never wrap (the join code) is set smaller until it fits its width.
  for (const line of stage.querySelectorAll(".fit-line")) {
    line.style.fontSize = "";
    if (line.scrollWidth > line.clientWidth + 1) {
      const size = parseFloat(getComputedStyle(line).fontSize) * (line.clientWidth / line.scrollWidth);
      line.style.fontSize = `${Math.floor(size)}px`;
    }
  }
  const growing = [...stage.querySelectorAll(".fit-grow")];
  for (const box of growing) box.style.setProperty("--grow", "1");
  const lists = [...stage.querySelectorAll(".fit-pages, .fit-fill")];
  // Measure the rest of the stage with the lists at their smallest, so they get what is left.
  for (const list of lists) {
    list.fitItems ||= [...list.children];
    list.replaceChildren();
    if (list.classList.contains("fit-pages")) pagerLabel(list);
  }
  const scale = scaleToFit(stage);
  for (const list of lists) {
    if (list.classList.contains("fit-pages")) page(list);
    else fill(list);
  }
  // Room to spare only when nothing had to shrink: then the boxes that want it take it.
  if (scale === 1) for (const box of growing) grow(box, stage);
}

/** Re-fit `frame()` whenever the viewport or the fonts change. */
export function fitOnResize(target, frame) {
  let queued = false;
  const again = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      const current = frame();
      if (current) fitFrame(current);
    });
  };
  new ResizeObserver(again).observe(target);
  document.fonts?.ready.then(again);
}
