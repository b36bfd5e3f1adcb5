// The templates gallery on the console's start page: built-in and saved scenarios as cards
// (title, summary, audience, minutes, languages, step kinds), filterable by audience and by
// language, each with Start, Duplicate and (for saved ones) Edit. A module of its own so the
// start page can hold other sections (My sessions) without the two tangling.

import { h, fill } from "./dom.js";
import { formatList, LANGUAGES, t } from "./i18n.js";
import { listScenarios } from "./editor/api.js";
import { kindName } from "./editor/model.js";

const AUDIENCES = ["classroom", "workshop", "remote-team"];

function card(s, onStart) {
  const editor = (how) => `/console/editor.html#${how}=${encodeURIComponent(s.id)}`;
  return h("li", { class: "scenario-card", dataset: { id: s.id, builtin: String(s.builtin) } },
    h("p", { class: ["scenario-origin", !s.builtin && "scenario-origin-saved"] },
      s.builtin ? t("gallery.builtin") : t("gallery.saved")),
    h("h2", { dir: "auto" }, s.title),
    h("p", { class: "scenario-summary", dir: "auto" }, s.summary),
    h("p", { class: "scenario-meta" },
      t("console.minutes", { count: s.duration_minutes }), " · ", t("console.steps", { count: s.steps }), " · ",
      formatList(s.audience.map((a) => t(`audience.${a}`)))),
    h("p", { class: "scenario-langs" }, s.languages.map((l) => h("span", { class: "tag", lang: l }, LANGUAGES[l] || l))),
    h("p", { class: "scenario-kinds", "aria-label": t("gallery.kinds") },
      (s.kinds || []).map((k) => h("span", { class: "kind-tag" }, kindName(k)))),
    h("div", { class: "scenario-card-actions" },
      h("button", {
        type: "button", class: "button button-primary", dataset: { scenario: s.id },
        onclick: () => onStart(s.id),
      }, t("console.start")),
      s.builtin ? null : h("a", { class: "button", href: editor("open"), dataset: { edit: s.id } }, t("gallery.edit")),
      h("a", { class: "button button-quiet", href: editor("copy"), dataset: { copy: s.id } }, t("gallery.duplicate"))));
}

function select(id, labelText, options) {
  return h("p", { class: "field" },
    h("label", { for: id, class: "field-label" }, labelText),
    h("select", { id }, options.map(([value, text]) => h("option", { value }, text))));
}

/** The gallery element; cards load in the given language. `onStart(id)` opens a session. */
export function gallery({ language, onStart }) {
  const list = h("ul", { class: "scenario-list", id: "gallery-list", "aria-busy": "true" });
  const count = h("p", { class: "gallery-count", "aria-live": "polite" });
  const audience = select("gallery-audience", t("gallery.audience"),
    [["", t("gallery.anyAudience")], ...AUDIENCES.map((a) => [a, t(`audience.${a}`)])]);
  const languageFilter = select("gallery-language", t("gallery.language"),
    [["", t("gallery.anyLanguage")], ...Object.entries(LANGUAGES)]);
  let scenarios = [];

  function show() {
    const who = audience.querySelector("select").value;
    const lang = languageFilter.querySelector("select").value;
    const shown = scenarios.filter((s) => (!who || s.audience.includes(who)) && (!lang || s.languages.includes(lang)));
    count.textContent = t("gallery.count", { count: shown.length, total: scenarios.length });
    fill(list, shown.length ? shown.map((s) => card(s, onStart)) : h("li", { class: "empty" }, t("console.noScenarios")));
  }

  audience.addEventListener("change", show);
  languageFilter.addEventListener("change", show);
  const element = h("section", { class: "gallery", "aria-labelledby": "gallery-title" },
    h("h2", { id: "gallery-title", class: "visually-hidden" }, t("gallery.title")),
    h("div", { class: "gallery-filters" }, audience, languageFilter,
      h("a", { class: "button button-accent gallery-new", href: "/console/editor.html#new", id: "gallery-new" }, "+ ", t("gallery.new"))),
    count, list);
  listScenarios(language).then((result) => {
    scenarios = result.status === 200 ? result.data : [];
    list.removeAttribute("aria-busy");
    show();
  });
  return element;
}
