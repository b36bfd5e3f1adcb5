// The editor's live preview: one step as a phone shows it and as the projector shows it, built
// from the same components the live pages use (steps.js, inputs.js, pacer.js) and from the step
// as the server renders it for phones (the check endpoint's `views`), so what you see here is
// what the room will see. Nothing here is sent anywhere; inputs are inert.

import { h } from "../dom.js";
import { t } from "../i18n.js";
import { answerInput } from "../inputs.js";
import { breathingPacer, countdown } from "../pacer.js";
import { ANSWERABLE, stepContent } from "../steps.js";
import { stepFrame } from "../fit.js";
import { screenViews } from "../screen-views.js";

function progress(view, total) {
  return h("p", { class: "progress" }, t("common.stepOf", { n: view.index + 1, total }));
}

/** The step on a phone, as join.js builds it (answer input included, buttons inert). */
export function phonePreview(view, total) {
  const section = h("section", { class: ["step", `step-${view.kind}`] }, progress(view, total),
    stepContent(view, { level: "h1" }));  // the question above the answer, as on phones
  const started = Date.now();
  if (view.kind === "breathe" && view.pacer) section.append(breathingPacer(view.pacer, started, Date.now));
  else if (view.kind === "timer" && view.seconds) section.append(countdown(view.seconds, started, Date.now));
  else if (view.kind === "reflect") {
    section.append(h("div", { class: "reflect" },
      h("p", { class: "field-label" }, t("reflect.label")),
      h("div", { class: "textbox preview-textbox", "aria-hidden": "true" }),
      h("p", { class: "private-note" }, t("reflect.private"))));
  } else if (ANSWERABLE.has(view.kind)) {
    const input = answerInput(view, () => {});
    if (input) {
      section.append(h("div", { class: "answer-form" }, input.element,
        h("div", { class: "actions" },
          h("span", { class: "button button-primary", "aria-hidden": "true" }, t("answer.send")),
          h("span", { class: "button button-quiet", "aria-hidden": "true" }, t("answer.pass")))));
    }
  }
  return h("div", { class: "preview-phone", role: "img", "aria-label": t("editor.previewPhone") },
    h("div", { class: "preview-phone-screen", inert: true }, section));
}

/** The step on the projector while people answer, as screen.js builds it: the same frame (head
 * over stage, fit.js). The frame page (screen-preview.js) puts it in a real projector page. */
export function projectorFrame(view, total) {
  const content = stepContent(view, { level: "h1" });
  const inHead = (node) => node.matches?.(".step-title, .step-prompt, .step-character");
  const stage = [...content.filter((node) => !inHead(node))];
  const started = Date.now();
  const custom = screenViews.get(view.kind);
  if (custom?.stage) stage.push(custom.stage(view, { started_at: started, revealed: false }, { now: Date.now }));
  if (view.kind === "breathe" && view.pacer) stage.push(breathingPacer(view.pacer, started, Date.now));
  if (view.kind === "timer" && view.seconds) stage.push(countdown(view.seconds, started, Date.now));
  if (view.kind === "reflect") stage.push(h("p", { class: "screen-hint" }, t("screen.reflect")));
  if (view.kind === "choice") {
    stage.push(h("ol", { class: ["screen-options", view.options.length > 4 && "screen-options-many"] },
      view.options.map((o) => h("li", { dir: "auto" }, o.label))));
  }
  if (ANSWERABLE.has(view.kind)) stage.push(h("div", { class: "screen-results" }, h("p", { class: "screen-hint" }, t("screen.answerNow"))));
  return stepFrame({
    kind: view.kind,
    head: [progress(view, total), ...content.filter(inHead)],
    stage,
  });
}

/** The projector's real size in CSS pixels: the preview is that page, scaled to its column. */
export const PROJECTOR = { width: 1280, height: 720 };

/**
 * The projector preview: a frame holding the real projector page (/screen/preview.html) at
 * 1280 x 720, so its type (2.6% of the height), its grid and join strip and its media queries
 * are the projector's own, scaled down to the column as a picture is. One frame for the page's
 * life, loaded when the first step is shown: `show(view, total)` posts each step to it (moving
 * or rebuilding a frame reloads it).
 */
export function projectorPreview() {
  const frame = h("iframe", {
    class: "preview-projector-frame", tabindex: "-1",
    title: t("editor.previewProjector"), width: PROJECTOR.width, height: PROJECTOR.height,
  });
  const element = h("div", { class: "preview-projector", role: "img", "aria-label": t("editor.previewProjector") },
    h("div", { class: "preview-projector-screen", inert: true }, frame));
  let latest = null;
  let ready = false;
  const post = () => {
    if (ready && latest) frame.contentWindow.postMessage(latest, location.origin);
  };
  window.addEventListener("message", (event) => {
    if (event.source !== frame.contentWindow || event.origin !== location.origin) return;
    if (event.data?.type === "preview-ready") {
      ready = true;
      post();
    }
  });
  return {
    element,
    show(view, total) {
      latest = { type: "preview-step", view, total };
      if (!frame.getAttribute("src")) frame.src = "/screen/preview.html";
      post();
    },
  };
}
