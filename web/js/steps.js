// The content of a step as everyone reads it: title, story text, characters and prompt.
// Shared by the phone, the console and the projector; all text goes in as text nodes.

import { h, markdown } from "./dom.js";
import { t } from "./i18n.js";

export const ANSWERABLE = new Set(["checkin", "scale", "choice", "perspective"]);

export function stepHeading(step, level = "h2") {
  // Without a title the prompt is the heading, and so the question.
  const question = !step.title && step.prompt;
  return h(level, { class: ["step-title", question && "step-question"], tabindex: "-1", dir: "auto" },
    step.title || step.prompt || t(`kind.${step.kind}`));
}

/** Title, story text and prompt, the question (`.step-question`) always above any answer: the
 * heading is the prompt itself when a step has no title. `heading` false leaves the title out
 * (already shown); `prompt` false leaves the prompt out. */
export function stepContent(step, { heading = true, level = "h2", prompt = true } = {}) {
  const parts = [];
  if (heading) parts.push(stepHeading(step, level));
  if (step.kind === "story") {
    if (step.image) parts.push(h("img", { class: "story-image", src: step.image, alt: "" }));
    parts.push(h("div", { class: "story-text" }, markdown(step.text)));
    if (step.characters?.length) {
      parts.push(h("ul", { class: "characters", "aria-label": t("story.characters") },
        step.characters.map((c) => h("li", { class: "character" },
          h("span", { class: "character-name", dir: "auto" }, c.name),
          c.description ? h("span", { class: "character-about", dir: "auto" }, c.description) : null))));
    }
  }
  if (step.kind === "perspective" && step.character) {
    parts.push(h("p", { class: "step-character" }, t("perspective.as", { name: step.character })));
  }
  if (prompt && step.prompt && step.prompt !== step.title && (step.title || !heading)) {
    parts.push(h("p", { class: "step-prompt step-question", dir: "auto" }, step.prompt));
  }
  return parts;
}
