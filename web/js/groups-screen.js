// The projector's view of a groups step, registered through screen-views.js so it follows the
// layout rules (docs/ui.md): the round, the time left and the number of groups large enough for
// the back of the room, and a quiet grid of groups (colour, number, word), paged when there are
// many. No names and no sizes: the room sees which groups exist, each phone sees its own.

import { fill, h } from "./dom.js";
import { formatNumber, t } from "./i18n.js";
import { resultsChart } from "./charts.js";
import { registerScreenView } from "./screen-views.js";
import { groupNumbers, groupTile, roundTimer } from "./groups.js";
import { checklistTotals } from "./groups-totals.js";

let box = null;
let shownKey = "";

function draw(state, live) {
  if (!box) return;
  const groups = state.groups;
  const tally = state.group_counts?.step === state.step?.index ? state.group_counts : null;
  const phase = groups?.phase ?? "gathering";
  const numbers = groupNumbers(groups);
  const key = JSON.stringify([phase, groups?.round, numbers, tally?.ready, tally?.waiting, tally?.alone,
    phase === "debrief" ? [tally?.ticked, tally?.checklist] : null]);
  if (key === shownKey) return;
  shownKey = key;
  box.dataset.phase = phase;
  // Gathering and an unrevealed debrief have the stage to themselves: they grow into it.
  box.classList.toggle("fit-grow", phase === "gathering" || (phase === "debrief" && !state.revealed));
  const results = document.getElementById("screen-results");
  if (results) results.hidden = phase !== "debrief";
  if (phase === "gathering") {
    fill(box, h("div", { class: "groups-gather" },
      h("p", { class: "groups-big" }, formatNumber(tally?.ready ?? 0)),
      h("p", { class: "groups-big-label" }, t("groups.screen.ready", { count: tally?.ready ?? 0 })),
      h("p", { class: "screen-hint" }, t("groups.screen.tapReady"))));
    return;
  }
  if (phase === "debrief") {
    // The observers' totals first: what the groups noticed, then the room's answer to the debrief.
    fill(box, checklistTotals(tally, { minResponses: state.min_responses }),
      state.step?.debrief?.prompt
        ? h("p", { class: "groups-debrief", dir: "auto" }, state.step.debrief.prompt) : null);
    return;
  }
  fill(box,
    h("div", { class: "groups-status" },
      h("p", { class: "groups-round" }, t("groups.round", { n: formatNumber(groups.round + 1), total: formatNumber(groups.rounds) })),
      roundTimer(() => live.state.groups, () => live.now()),
      h("p", { class: "groups-count" }, t("groups.screen.groups", { count: numbers.length }),
        tally?.waiting || tally?.alone
          ? ` · ${t("groups.screen.waiting", { count: (tally.waiting || 0) + (tally.alone || 0) })}` : "")),
    h("ol", { class: ["groups-grid", "fit-pages", "fit-grow", `groups-grid-${numbers.length <= 8 ? "few" : numbers.length <= 24 ? "some" : "many"}`], dataset: { pager: `groups-${state.step.index}`, grow: "3" },
      "aria-label": t("groups.screen.gridLabel") }, numbers.map((n) => groupTile(n))));
}

registerScreenView("groups", {
  stage: (step, state, live) => {
    box = h("div", { class: "groups-screen" });
    shownKey = "";
    draw(state, live);
    return box;
  },
  update: draw,
  results: (step, results, state) =>
    resultsChart(step.debrief, results, { minResponses: state.min_responses, fit: `step-${step.index}` }),
  roomy: (state) => state.revealed || state.groups?.phase === "grouped",
});
