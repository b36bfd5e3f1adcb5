// The projector's spotlight: one approved card, full-screen, over whatever the step shows, for as
// long as the facilitator keeps it there. The server sends it only once approved and clears it
// on the next step or when the card is hidden, so this just follows `results.spotlight`.

import { h } from "./dom.js";
import { t } from "./i18n.js";

let shown = null;

/** Show, replace or remove the spotlight overlay for the projector's current state. */
export function showSpotlight(state) {
  const card = state.status === "running" ? state.results?.spotlight ?? null : null;
  const key = card ? `${card.id}:${card.text}` : null;
  if (key === shown) return;
  shown = key;
  document.getElementById("spotlight")?.remove();
  if (!card) return;
  document.body.append(h("div", { id: "spotlight", class: "spotlight", role: "dialog", "aria-label": t("spotlight.label") },
    h("blockquote", { class: "spotlight-card" }, h("p", { class: "spotlight-text", dir: "auto" }, card.text))));
}
