// The editor's form: one widget per field of a step kind (model.js KINDS) or of the scenario.
// Each widget is wrapped in an element carrying the field's path ($.steps[2].prompt), which is
// where the checker's errors for that path are shown. Text is edited one language at a time;
// every change mutates the draft and calls ctx.changed() (re-check and preview) or, when the
// shape changed (an option added), ctx.rebuild().

import { h } from "../dom.js";
import { LANGUAGES, t } from "../i18n.js";
import { languageName } from "../problems.js";
import { kindName, AUDIENCES, DEBRIEF_KINDS, KINDS, LANGS, charactersBefore, newStep, slug, stepsBefore } from "./model.js";

let uid = 0;
const nextId = () => `ed-${(uid += 1)}`;

function label(name) {
  return t(`editor.field.${name}`);
}

/** The wrapper every widget sits in: label, control, hint, and the slot errors go into. */
function field(path, labelText, control, { hint = null, id = null, wide = false, group = false } = {}) {
  const errorId = nextId();
  const hintId = hint ? nextId() : null;
  for (const el of control.querySelectorAll?.("input, textarea, select") || []) {
    el.setAttribute("aria-describedby", [hintId, errorId].filter(Boolean).join(" "));
  }
  if (control.matches?.("input, textarea, select")) {
    control.setAttribute("aria-describedby", [hintId, errorId].filter(Boolean).join(" "));
  }
  const heading = group
    ? h("legend", { class: "field-label" }, labelText)
    : h("label", { class: "field-label", for: id }, labelText);
  return h(group ? "fieldset" : "div", { class: ["ed-field", wide && "ed-wide"], dataset: { path } },
    heading, control,
    hint ? h("p", { class: "ed-hint", id: hintId }, hint) : null,
    h("ul", { class: "ed-errors", id: errorId, "aria-live": "polite" }));
}

function textValue(value, lang) {
  if (typeof value === "string") return value;
  if (value && typeof value === "object" && !Array.isArray(value)) return typeof value[lang] === "string" ? value[lang] : "";
  return value === undefined || value === null ? "" : String(value);
}

/** A translated text: the active language's words, English shown as the placeholder. */
export function textWidget(holder, name, path, spec, ctx) {
  const id = nextId();
  const value = holder[name];
  const tag = spec.multiline ? "textarea" : "input";
  const control = h(tag, {
    id, class: ["ed-input", spec.multiline && "ed-textarea"], dir: "auto", lang: ctx.lang,
    rows: spec.multiline ? spec.rows || 3 : null, type: spec.multiline ? null : "text",
    placeholder: ctx.lang !== "en" ? textValue(value, "en") : null,
    dataset: { lang: ctx.lang },
  });
  control.value = textValue(value, ctx.lang);
  const mark = h("span", { class: "ed-missing", hidden: true }, t("editor.missingIn", { language: languageName(ctx.lang) }));
  const refresh = () => {
    const current = holder[name];
    const anywhere = current && typeof current === "object" && Object.values(current).some((v) => String(v).trim());
    mark.hidden = !!control.value.trim() || !(spec.required || anywhere);
  };
  control.addEventListener("input", () => {
    let current = holder[name];
    if (typeof current === "string") current = Object.fromEntries(ctx.languages.map((l) => [l, current]));
    if (!current || typeof current !== "object" || Array.isArray(current)) current = {};
    current[ctx.lang] = control.value;
    holder[name] = current;
    refresh();
    ctx.changed();
  });
  refresh();
  const labelEl = spec.label || label(spec.name);
  const wrapped = field(path, labelEl, control, { id, wide: spec.multiline, hint: spec.hint });
  wrapped.querySelector(".field-label").append(" ", h("span", { class: "ed-lang", lang: ctx.lang }, ctx.lang.toUpperCase()), " ", mark);
  if (!spec.required) wrapped.querySelector(".field-label").append(h("span", { class: "ed-optional" }, t("editor.optional")));
  return wrapped;
}

function numberWidget(holder, name, path, spec, ctx) {
  const id = nextId();
  const control = h("input", {
    id, class: "ed-input ed-number", type: "number", inputmode: spec.type === "int" ? "numeric" : "decimal",
    step: spec.type === "int" ? 1 : 0.5, min: spec.min, max: spec.max,
  });
  const value = holder[name] ?? spec.default;
  control.value = value === undefined ? "" : String(value);
  control.addEventListener("input", () => {
    if (control.value === "") {
      if (spec.required) holder[name] = null;
      else delete holder[name];
    } else holder[name] = Number(control.value);
    ctx.changed();
  });
  return field(path, label(name), control, { id });
}

function boolWidget(holder, name, path, spec, ctx) {
  const id = nextId();
  const control = h("input", { id, type: "checkbox", class: "ed-check" });
  control.checked = holder[name] ?? spec.default ?? false;
  control.addEventListener("change", () => {
    holder[name] = control.checked;
    ctx.changed();
  });
  return h("div", { class: "ed-field ed-field-check", dataset: { path } },
    control, h("label", { for: id }, label(name)), h("ul", { class: "ed-errors" }));
}

function stringWidget(holder, name, path, spec, ctx) {
  const id = nextId();
  const control = h("input", { id, class: "ed-input", type: "text", dir: "auto" });
  control.value = holder[name] ?? "";
  control.addEventListener("input", () => {
    if (control.value) holder[name] = control.value;
    else delete holder[name];
    ctx.changed();
  });
  return field(path, label(name), control, { id, hint: t(`editor.hint.${name}`) });
}

function idWidget(holder, name, path, spec, ctx) {
  const id = nextId();
  const control = h("input", {
    id, class: "ed-input ed-id", type: "text", autocomplete: "off", spellcheck: "false",
    autocapitalize: "off", maxlength: 64, placeholder: "my-scenario",
  });
  control.value = holder.id ?? "";
  control.addEventListener("input", () => {
    holder.id = control.value;
    ctx.changed();
  });
  const suggest = h("button", {
    type: "button", class: "button button-small",
    onclick: () => {
      const title = holder.title?.en || Object.values(holder.title || {})[0] || "";
      control.value = slug(title);
      holder.id = control.value;
      ctx.changed();
    },
  }, t("editor.idFromTitle"));
  return field(path, label("id"), h("div", { class: "ed-row" }, control, suggest), { id, hint: t("editor.hint.id") });
}

function choices(path, legend, items, selected, onToggle, { locked = [] } = {}) {
  return field(path, legend, h("div", { class: "ed-chips" }, items.map(([value, text, lang]) => {
    const id = nextId();
    const box = h("input", { id, type: "checkbox", class: "chip-input", value, disabled: locked.includes(value) });
    box.checked = selected.includes(value);
    box.addEventListener("change", () => onToggle(value, box.checked));
    return h("span", { class: "chip ed-chip" }, box, h("label", { for: id, lang }, text));
  })), { group: true });
}

function audienceWidget(holder, name, path, spec, ctx) {
  const current = Array.isArray(holder.audience) ? holder.audience : [];
  return choices(path, label("audience"), AUDIENCES.map((a) => [a, t(`audience.${a}`)]), current, (value, on) => {
    const list = new Set(Array.isArray(holder.audience) ? holder.audience : []);
    if (on) list.add(value);
    else list.delete(value);
    holder.audience = AUDIENCES.filter((a) => list.has(a));
    ctx.changed();
  });
}

function languagesWidget(holder, name, path, spec, ctx) {
  const current = Array.isArray(holder.languages) ? holder.languages : [];
  return choices(path, label("languages"), LANGS.map((l) => [l, LANGUAGES[l], l]), current, (value, on) => {
    const list = new Set(Array.isArray(holder.languages) ? holder.languages : []);
    if (on) list.add(value);
    else list.delete(value);
    holder.languages = LANGS.filter((l) => list.has(l));
    ctx.rebuild();
  }, { locked: ["en"] });
}

function wordsWidget(holder, name, path, spec, ctx) {
  const all = h("input", { id: nextId(), type: "checkbox", class: "ed-check" });
  all.checked = !Array.isArray(holder.words);
  all.addEventListener("change", () => {
    if (all.checked) delete holder.words;
    else holder.words = ctx.words.slice(0, 8).map((w) => w.id);
    ctx.rebuild();
  });
  const chosen = Array.isArray(holder.words) ? holder.words : [];
  const picker = Array.isArray(holder.words)
    ? h("div", { class: "ed-chips ed-words" }, ctx.words.map((word) => {
      const id = nextId();
      const box = h("input", { id, type: "checkbox", class: "chip-input", value: word.id });
      box.checked = chosen.includes(word.id);
      box.addEventListener("change", () => {
        const set = new Set(holder.words);
        if (box.checked) set.add(word.id);
        else set.delete(word.id);
        holder.words = ctx.words.map((w) => w.id).filter((w) => set.has(w));
        ctx.changed();
      });
      return h("span", { class: "chip ed-chip" }, box, h("label", { for: id }, word.label));
    }))
    : null;
  return field(path, label("words"), h("div", {},
    h("p", { class: "ed-field-check" }, all, h("label", { for: all.id }, t("editor.allWords"))), picker),
  { group: true, wide: true });
}

function predictWidget(holder, name, path, spec, ctx) {
  const on = h("input", { id: nextId(), type: "checkbox", class: "ed-check" });
  on.checked = !!holder.predict;
  on.addEventListener("change", () => {
    if (on.checked) holder.predict = { prompt: {} };
    else delete holder.predict;
    ctx.rebuild();
  });
  const inner = holder.predict && typeof holder.predict === "object"
    ? textWidget(holder.predict, "prompt", `${path}.prompt`, { name: "prompt", required: true, label: t("editor.field.predictPrompt") }, ctx)
    : null;
  return h("div", { class: "ed-field ed-wide", dataset: { path } },
    h("p", { class: "ed-field-check" }, on, h("label", { for: on.id }, label("predict"))),
    h("p", { class: "ed-hint" }, t("editor.hint.predict")), inner, h("ul", { class: "ed-errors" }));
}

function listWidget(holder, name, path, ctx, { make, row, min = 0, max = 100, addLabel }) {
  const items = Array.isArray(holder[name]) ? holder[name] : [];
  const rows = items.map((item, index) => {
    const at = `${path}[${index}]`;
    return h("li", { class: "ed-item", dataset: { path: at } },
      h("div", { class: "ed-item-fields" }, row(item, at, index)),
      h("button", {
        type: "button", class: "button button-small button-quiet ed-remove",
        "aria-label": t("editor.removeItem", { n: index + 1 }), disabled: items.length <= min,
        onclick: () => {
          items.splice(index, 1);
          ctx.rebuild();
        },
      }, "✕"),
      h("ul", { class: "ed-errors" }));
  });
  return h("div", { class: "ed-field ed-wide", dataset: { path } },
    h("p", { class: "field-label" }, label(name)),
    h("ol", { class: "ed-items" }, rows),
    h("button", {
      type: "button", class: "button button-small", disabled: items.length >= max,
      onclick: () => {
        holder[name] = [...items, make(items)];
        ctx.rebuild(`${path}[${items.length}]`);
      },
    }, "+ ", addLabel),
    h("ul", { class: "ed-errors" }));
}

function optionsWidget(holder, name, path, spec, ctx) {
  return listWidget(holder, name, path, ctx, {
    min: 2, max: 20, addLabel: t("editor.addOption"),
    make: (items) => {
      const taken = new Set(items.map((o) => o?.id));
      let n = 0;
      while (taken.has(String.fromCharCode(97 + (n % 26)) + (n >= 26 ? String(Math.floor(n / 26)) : ""))) n += 1;
      return { id: String.fromCharCode(97 + (n % 26)) + (n >= 26 ? String(Math.floor(n / 26)) : ""), label: {} };
    },
    row: (option, at) => [
      textWidget(option, "label", `${at}.label`, { name: "label", required: true, label: t("editor.field.optionLabel") }, ctx),
      stringLike(option, "id", `${at}.id`, t("editor.field.optionId"), ctx),
    ],
  });
}

function optionalId(holder, path, ctx) {
  const id = nextId();
  const control = h("input", { id, class: "ed-input ed-id ed-short", type: "text", autocomplete: "off", spellcheck: "false" });
  control.value = holder.id ?? "";
  control.addEventListener("input", () => {
    if (control.value) holder.id = control.value;
    else delete holder.id;
    ctx.changed();
  });
  return field(path, t("editor.field.characterId"), control, { id });
}

function stringLike(holder, name, path, text, ctx) {
  const id = nextId();
  const control = h("input", { id, class: "ed-input ed-id ed-short", type: "text", autocomplete: "off", spellcheck: "false" });
  control.value = holder[name] ?? "";
  control.addEventListener("input", () => {
    holder[name] = control.value;
    ctx.changed();
  });
  return field(path, text, control, { id });
}

function charactersWidget(holder, name, path, spec, ctx) {
  return listWidget(holder, name, path, ctx, {
    max: 20, addLabel: t("editor.addCharacter"),
    make: () => ({ name: {} }),
    row: (character, at) => [
      textWidget(character, "name", `${at}.name`, { name: "name", required: true, label: t("editor.field.characterName") }, ctx),
      textWidget(character, "description", `${at}.description`, { name: "description", label: t("editor.field.characterAbout") }, ctx),
      optionalId(character, `${at}.id`, ctx),
    ],
  });
}

function characterWidget(holder, name, path, spec, ctx) {
  const id = nextId();
  const known = charactersBefore(ctx.draft, ctx.index).map((c) => c.name);
  if (holder.character && !known.includes(holder.character)) known.push(holder.character);
  const control = h("select", { id, class: "ed-input" },
    h("option", { value: "" }, t("editor.noCharacter")),
    known.map((n) => h("option", { value: n, selected: holder.character === n }, n)));
  control.addEventListener("change", () => {
    if (control.value) holder.character = control.value;
    else delete holder.character;
    ctx.changed();
  });
  return field(path, label("character"), control, { id, hint: t("editor.hint.character") });
}

function selectWidget(holder, name, path, spec, ctx) {
  const id = nextId();
  const control = h("select", { id, class: "ed-input" },
    spec.values.map((v) => h("option", { value: v, selected: (holder[name] ?? spec.default) === v }, t(`editor.value.${name}.${v}`))));
  control.addEventListener("change", () => {
    holder[name] = control.value;
    ctx.changed();
  });
  return field(path, label(name), control, { id });
}

/** A list of short texts (an observer's checklist), one per line, in the active language. */
function linesWidget(holder, name, path, spec, ctx) {
  const id = nextId();
  const items = Array.isArray(holder[name]) ? holder[name] : [];
  const control = h("textarea", { id, class: "ed-input ed-textarea", rows: 3, dir: "auto", lang: ctx.lang });
  control.value = items.map((item) => textValue(item, ctx.lang)).join("\n");
  control.addEventListener("input", () => {
    const lines = control.value.split("\n");
    const list = Array.isArray(holder[name]) ? holder[name] : [];
    while (list.length < lines.length) list.push({});
    lines.forEach((line, i) => {
      if (typeof list[i] !== "object" || list[i] === null) list[i] = {};
      list[i][ctx.lang] = line;
    });
    for (let i = lines.length; i < list.length; i += 1) if (list[i] && typeof list[i] === "object") delete list[i][ctx.lang];
    // Drop trailing items no language has words for.
    while (list.length && !Object.values(list[list.length - 1] || {}).some((v) => String(v).trim())) list.pop();
    if (list.length) holder[name] = list;
    else delete holder[name];
    ctx.changed();
  });
  const wrapped = field(path, label(name), control, { id, wide: true, hint: t("editor.hint.lines") });
  wrapped.querySelector(".field-label").append(" ", h("span", { class: "ed-lang", lang: ctx.lang }, ctx.lang.toUpperCase()),
    h("span", { class: "ed-optional" }, t("editor.optional")));
  return wrapped;
}

function rolesWidget(holder, name, path, spec, ctx) {
  return listWidget(holder, name, path, ctx, {
    min: 1, max: 7, addLabel: t("editor.addRole"),
    make: (items) => ({ id: `role-${items.length + 1}`, name: {}, prompt: {} }),
    row: (role, at) => [
      textWidget(role, "name", `${at}.name`, { name: "name", required: true, label: t("editor.field.roleName") }, ctx),
      stringLike(role, "id", `${at}.id`, t("editor.field.optionId"), ctx),
      h("div", { class: "ed-wide ed-role-more" },
        textWidget(role, "prompt", `${at}.prompt`, { name: "prompt", required: true, multiline: true, label: t("editor.field.rolePrompt") }, ctx),
        linesWidget(role, "checklist", `${at}.checklist`, { name: "checklist" }, ctx),
        textWidget(role, "note", `${at}.note`, { name: "note", label: t("editor.field.roleNote") }, ctx)),
    ],
  });
}

/** The one question everyone answers when the groups end: none, a scale or a choice. */
function debriefWidget(holder, name, path, spec, ctx) {
  const id = nextId();
  const current = holder.debrief?.kind;
  const control = h("select", { id, class: "ed-input" },
    h("option", { value: "" }, t("editor.noDebrief")),
    DEBRIEF_KINDS.map((k) => h("option", { value: k, selected: current === k }, kindName(k))));
  control.addEventListener("change", () => {
    if (control.value) holder.debrief = newStep(control.value);
    else delete holder.debrief;
    ctx.rebuild();
  });
  const inner = holder.debrief && KINDS[holder.debrief.kind]
    ? h("div", { class: "ed-grid ed-nested" },
      fieldsFor(holder.debrief, KINDS[holder.debrief.kind].filter((f) => f.name !== "notes"), path, ctx, { known: ["kind"] }))
    : null;
  return h("div", { class: "ed-field ed-wide", dataset: { path } },
    h("label", { for: id, class: "field-label" }, label("debrief")), control,
    h("ul", { class: "ed-errors" }), inner);
}

/** This step's own id, by which a later step compares with it. */
function stepIdWidget(holder, name, path, spec, ctx) {
  const id = nextId();
  const control = h("input", { id, class: "ed-input ed-id", type: "text", autocomplete: "off", spellcheck: "false", maxlength: 64 });
  control.value = holder.id ?? "";
  control.addEventListener("input", () => {
    if (control.value) holder.id = control.value;
    else delete holder.id;
    ctx.changed();
  });
  return field(path, t("editor.field.stepId"), control, { id, hint: t("editor.hint.stepId") });
}

/** An earlier step of the same kind to compare with (`compare:`); steps need an id for it. */
function stepRefWidget(holder, name, path, spec, ctx) {
  const id = nextId();
  const known = stepsBefore(ctx.draft, ctx.index, holder.kind);
  if (holder.compare && !known.includes(holder.compare)) known.push(holder.compare);
  const control = h("select", { id, class: "ed-input" },
    h("option", { value: "" }, t("editor.noCompare")),
    known.map((k) => h("option", { value: k, selected: holder.compare === k }, k)));
  control.addEventListener("change", () => {
    if (control.value) holder.compare = control.value;
    else delete holder.compare;
    ctx.changed();
  });
  return field(path, label("compare"), control, { id, hint: t("editor.hint.compare") });
}

/** Story characters handed out to the room, one each (`characters:` with `assign: each`). */
function charListWidget(holder, name, path, spec, ctx) {
  const known = charactersBefore(ctx.draft, ctx.index);
  const chosen = Array.isArray(holder.characters) ? holder.characters : [];
  for (const key of chosen) if (!known.some((c) => c.key === key)) known.push({ key, name: key });
  if (!known.length) return field(path, label("assigned"), h("p", { class: "ed-hint" }, t("editor.hint.noCharacters")), { group: true });
  return choices(path, label("assigned"), known.map((c) => [c.key, c.name]), chosen, (value, on) => {
    const set = new Set(Array.isArray(holder.characters) ? holder.characters : []);
    if (on) set.add(value);
    else set.delete(value);
    const list = known.map((c) => c.key).filter((k) => set.has(k));
    if (list.length) holder.characters = list;
    else delete holder.characters;
    ctx.changed();
  });
}

function assignWidget(holder, name, path, spec, ctx) {
  const id = nextId();
  const control = h("input", { id, type: "checkbox", class: "ed-check" });
  control.checked = holder.assign === "each";
  control.addEventListener("change", () => {
    if (control.checked) holder.assign = "each";
    else delete holder.assign;
    ctx.changed();
  });
  return h("div", { class: "ed-field ed-field-check", dataset: { path } },
    control, h("label", { for: id }, label("assign")), h("ul", { class: "ed-errors" }));
}

const WIDGETS = {
  text: textWidget, int: numberWidget, float: numberWidget, bool: boolWidget, string: stringWidget,
  id: idWidget, audience: audienceWidget, languages: languagesWidget, words: wordsWidget,
  predict: predictWidget, options: optionsWidget, characters: charactersWidget, character: characterWidget,
  select: selectWidget, lines: linesWidget, roles: rolesWidget, debrief: debriefWidget,
  stepid: stepIdWidget, stepref: stepRefWidget, charlist: charListWidget, assign: assignWidget,
};

/** Widgets for `fields` of `holder`, paths under `base`; plus any field the editor does not
 * know (kept as it is, shown so its errors have a place and it can be removed). */
export function fieldsFor(holder, fields, base, ctx, { known = [] } = {}) {
  const out = fields.map((spec) => WIDGETS[spec.type](holder, spec.name, `${base}.${spec.name}`, spec, ctx));
  const names = new Set([...fields.map((f) => f.name), ...known]);
  const other = Object.keys(holder).filter((key) => !names.has(key));
  if (other.length) {
    out.push(h("div", { class: "ed-other ed-wide" },
      h("p", { class: "field-label" }, t("editor.otherFields")),
      h("p", { class: "ed-hint" }, t("editor.otherHint")),
      other.map((key) => h("div", { class: "ed-field ed-other-field", dataset: { path: `${base}.${key}` } },
        h("code", { dir: "auto" }, `${key}: ${JSON.stringify(holder[key]).slice(0, 120)}`),
        h("button", {
          type: "button", class: "button button-small",
          onclick: () => {
            delete holder[key];
            ctx.rebuild();
          },
        }, t("editor.removeField", { name: key })),
        h("ul", { class: "ed-errors" })))));
  }
  return out;
}
