// Themes of a free-text step: the room's answers grouped by meaning on the server (see
// docs/themes.md). The projector and the report show a few large labelled groups with their counts
// and two or three of their most typical answers; the console renames, merges and splits themes and
// moves cards between them. Everything here reads `answers.themes` from the step's results
// (theme ids with card ids, most central first) and finds the texts in `answers.cards`.

import { h } from "./dom.js";
import { formatNumber, t } from "./i18n.js";

export const OTHER = "other";

/** Themes whose answers the facilitator has unfolded on the console. */
const opened = new Set();

/** True when these results carry themes (the facilitator grouped the answers). */
export function hasThemes(results) {
  return Boolean(results?.answers?.themes);
}

function textsOf(answers) {
  const texts = new Map();
  for (const card of answers.cards) texts.set(card.id, card);
  return texts;
}

/**
 * The projector's (and report's) view: one tile per theme, largest first, then "other", each with
 * its count and its most central answers. On the projector (`options.fit`) each tile offers three
 * (or `options.samples`) and the layout rules keep as many as fit (`fit-fill`); the report
 * (`options.all`) lists them all.
 */
export function themesBoard(answers, options = {}) {
  const { themes, other = [] } = answers.themes;
  const texts = textsOf(answers);
  const shown = themes.filter((theme) => !theme.folded).slice(0, 8);
  const tiles = shown.length + (other.length ? 1 : 0);
  const samples = options.all ? Infinity : options.samples ?? 3;
  const tile = (label, cards, extra) => h("li", { class: ["theme-tile", extra] },
    h("div", { class: "theme-head" },
      h("h2", { class: "theme-label", dir: "auto" }, label),
      h("span", { class: "theme-count", "aria-label": t("text.summary", { count: cards.length }) },
        formatNumber(cards.length))),
    h("ul", { class: ["theme-cards", options.fit && "fit-fill"] }, cards.slice(0, samples)
      .map((id) => texts.get(id)).filter(Boolean)
      .map((card) => h("li", { class: "theme-card", dir: "auto" }, card.text))));
  return h("div", { class: "chart chart-themes" },
    h("p", { class: "chart-headline" }, t("themes.summary", { count: answers.count })),
    h("ol", { class: ["themes-board", `themes-tiles-${tiles}`], "aria-label": t("themes.title") },
      shown.map((theme) => tile(theme.label, theme.cards)),
      other.length ? tile(t("themes.other"), other, "theme-other") : null));
}

/**
 * The console's editor, rebuilt on each results push unless the facilitator is typing in it.
 * options: {step, available, command(type, extra)}.
 */
export function renderThemesEditor(box, results, options) {
  if (box.contains(document.activeElement) && document.activeElement.matches("input, select")) return;
  const answers = results?.answers;
  const send = (type, extra) => options.command(type, { step: options.step, ...extra });
  if (!options.available) {  // one quiet line: this is not what the facilitator came to do
    box.replaceChildren(h("p", { class: "themes-missing", title: t("themes.missingWhy") },
      t("themes.missing"), " ", h("code", { class: "themes-install" }, "pip install 'attune-server[themes]'")));
    return;
  }
  // On a step that hands characters out, each character's answers have their own themes.
  const columns = results?.characters?.length
    ? results.characters.map((c) => ({ name: c.name, answers: c.answers }))
    : [{ name: null, answers }];
  const grouped = columns.some((c) => c.answers?.themes);
  const head = h("div", { class: "themes-head" },
    h("h2", { class: "section-label" }, t("themes.title")),
    h("button", {
      type: "button", class: "button button-small", id: "group-themes",
      disabled: !answers,
      onclick: (event) => {
        event.currentTarget.textContent = t("themes.grouping");
        send("group_themes");
      },
    }, grouped ? t("themes.regroup") : t("themes.group")));
  if (!answers) {
    box.replaceChildren(h("div", { class: "themes-editor" }, head,
      h("p", { class: "themes-hint" }, t("themes.needAnswers"))));
    return;
  }
  if (!grouped) {
    box.replaceChildren(h("div", { class: "themes-editor" }, head,
      h("p", { class: "themes-hint" }, t("themes.lead"))));
    return;
  }
  const model = columns.find((c) => c.answers?.themes).answers.themes.model;
  box.replaceChildren(h("div", { class: "themes-editor" }, head,
    h("p", { class: "themes-hint" }, t("themes.model", { model })),
    columns.map((c) => {
      const list = c.answers?.themes ? h("ol", { class: "theme-panels" }, themePanels(c.answers, send, c.name))
        : h("p", { class: "themes-hint" }, t("characters.hidden", { count: options.minResponses ?? 3 }));
      return c.name === null ? list : h("section", { class: "themes-character" },
        h("h3", { class: "themes-character-name", dir: "auto" }, c.name), list);
    })));
}

/** The editing panels of one set of themes (a step's, or one character's): rename, split and
 * merge each theme, move each answer; merges and moves stay within the set. */
function themePanels(answers, send, character) {
  const { themes, other = [] } = answers.themes;
  const texts = textsOf(answers);
  const targets = (except) => [
    ...themes.filter((theme) => theme.id !== except).map((theme) => [theme.id, theme.label]),
    ...(except === OTHER ? [] : [[OTHER, t("themes.other")]]),
  ];
  const moveSelect = (card, from) => h("select", {
    class: "theme-move", "aria-label": t("themes.moveLabel"),
    onchange: (event) => event.target.value && send("move_card", { card, theme: event.target.value }),
  }, h("option", { value: "" }, t("themes.moveTo")),
  targets(from).map(([id, label]) => h("option", { value: id }, label)));
  // Each theme's answers fold away, so the console shows every theme at a glance; a theme stays
  // open across re-renders once the facilitator opens it.
  const cardList = (ids, from) => h("details", {
    class: "theme-edit-details", open: opened.has(`${character}/${from}`),
    ontoggle: (event) => (event.target.open ? opened.add(`${character}/${from}`) : opened.delete(`${character}/${from}`)),
  },
  h("summary", {}, t("themes.answers", { count: ids.length })),
  h("ul", { class: "theme-edit-cards" }, ids.map((id) => {
    const card = texts.get(id);
    return card ? h("li", { class: ["theme-edit-card", card.hidden && "card-hidden"], dataset: { card: id } },
      h("span", { class: "theme-edit-text", dir: "auto" }, card.text), moveSelect(id, from)) : null;
  })));
  const panels = themes.map((theme) => {
    const name = h("input", {
      class: "theme-name", value: theme.label, maxlength: 60, "aria-label": t("themes.renameLabel"),
      dir: "auto",
      onkeydown: (event) => { if (event.key === "Enter") event.target.blur(); },
      onchange: (event) => {
        const label = event.target.value.trim();
        if (label && label !== theme.label) send("rename_theme", { theme: theme.id, label });
      },
    });
    // A set with one theme has nothing to merge it with ("Other" is not a theme): the menu says so.
    const others = themes.filter((x) => x.id !== theme.id);
    const into = h("select", {
      class: "theme-merge", "aria-label": t("themes.mergeLabel"), disabled: !others.length,
      onchange: (event) => event.target.value && send("merge_themes", { theme: theme.id, into: event.target.value }),
    }, h("option", { value: "" }, others.length ? t("themes.mergeInto") : t("themes.mergeNone")),
    others.map((x) => h("option", { value: x.id }, x.label)));
    // Two different answers: a room may send the same words twice.
    const typical = [...new Set(theme.cards.map((id) => texts.get(id)?.text).filter(Boolean))].slice(0, 2);
    return h("li", { class: ["theme-panel", theme.folded && "theme-folded"], dataset: { theme: theme.id } },
      h("div", { class: "theme-panel-head" }, name,
        h("span", { class: "badge" }, formatNumber(theme.cards.length)),
        theme.folded ? h("span", { class: "badge badge-warn" }, t("themes.folded")) : null),
      h("div", { class: "theme-actions" },
        h("button", {
          type: "button", class: "button button-small", disabled: theme.cards.length < 2,
          onclick: () => send("split_theme", { theme: theme.id }),
        }, t("themes.split")),
        into),
      h("p", { class: "theme-typical", dir: "auto" }, typical.join(" · ")),
      cardList(theme.cards, theme.id));
  });
  if (other.length) {
    panels.push(h("li", { class: "theme-panel theme-other", dataset: { theme: OTHER } },
      h("div", { class: "theme-panel-head" }, h("strong", {}, t("themes.other")),
        h("span", { class: "badge" }, formatNumber(other.length))),
      cardList(other, OTHER)));
  }
  return panels;
}
