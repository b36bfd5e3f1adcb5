// Before/after shifts and assigned characters: the room's movement since an earlier step, and
// the answers per character side by side. The server sends only suppressed counts (null is
// hidden); nothing here ever sees who answered what. Used by charts.js for every view.

import { h } from "./dom.js";
import { formatNumber, formatPercent, t } from "./i18n.js";
import { QUADRANTS, quadrantLegend, quadrantStack, resultsChart } from "./charts.js";
import { flowDiagram } from "./shift-flows.js";
import { themesBoard } from "./themes.js";

const share = (n, total) => (total > 0 ? n / total : 0);

function checkinShift(step, results, options) {
  const shift = results.shift;
  const pairs = shift.pairs;
  const flows = shift.flows || [];
  let headline;
  if (shift.moved !== undefined && shift.moved !== null) {
    headline = t("shift.moved", { moved: formatNumber(shift.moved), pairs: formatNumber(pairs), share: formatPercent(share(shift.moved, pairs)) });
  } else if (!flows.length) {
    headline = t("shift.waiting", { count: options.minResponses ?? 3 });
  } else if (shift.moved_at_least) {
    headline = t("shift.movedAtLeast", { moved: formatNumber(shift.moved_at_least), pairs: formatNumber(pairs), share: formatPercent(share(shift.moved_at_least, pairs)) });
  } else {
    headline = t("shift.mostlyHidden");
  }
  const hidden = flows.some((f) => f.count === null);
  // Until enough people answered both there are no flows: the two steps' own results, as bars.
  // On a phone the diagram's labels keep only their shares, and the colour key names them.
  const body = flows.length
    ? [flowDiagram(shift, results.answers), h("div", { class: "alluvial-legend" }, quadrantLegend())]
    : h("div", { class: "shift-bars" },
      shift.before ? quadrantStack(t("shift.then"), shift.before) : null,
      quadrantStack(t("shift.now"), results.answers), quadrantLegend());
  return h("div", { class: "chart chart-shift chart-shift-checkin" },
    h("p", { class: "chart-headline" }, headline),
    body,
    h("p", { class: "chart-note" }, sentences(t("shift.pairs", { count: pairs }),
      hidden ? t("shift.hiddenNote", { count: options.minResponses ?? 3 }) : "")));
}

/** Sentences run on as their language writes them: a space after ".", none after "。". */
function sentences(...parts) {
  return parts.filter(Boolean).reduce((text, part) => (/[。！？]$/u.test(text) ? text + part : `${text} ${part}`), "").trimStart();
}

function scaleShift(step, results, options) {
  const shift = results.shift;
  const change = shift.mean_change;
  const parts = [["down", shift.down], ["same", shift.same], ["up", shift.up]];
  return h("div", { class: "chart chart-shift" },
    h("p", { class: "chart-headline" }, change === undefined || change === null
      ? t("shift.pairs", { count: shift.pairs })
      : t("shift.meanChange", {
        before: formatNumber(shift.before?.mean ?? 0), after: formatNumber(results.answers.mean),
        change: `${change > 0 ? "+" : ""}${formatNumber(change)}`,
      })),
    h("div", { class: "shift-scales" },
      shift.before ? h("figure", { class: "shift-then" }, h("figcaption", {}, t("shift.then")),
        resultsChart(step, { answers: shift.before })) : null,
      h("figure", { class: "shift-now" }, h("figcaption", {}, t("shift.now")),
        resultsChart(step, { answers: results.answers, guesses: results.guesses }))),
    shift.down === undefined && shift.same === undefined
      ? h("p", { class: "chart-note" }, shift.pairs < (options.minResponses ?? 3)
        ? t("shift.waiting", { count: options.minResponses ?? 3 })
        : t("shift.partsHidden", { count: options.minResponses ?? 3 }))
      : h("ul", { class: "shift-parts" }, parts.map(([key, n]) => h("li", {},
        h("strong", {}, formatPercent(share(n || 0, shift.pairs))), " ", t(`shift.${key}`)))));
}

/** The room's shift since the step this one compares with. */
export function shiftChart(step, results, options = {}) {
  return results.shift.kind === "checkin" ? checkinShift(step, results, options) : scaleShift(step, results, options);
}

/** A character's check-in, small enough for a column: the four quadrants as a 2x2 grid with
 * their shares, and the words named most. */
function characterCheckin(step, answers) {
  const labels = new Map((step?.words || []).map((w) => [w.id, w.label]));
  const top = Object.entries(answers.words).sort((a, b) => b[1] - a[1]).slice(0, 3);
  return h("div", { class: "chart character-checkin" },
    h("ul", { class: "quadrant-grid", "aria-label": t("checkin.felt") }, QUADRANTS.map((q) => {
      const n = answers.quadrants[q] || 0;
      return h("li", { class: ["quadrant-cell", `q-${q}`, n > 0 && "quadrant-cell-filled"] },
        h("strong", {}, formatPercent(share(n, answers.count))),
        h("span", { class: "quadrant-cell-name" }, t(`quadrant.${q}`)));
    })),
    h("ul", { class: "character-words", "aria-label": t("checkin.words") }, top.map(([id, n]) =>
      h("li", {}, h("span", { dir: "auto" }, labels.get(id) || id), " ",
        h("span", { class: "emotion-count" }, formatNumber(n))))));
}

/** One column per assigned character, each with its own chart (or why it is hidden). */
export function charactersChart(step, results, options = {}) {
  // On the projector the columns of answers grow into the stage when they leave it room (the
  // check-in's quadrants already take the column's height).
  const grows = options.fit && !results.characters.some((c) => c.answers?.kind === "checkin");
  return h("div", { class: ["chart", "chart-characters", grows && "fit-grow"], dataset: { grow: "1.5" } },
    h("p", { class: "chart-headline" }, t("characters.headline")),
    h("ul", { class: "character-columns" }, results.characters.map((c) => {
      let body;
      if (!c.answers) {
        body = h("p", { class: "chart-waiting" }, t("characters.hidden", { count: options.minResponses ?? 3 }));
      } else if (c.answers.kind === "checkin") {
        body = characterCheckin(step, c.answers);
      } else if (c.answers.themes && (options.fit || options.report)) {
        // Each character's answers grouped apart: on the projector up to six answers per theme,
        // as many as fit the column; in the report all of them. Phones keep the cards.
        body = themesBoard(c.answers, options.fit ? { fit: true, samples: 6 } : { all: true });
      } else {
        body = resultsChart(step, { answers: c.answers },
          { ...options, fit: options.fit ? `${options.fit}:${c.id}` : undefined });
      }
      return h("li", { class: "character-column" },
        h("h3", { class: "character-column-name", dir: "auto" }, c.name,
          h("span", { class: "character-column-count" }, ` · ${t("text.summary", { count: c.count })}`)),
        body);
    })));
}

/** The phone's private line: who you answer as. */
export function assignedNote(character) {
  return h("div", { class: "assigned" },
    h("p", { class: "assigned-title", dir: "auto" }, t("characters.youAre", { name: character.name })),
    character.description ? h("p", { class: "assigned-about", dir: "auto" }, character.description) : null,
    h("p", { class: "hint" }, t("characters.private")));
}

/** The phone's private line on reveal: your own before and after. */
export function ownShiftNote(step, own) {
  let text;
  if (own.before_quadrant) {
    const label = (word) => step.words?.find((w) => w.id === word)?.label ?? word;
    text = t(own.moved ? "shift.ownMoved" : "shift.ownStayed", {
      before: label(own.before.word), after: label(own.after.word),
      from: t(`quadrant.${own.before_quadrant}`), to: t(`quadrant.${own.after_quadrant}`),
    });
  } else {
    text = t("shift.ownScale", { before: formatNumber(own.before.value), after: formatNumber(own.after.value) });
  }
  return h("div", { class: "feedback own-shift" },
    h("p", { class: "feedback-title" }, t("shift.ownTitle")), h("p", { dir: "auto" }, text));
}
