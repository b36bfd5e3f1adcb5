// The projector's view of a free-text step once its answers are grouped into themes: registered
// through screen-views.js, so the projector fits it by the same layout rules as every step
// (docs/ui.md, "Layout rules"). Without themes the step keeps whatever view it had.

import { resultsChart } from "./charts.js";
import { registerScreenView, screenViews } from "./screen-views.js";
import { hasThemes, themesBoard } from "./themes.js";

const before = screenViews.get("perspective");

registerScreenView("perspective", {
  ...before,
  results: (step, results, state) => {
    if (hasThemes(results)) return themesBoard(results.answers, { fit: true });
    if (before?.results) return before.results(step, results, state);
    return resultsChart(step, results, { minResponses: state.min_responses, fit: `step-${step.index}` });
  },
});
