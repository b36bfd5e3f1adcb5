// Moderation in the console: what the facilitator decides before the room sees a free-text card.
//
// The server decides what the room sees (see "Moderation" in docs/protocol.md); this only shows
// the facilitator's three piles, waiting (queued or flagged), on the projector, and hidden, and
// sends approve / hide / spotlight. A card that reads like distress comes with the guidance
// schools give and no approve button: it never goes to the room.

import { h } from "./dom.js";
import { t } from "./i18n.js";
import { resultsChart, wordCloud } from "./charts.js";

/** The moderation choice made when a session is created: the scenario's default, on or off. */
export function moderationChoice() {
  const select = h("select", { id: "session-moderation" },
    ["auto", "on", "off"].map((value) => h("option", { value }, t(`moderation.choice.${value}`))));
  const field = h("p", { class: "field field-inline" },
    h("label", { for: "session-moderation", class: "field-label" }, t("moderation.choice")), select);
  const floor = h("input", {
    id: "session-min", type: "number", min: 1, max: 1000, inputmode: "numeric",
    placeholder: "3", class: "min-input",
  });
  const minField = h("p", { class: "field field-inline" },
    h("label", { for: "session-min", class: "field-label" }, t("moderation.minResponses")), floor);
  return {
    fields: [field, minField],
    /** The options for POST /api/sessions; absent ones keep the server's defaults. */
    options() {
      const options = {};
      if (select.value !== "auto") options.moderation = select.value === "on";
      const wanted = Number.parseInt(floor.value, 10);
      if (Number.isInteger(wanted) && wanted >= 1 && wanted <= 1000) options.min_responses = wanted;
      return options;
    },
  };
}

/**
 * The facilitator's view of a free-text step's cards.
 * @param {object} step the current step view
 * @param {object|null} results the latest results for it
 * @param {object} options minResponses, and command(type, extra) to send a facilitator command
 */
export function cardsPanel(step, results, { minResponses, command }) {
  const answers = results?.answers;
  if (!answers || answers.kind !== "perspective") return resultsChart(step, results, { moderator: true, minResponses });
  const act = (type, card) => command(type, { step: step.index, card: card.id });
  const spotlit = results.spotlight?.id ?? null;
  // Distress first: it is the one card that needs the facilitator before anything else.
  const urgency = { distress: 0, abuse: 1, queue: 2 };
  const waiting = answers.cards.filter((card) => card.held && !card.hidden)
    .sort((a, b) => urgency[a.held] - urgency[b.held]);
  const room = answers.cards.filter((card) => !card.held && !card.hidden);
  const hidden = answers.cards.filter((card) => card.hidden);
  const queued = waiting.filter((card) => card.held === "queue").length;

  const waitingList = waiting.map((card) => h("li", { class: ["card", "mod-card", `mod-${card.held}`], dataset: { card: card.id } },
    h("p", { class: "mod-badge" }, t(`moderation.held.${card.held}`)),
    h("p", { class: "card-text", dir: "auto" }, card.text),
    card.held === "distress" ? distressGuidance() : null,
    h("div", { class: "mod-actions" },
      card.held === "distress" ? null : h("button", {
        type: "button", class: "button button-primary mod-approve", onclick: () => act("approve_card", card),
      }, t("moderation.approve")),
      h("button", { type: "button", class: "button mod-hide", onclick: () => act("hide_card", card) }, t("card.hide")))));

  const roomList = room.map((card) => h("li", { class: ["card", "mod-card", card.id === spotlit && "mod-spotlit"], dataset: { card: card.id } },
    h("p", { class: "card-text", dir: "auto" }, card.text),
    h("div", { class: "mod-actions" },
      h("button", {
        type: "button", class: "button mod-spotlight", "aria-pressed": String(card.id === spotlit),
        onclick: () => command("spotlight", card.id === spotlit ? { step: step.index } : { step: step.index, card: card.id }),
      }, card.id === spotlit ? t("moderation.unspotlight") : t("moderation.spotlight")),
      h("button", { type: "button", class: "button mod-hide", onclick: () => act("hide_card", card) }, t("card.hide")))));

  const hiddenList = hidden.map((card) => h("li", { class: "card card-hidden mod-card mod-hidden", dataset: { card: card.id } },
    card.held === "distress" ? h("p", { class: "mod-badge" }, t("moderation.held.distress")) : null,
    h("p", { class: "card-text", dir: "auto" }, card.text),
    h("div", { class: "mod-actions" },
      h("button", { type: "button", class: "button mod-restore", onclick: () => act("restore_card", card) }, t("card.restore")))));

  return h("div", { class: "chart moderation" },
    h("section", { class: "mod-pile mod-waiting", "aria-labelledby": "mod-waiting-title" },
      h("div", { class: "mod-head" },
        h("h3", { id: "mod-waiting-title" }, t("moderation.waiting", { count: waiting.length })),
        queued ? h("button", {
          type: "button", class: "button button-primary mod-approve-all",
          onclick: () => command("approve_all", { step: step.index }),
        }, t("moderation.approveAll", { count: queued })) : null),
      waiting.length ? h("ul", { class: "mod-cards" }, waitingList) : h("p", { class: "hint" }, t("moderation.nothingWaiting"))),
    h("section", { class: "mod-pile mod-room", "aria-labelledby": "mod-room-title" },
      h("h3", { id: "mod-room-title" }, t("moderation.room", { count: room.length })),
      wordCloud(answers.words),
      room.length ? h("ul", { class: "mod-cards" }, roomList) : null),
    hidden.length ? h("details", { class: "mod-pile mod-hidden-pile" },
      h("summary", {}, t("moderation.hidden", { count: hidden.length })),
      h("ul", { class: "mod-cards" }, hiddenList)) : null);
}

function distressGuidance() {
  return h("div", { class: "mod-care", role: "note" },
    h("p", {}, h("strong", {}, t("moderation.care.title"))),
    h("p", {}, t("moderation.care.do")),
    h("p", {}, t("moderation.care.phone")));
}
