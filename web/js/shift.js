// Before/after shifts and assigned characters: the room's movement since an earlier step, and
// the answers per character side by side. The server sends only suppressed counts (null is
// hidden); nothing here ever sees who answered what. Used by charts.js for every view.

import { h } from "./dom.js";
import { formatNumber, formatPercent, t } from "./i18n.js";
import { QUADRANTS, resultsChart } from "./charts.js";

const share = (n, total) => (total > 0 ? n / total : 0);

/** Two 100% bars, then and now, one segment per quadrant. */
function quadrantBars(label, aggregate) {
  return h("figure", { class: "stack shift-stack" },
    h("figcaption", {}, label),
    h("div", { class: "stack-bar" }, QUADRANTS.map((q) => {
      const part = share(aggregate?.quadrants?.[q] || 0, aggregate?.count || 0);
      const seg = h("div", { class: ["stack-seg", `q-${q}`], title: t(`quadrant.${q}`) },
        part >= 0.12 ? formatPercent(part) : "");
      seg.style.flexGrow = String(part);
      return seg;
    })));
}

function checkinShift(step, results) {
  const shift = results.shift;
  const moved = shift.moved ?? null;
  const headline = moved !== null
    ? t("shift.moved", { share: formatPercent(share(moved, shift.pairs)) })
    : t("shift.movedAtLeast", { share: formatPercent(share(shift.moved_at_least || 0, shift.pairs)) });
  const flows = (shift.flows || []).filter((f) => f.before !== f.after && f.count !== 0)
    .sort((a, b) => (b.count ?? -1) - (a.count ?? -1));
  const hidden = (shift.flows || []).filter((f) => f.count === null).length;
  return h("div", { class: "chart chart-shift" },
    h("p", { class: "chart-headline" }, headline),
    h("div", { class: "shift-bars" },
      shift.before ? quadrantBars(t("shift.then"), shift.before) : null,
      quadrantBars(t("shift.now"), results.answers)),
    h("ol", { class: "shift-flows", "aria-label": t("shift.flows") },
      flows.slice(0, 5).map((f) => h("li", { class: "shift-flow" },
        h("span", { class: ["shift-q", `q-${f.before}`] }, t(`quadrant.${f.before}`)),
        h("span", { class: "shift-arrow", "aria-hidden": "true" }, "→"),
        h("span", { class: ["shift-q", `q-${f.after}`] }, t(`quadrant.${f.after}`)),
        h("strong", { class: "shift-count" }, f.count === null ? t("shift.hiddenCell")
          : `${formatNumber(f.count)} · ${formatPercent(share(f.count, shift.pairs))}`)))),
    h("p", { class: "chart-note" }, t("shift.pairs", { count: shift.pairs }),
      hidden ? ` ${t("shift.hiddenNote", { count: results.min_responses ?? 3 })}` : ""));
}

function scaleShift(step, results) {
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
      ? h("p", { class: "chart-note" }, t("shift.partsHidden"))
      : h("ul", { class: "shift-parts" }, parts.map(([key, n]) => h("li", {},
        h("strong", {}, formatPercent(share(n || 0, shift.pairs))), " ", t(`shift.${key}`)))));
}

/** The room's shift since the step this one compares with. */
export function shiftChart(step, results) {
  if (!results.answers) return null;
  return results.shift.kind === "checkin" ? checkinShift(step, results) : scaleShift(step, results);
}

/** One column per assigned character, each with its own chart (or why it is hidden). */
export function charactersChart(step, results, options = {}) {
  return h("div", { class: "chart chart-characters" },
    h("p", { class: "chart-headline" }, t("characters.headline")),
    h("ul", { class: "character-columns" }, results.characters.map((c) => h("li", { class: "character-column" },
      h("h3", { class: "character-column-name", dir: "auto" }, c.name,
        h("span", { class: "character-column-count" }, ` · ${t("text.summary", { count: c.count })}`)),
      c.answers ? resultsChart(step, { answers: c.answers },
        { ...options, fit: options.fit ? `${options.fit}:${c.id}` : undefined })
        : h("p", { class: "chart-waiting" }, t("characters.hidden", { count: options.minResponses ?? 3 }))))));
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
