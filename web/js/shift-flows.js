// The check-in shift as a flow diagram (an alluvial view): the room's quadrants then, on the
// left, and now, on the right, each as tall as that step's own public count, with a band from
// each "then" quadrant to each "now" quadrant as wide as the people who moved that way.
//
// Only what the server sent is drawn, and the server sends every flow already suppressed
// (core/shift.py: cells under the threshold and any cell that would give one away are null).
// A hidden flow is a dashed line of no width; a band is drawn only for a shown count; a column
// is sized by the step's own results, which the room has seen anyway. So the picture says no
// more than the numbers beside it.

import { h } from "./dom.js";
import { formatNumber, formatPercent, t } from "./i18n.js";

const QUADRANTS = ["high-unpleasant", "high-pleasant", "low-unpleasant", "low-pleasant"];
const SLOT = 12;
/** Least height of a quadrant that has anyone, in % of the diagram: room for its label. */
const GAP = 4;
/** Space between two quadrants of a column, in %. */
const LABELLED = 4.5;
/** A band at least this tall (in %) carries its count. */

const svg = (tag, attrs, ...kids) => h(`svg:${tag}`, attrs, ...kids);
const share = (n, total) => (total > 0 ? n / total : 0);
const pct = (v) => `${v.toFixed(2)}%`;

/** People per quadrant in a column: the step's public aggregate, or (without one) the shown
 * flows; never fewer than the shown flows, so the bands always fit inside their quadrant. */
function counts(aggregate, flows, side) {
  return QUADRANTS.map((q) => Math.max(aggregate?.quadrants?.[q] || 0,
    flows.filter((f) => f[side] === q).reduce((sum, f) => sum + (f.count || 0), 0)));
}

/** Each quadrant's [top, height] in % for both columns at one scale (a person is as tall on
 * both sides), every non-empty quadrant at least SLOT tall, each column centred. */
function layout(columns) {
  const height = (values, unit) => {
    const used = values.filter((v) => v > 0);
    return used.reduce((sum, v) => sum + Math.max(SLOT, v * unit), 0) + GAP * Math.max(0, used.length - 1);
  };
  let low = 0;
  let high = 100;
  for (let i = 0; i < 40; i += 1) {
    const mid = (low + high) / 2;
    if (columns.every((values) => height(values, mid) <= 100)) low = mid;
    else high = mid;
  }
  const unit = low;
  return {
    unit,
    columns: columns.map((values) => {
      let top = (100 - height(values, unit)) / 2;
      return values.map((v) => {
        if (v <= 0) return null;
        const box = [top, Math.max(SLOT, v * unit)];
        top += box[1] + GAP;
        return box;
      });
    }),
  };
}

/** Where a band's middle line is at ``t`` (0 to 1) along it, as [x, y] in %: the cubic of
 * ``band`` with its control points at x = 50. */
function along(y0, y1, t) {
  const u = 1 - t;
  return [150 * u * t * (u + t) + 100 * t ** 3, (u ** 3 + 3 * u * u * t) * y0 + (3 * u * t * t + t ** 3) * y1];
}

/** Each band's count on the band, in the middle where it is free, else a little to either
 * side: bands cross in the middle, and two counts must not sit on each other. */
function placeCounts(marks) {
  const placed = [];
  return [...marks].sort((a, b) => b.count - a.count).map((m) => {
    const spots = [0.5, 0.35, 0.65, 0.22, 0.78].map((t) => along(m.y0, m.y1, t));
    const free = spots.find(([x, y]) => placed.every(([px, py]) => Math.abs(px - x) > 14 || Math.abs(py - y) > 9));
    const [x, y] = free || spots[0];
    placed.push([x, y]);
    const mark = h("span", { class: "alluvial-count" }, formatNumber(m.count));
    mark.style.left = pct(x);
    mark.style.top = pct(y);
    return mark;
  });
}

/** A band between two heights on the left (y0 to y0 + w) and two on the right. */
function band(y0, y1, w) {
  return `M 0 ${y0} C 50 ${y0} 50 ${y1} 100 ${y1} L 100 ${y1 + w} C 50 ${y1 + w} 50 ${y0 + w} 0 ${y0 + w} Z`;
}

function labels(side, boxes, values, total) {
  return h("ul", { class: ["alluvial-labels", `alluvial-labels-${side}`], "aria-hidden": "true" },
    QUADRANTS.map((q, i) => {
      if (!boxes[i]) return null;
      const item = h("li", { class: ["alluvial-label", `q-${q}`] },
        h("strong", {}, formatPercent(share(values[i], total))), " ",
        h("span", {}, t(`quadrant.${q}`)));
      item.style.top = pct(boxes[i][0] + boxes[i][1] / 2);
      return item;
    }));
}

function bars(side, boxes) {
  return h("div", { class: ["alluvial-bars", `alluvial-bars-${side}`], "aria-hidden": "true" },
    QUADRANTS.map((q, i) => {
      if (!boxes[i]) return null;
      const bar = h("span", { class: ["alluvial-bar", `q-${q}`] });
      bar.style.top = pct(boxes[i][0]);
      bar.style.height = pct(boxes[i][1]);
      return bar;
    }));
}

/** The flow diagram for a check-in shift (``shift.flows``, 16 cells, null where hidden). */
export function flowDiagram(shift, now) {
  const flows = shift.flows || [];
  const then = counts(shift.before, flows, "before");
  const after = counts(now, flows, "after");
  const { unit, columns: [left, right] } = layout([then, after]);
  const index = (q) => QUADRANTS.indexOf(q);
  // Where the next band leaves each left quadrant and enters each right one: bands stack in the
  // order of the other side's quadrants, so they do not cross inside a column.
  const out = left.map((box) => (box ? box[0] : 0));
  const into = right.map((box) => (box ? box[0] : 0));
  const ordered = [...flows].sort((a, b) => index(a.before) - index(b.before) || index(a.after) - index(b.after));
  const paths = [];
  const marks = [];
  for (const f of ordered) {
    if (!f.count) continue;
    const a = index(f.before);
    const b = index(f.after);
    const w = f.count * unit;
    paths.push(svg("path", { d: band(out[a], into[b], w), class: ["alluvial-band", `q-${f.before}`] }));
    if (w >= LABELLED) marks.push({ y0: out[a] + w / 2, y1: into[b] + w / 2, count: f.count });
    out[a] += w;
    into[b] += w;
  }
  // Hidden flows: a dashed line from what is left of the one quadrant to what is left of the
  // other, the same for every hidden flow whatever its count.
  const hidden = ordered.filter((f) => f.count === null);
  const spot = (boxes, used, i, k, n) => {
    const end = boxes[i] ? boxes[i][0] + boxes[i][1] : used[i];
    const from = Math.min(used[i], end - 1);
    return from + ((end - from) * (k + 1)) / (n + 1);
  };
  hidden.forEach((f, k) => {
    const a = index(f.before);
    const b = index(f.after);
    if (!left[a] || !right[b]) return;
    const y0 = spot(left, out, a, k, hidden.length);
    const y1 = spot(right, into, b, k, hidden.length);
    paths.push(svg("path", { d: `M 0 ${y0} C 50 ${y0} 50 ${y1} 100 ${y1}`, class: "alluvial-hidden" }));
  });
  const thenTotal = shift.before?.count || then.reduce((s, v) => s + v, 0);
  const nowTotal = now?.count || after.reduce((s, v) => s + v, 0);
  const quadrant = (q) => t(`quadrant.${q}`);
  return h("figure", { class: "shift-alluvial" },
    h("div", { class: "alluvial-heads", "aria-hidden": "true" },
      h("span", {}, t("shift.then")), h("span", {}, t("shift.now"))),
    h("div", { class: "alluvial" },
      labels("then", left, then, thenTotal),
      bars("then", left),
      h("div", { class: "alluvial-middle" },
        svg("svg", { viewBox: "0 0 100 100", preserveAspectRatio: "none", class: "alluvial-svg", "aria-hidden": "true" }, paths),
        placeCounts(marks)),
      bars("now", right),
      labels("now", right, after, nowTotal)),
    h("ul", { class: "visually-hidden", "aria-label": t("shift.flows") }, ordered.map((f) => h("li", {},
      `${quadrant(f.before)} → ${quadrant(f.after)}: `,
      f.count === null ? t("shift.hiddenCell") : t("shift.people", { count: f.count, share: formatPercent(share(f.count, shift.pairs)) })))),
    hidden.length ? h("figcaption", { class: "alluvial-key" },
      h("span", { class: "alluvial-key-line", "aria-hidden": "true" }), t("shift.hiddenCell")) : null);
}
