// Charts of a step's aggregate, built as HTML and SVG-free DOM so that text stays crisp on a
// projector, wraps in any language, prints cleanly and is read by screen readers. Used by the
// console (live), the projector (revealed), phones (revealed) and the printable report.

import { h } from "./dom.js";
import { formatList, formatNumber, formatPercent, t } from "./i18n.js";
import { charactersChart, shiftChart } from "./shift.js";

export const QUADRANTS = ["high-unpleasant", "high-pleasant", "low-unpleasant", "low-pleasant"];

export function quadrantOf(word) {
  return `${word.e > 0 ? "high" : "low"}-${word.p > 0 ? "pleasant" : "unpleasant"}`;
}

const share = (n, total) => (total > 0 ? n / total : 0);

/**
 * The chart for `results` ({count, passes, answers, guesses}) of `step` (a StepView, for labels).
 * options.moderator adds hide/restore buttons to free-text cards (options.onCard(card, hide)).
 */
export function resultsChart(step, results, options = {}) {
  if (results?.shift && results.answers) return shiftChart(step, results, options);
  if (results?.characters?.length) return charactersChart(step, results, options);
  const answers = results?.answers;
  if (!answers) {
    const needed = options.minResponses ?? 3;
    return h("p", { class: "chart-waiting" }, t("results.waiting", { count: needed }));
  }
  switch (answers.kind) {
    case "checkin": return checkinChart(step, answers, results.guesses, options);
    case "scale": return scaleChart(step, answers, results.guesses);
    case "choice": return choiceChart(step, answers, results.guesses);
    case "perspective": return textChart(answers, options);
    default: return h("p", {}, t("results.none"));
  }
}

// --- check-in: the emotion grid -----------------------------------------------------------------

function wordTable(step) {
  const table = new Map();
  for (const word of step?.words || []) table.set(word.id, word);
  return table;
}

export function checkinChart(step, answers, guesses, options = {}) {
  const words = wordTable(step);
  const max = Math.max(1, ...answers.grid.flat());
  const cells = [];
  answers.grid.forEach((row, r) => row.forEach((n, c) => {
    const quadrant = `${r < 5 ? "high" : "low"}-${c < 5 ? "unpleasant" : "pleasant"}`;
    const cell = h("div", { class: ["heat-cell", `q-${quadrant}`, n > 0 && "heat-filled"] },
      n > 0 ? h("span", {}, formatNumber(n)) : null);
    if (n > 0) cell.style.setProperty("--heat", (0.25 + 0.75 * (n / max)).toFixed(3));
    cells.push(cell);
  }));
  const summary = quadrantHeadline(answers);
  // Ten equal rows and columns; the axes cross on the quadrant boundaries (the grid's middle),
  // and every axis label is set horizontally, so it reads upright in every script.
  const grid = h("div", { class: "heatmap", role: "img", "aria-label": summary },
    h("span", { class: "axis axis-top" }, t("axis.high")),
    h("span", { class: "axis axis-bottom" }, t("axis.low")),
    h("span", { class: "axis axis-left" }, t("axis.unpleasant")),
    h("span", { class: "axis axis-right" }, t("axis.pleasant")),
    h("div", { class: "heat-grid" }, cells));

  const ranked = Object.entries(answers.words).sort((a, b) => b[1] - a[1]);
  const cloud = h("ul", { class: ["emotion-cloud", options.fit && "fit-fill"], "aria-label": t("checkin.words") },
    ranked.map(([id, n]) => {
      const word = words.get(id);
      const item = h("li", { class: ["emotion-word", word && `q-${quadrantOf(word)}`] },
        h("span", { dir: "auto" }, word ? word.label : id), " ",
        h("span", { class: "emotion-count" }, formatNumber(n)));
      item.style.fontSize = `${(1 + 1.1 * Math.sqrt(n / Math.max(1, answers.count))).toFixed(2)}em`;
      return item;
    }));

  const quadrantBars = quadrantStack(t("checkin.felt"), answers);
  const guessBars = guesses ? quadrantStack(t("checkin.guessed"), guesses) : null;
  return h("div", { class: "chart chart-checkin" },
    h("p", { class: "chart-headline" }, summary),
    h("div", { class: "checkin-layout" }, grid,
      // On the projector the side grows into the height the heat map leaves under it.
      h("div", { class: ["checkin-side", options.fit && "fit-grow"], dataset: { grow: "1.6" } },
        cloud, quadrantBars, guessBars, quadrantLegend(),
        guesses ? h("p", { class: "chart-note" }, t("checkin.guessNote")) : null)));
}

/**
 * The headline of a check-in: "Most of the room" only for a real majority, "The largest group"
 * for a plurality, and a tie said as a tie.
 */
export function quadrantHeadline(aggregate) {
  const counts = QUADRANTS.map((q) => aggregate.quadrants[q] || 0);
  const best = Math.max(...counts);
  const top = QUADRANTS.filter((q, i) => counts[i] === best);
  const percent = formatPercent(share(best, aggregate.count));
  if (top.length > 1) {
    return t("checkin.tie", { quadrants: formatList(top.map((q) => t(`quadrant.${q}`))), share: percent });
  }
  const key = best * 2 > aggregate.count ? "checkin.summary" : "checkin.largest";
  return t(key, { quadrant: t(`quadrant.${top[0]}`), share: percent });
}

/** Segments narrower than this carry their label under the bar instead of inside it. */
const NARROW = 0.12;

/** A 100% bar of the four quadrants, every segment labelled (narrow ones under the bar). */
export function quadrantStack(label, aggregate) {
  const total = aggregate.count;
  const outside = [];
  let start = 0;
  const segments = QUADRANTS.map((q) => {
    const part = share(aggregate.quadrants?.[q] || 0, total);
    const seg = h("div", { class: ["stack-seg", `q-${q}`], title: t(`quadrant.${q}`) },
      part >= NARROW ? formatPercent(part) : "");
    seg.style.flexGrow = String(part);
    if (part > 0 && part < NARROW) {
      // Under its segment; consecutive narrow labels take turns on two rows so they never overlap.
      const middle = start + part / 2;
      const mark = h("span", {
        class: ["stack-out", `q-${q}`, outside.length % 2 && "stack-out-low",
          middle < 0.06 && "stack-out-start", middle > 0.94 && "stack-out-end"],
      }, formatPercent(part));
      mark.style.left = `${((middle < 0.06 ? start : middle > 0.94 ? start + part : middle) * 100).toFixed(2)}%`;
      outside.push(mark);
    }
    start += part;
    return seg;
  });
  return h("figure", { class: "stack" },
    h("figcaption", {}, label),
    h("div", { class: "stack-bar" }, segments),
    outside.length ? h("div", { class: ["stack-outside", outside.length > 1 && "stack-outside-two"], "aria-hidden": "true" }, outside) : null,
    h("ul", { class: "visually-hidden" }, QUADRANTS.map((q) => h("li", {},
      `${t(`quadrant.${q}`)}: ${formatPercent(share(aggregate.quadrants?.[q] || 0, total))}`))));
}

/** The four-colour key for the grid, shared by the chart and the phone's picker. */
export function quadrantLegend() {
  return h("ul", { class: "legend" }, QUADRANTS.map((q) =>
    h("li", { class: `q-${q}` }, h("span", { class: "swatch", "aria-hidden": "true" }), t(`quadrant.${q}`))));
}

// --- scale: a histogram, and guesses beside reality -------------------------------------------

export function scaleChart(step, answers, guesses) {
  const max = Math.max(1, ...answers.histogram);
  const many = answers.histogram.length > 12;
  const columns = answers.histogram.length;
  const bars = answers.histogram.map((n, i) => {
    const value = answers.min + i;
    const bar = h("div", { class: "hist-bar" });
    bar.style.height = `${(100 * n) / max}%`;
    return h("li", { class: "hist-col" },
      h("span", { class: "hist-count" }, !many || n === max ? formatNumber(n) : ""),
      h("div", { class: "hist-track" }, bar),
      h("span", { class: "hist-value" }, !many || i % 10 === 0 ? formatNumber(value) : ""),
      h("span", { class: "visually-hidden" }, t("scale.valueCount", { value, count: n })));
  });
  // Averages as lines across the bars: the room's, and beside it the room's guess.
  const line = (cls, mean, label) => {
    const marker = h("div", { class: ["mean-line", cls], "aria-hidden": "true" }, h("span", {}, label));
    marker.style.left = `${(100 * (mean - answers.min + 0.5)) / columns}%`;
    return marker;
  };
  const headline = t("scale.summary", { mean: answers.mean, median: answers.median });
  return h("div", { class: "chart chart-scale" },
    h("p", { class: "chart-headline" }, headline),
    guesses ? h("p", { class: "visually-hidden" }, t("scale.realMean", { mean: answers.mean }), " ",
      t("scale.guessMean", { mean: guesses.mean })) : null,
    h("div", { class: "histogram-box" },
      h("ol", { class: ["histogram", many && "histogram-dense"], "aria-label": headline }, bars),
      line("mean-real", answers.mean, `${t("scale.average")} ${formatNumber(answers.mean)}`),
      guesses ? line("mean-guess", guesses.mean, `${t("scale.guessed")} ${formatNumber(guesses.mean)}`) : null),
    h("div", { class: "hist-labels" },
      h("span", { dir: "auto" }, step?.min_label || ""), h("span", { dir: "auto" }, step?.max_label || "")));
}

// --- choice: horizontal bars, guesses as a thin bar under each ---------------------------------

export function choiceChart(step, answers, guesses) {
  const labels = new Map((step?.options || []).map((o) => [o.id, o.label]));
  const total = answers.count;
  const best = Math.max(...Object.values(answers.options));
  const rows = Object.entries(answers.options).map(([id, n]) => {
    const part = share(n, total);
    const bar = h("div", { class: "bar-fill" });
    bar.style.width = `${part * 100}%`;
    let guessBar = null;
    if (guesses) {
      const g = share(guesses.options[id] || 0, guesses.count);
      const fill = h("div", { class: "bar-fill bar-guess" });
      fill.style.width = `${g * 100}%`;
      guessBar = h("div", { class: "bar-guess-row" },
        h("div", { class: "bar-track bar-track-thin" }, fill),
        h("span", { class: "bar-number bar-number-guess" }, t("choice.guessedBy", { share: formatPercent(g) })));
    }
    return h("li", { class: ["bar-row", n === best && n > 0 && "bar-top"] },
      h("div", { class: "bar-label", dir: "auto" }, labels.get(id) || id),
      h("div", { class: "bar-main" },
        h("div", { class: "bar-track" }, bar),
        h("span", { class: "bar-number" }, `${formatPercent(part)} · ${formatNumber(n)}`)),
      guessBar);
  });
  return h("div", { class: "chart chart-choice" },
    h("div", { class: "chart-top" },
      h("p", { class: "chart-headline" }, t("choice.summary", { count: total })),
      guesses ? h("p", { class: "chart-key" },
        h("span", { class: "key key-real" }, t("choice.keyReal")),
        h("span", { class: "key key-guess" }, t("choice.keyGuess"))) : null),
    h("ol", { class: ["bars", rows.length > 6 && "bars-many"] }, rows));
}

// --- free text: word cloud and cards ------------------------------------------------------------

function spread(word) {
  let hash = 7;
  for (const ch of word) hash = (hash * 31 + ch.codePointAt(0)) % 1000003;
  return hash;
}

/** Word sizes in em: one answer among many at the smallest, a word every answer uses at the largest. */
const CLOUD_MIN = 0.9;
const CLOUD_MAX = 2.6;

/**
 * The words of free-text answers, `pairs` [word, answers using it] most frequent first, out of
 * `count` answers. The size follows the share of answers (area with the square root), so a few
 * answers do not make a wall of giant words. The list stays in frequency order, so a box that
 * keeps only what fits (`fit-fill`) drops the rarest; the eye sees them mixed through CSS order.
 */
export function wordCloud(pairs, count, { fit = false } = {}) {
  if (!pairs.length) return null;
  return h("ul", { class: ["word-cloud", fit && "fit-fill"], "aria-label": t("text.cloud") },
    pairs.map(([word, n]) => {
      const li = h("li", { class: `cloud-${spread(word) % 4}`, dir: "auto" }, word);
      const size = CLOUD_MIN + (CLOUD_MAX - CLOUD_MIN) * Math.sqrt(Math.min(1, n / Math.max(1, count)));
      // A long word is set smaller rather than broken: about 30 em of line for the widest.
      li.style.fontSize = `${Math.max(0.8, Math.min(size, 30 / [...word].length)).toFixed(2)}em`;
      li.style.order = String(spread(word) % 997);
      li.title = t("text.times", { count: n });
      return li;
    }));
}

export function textChart(answers, options = {}) {
  const cards = answers.cards.map((card) => h("li", { class: ["card", card.hidden && "card-hidden"], dataset: { card: card.id } },
    h("p", { class: "card-text", dir: "auto" }, card.text),
    options.moderator
      ? h("button", {
        type: "button", class: "button button-small",
        "aria-label": card.hidden ? t("card.restoreLabel") : t("card.hideLabel"),
        onclick: () => options.onCard?.(card, !card.hidden),
      }, card.hidden ? t("card.restore") : t("card.hide"))
      : null));
  // A phone shows the first few cards and folds the rest away: a room of 300 is not a page to
  // scroll past to reach the next question, but anyone who wants to read them all can.
  const preview = options.preview ?? Infinity;
  const list = (items) => h("ul", {
    class: ["cards", options.fit && "fit-pages"], "aria-label": t("text.cards"),
    dataset: options.fit ? { pager: `${options.fit}:cards` } : {},
  }, items);
  return h("div", { class: "chart chart-text" },
    options.moderator ? null : h("p", { class: "chart-headline" }, t("text.summary", { count: answers.count })),
    wordCloud(answers.words, answers.count, { fit: Boolean(options.fit) }),
    list(cards.slice(0, preview)),
    cards.length > preview
      ? h("details", { class: "cards-more" },
        h("summary", { class: "button button-wide" }, t("text.more", { count: cards.length - preview })),
        list(cards.slice(preview)))
      : null);
}
