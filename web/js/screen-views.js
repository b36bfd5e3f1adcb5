// Projector views for step kinds that live in their own modules. A module for a new kind calls
// registerScreenView(kind, view) and is imported by screen.js; the projector then builds that
// kind's frame from it and fits it by the same rules as every built-in kind (see fit.js and
// docs/ui.md, "Layout rules").
//
// view.stage(step, state, live)      nodes for the stage while the step runs (optional)
// view.results(step, results, state) the revealed chart for the stage (optional)
// view.roomy(state)                  true when the stage needs the room (optional; default: revealed)
// view.update(state, live)           patch the stage for a `groups`/`group_counts` message (optional)

export const screenViews = new Map();

export function registerScreenView(kind, view) {
  screenViews.set(kind, view);
}
