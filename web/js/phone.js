// The console's "On phones" preview, built from the components the phone page itself uses:
// steps.js for the question (always above the answer) and inputs.js for the answer, shown
// inert. So the preview shows what phones show, and cannot drift from it. A step with a guess
// shows both of the phone's screens, the answer and then "Now guess the room".

import { h } from "./dom.js";
import { t } from "./i18n.js";
import { answerInput } from "./inputs.js";
import { ANSWERABLE, stepContent } from "./steps.js";

export function phonePreview(step) {
  const parts = stepContent(step, { heading: false, level: "h3" });
  if (ANSWERABLE.has(step.kind)) {
    const input = answerInput(step, () => {});
    input.disable(true);
    parts.push(input.element);
  } else if (step.kind === "reflect") {
    parts.push(h("p", { class: "field-label" }, t("reflect.label")),
      h("p", { class: "private-note" }, t("reflect.private")));
  }
  return h("div", { class: "phone-preview", inert: true }, parts);
}
