// What a participant whose card reads like distress sees, on their phone only: the server holds
// the card back from the room and puts where help is in that participant's ack (see
// "Moderation" in docs/protocol.md). Nobody else is told, and nobody learns who wrote it.

import { h } from "./dom.js";
import { t } from "./i18n.js";

export function careNotice(help) {
  return h("aside", { class: "care", role: "note", "aria-labelledby": "care-title" },
    h("p", { class: "care-title", id: "care-title" }, t("care.title")),
    h("p", { class: "care-help", dir: "auto" }, help),
    h("p", { class: "care-private" }, t("care.note")));
}
