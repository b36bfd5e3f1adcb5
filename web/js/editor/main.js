// The scenario editor page (/console/editor.html). Routes, in the URL fragment:
//   #new            a blank scenario        #copy=ID   a copy of a built-in or saved one
//   #open=ID        a saved one, to change  #draft     the unsaved draft this browser kept
// The draft lives in the page (and in localStorage after every change, so a reload loses
// nothing); the server checks it as you type and returns every error with its path, shown next
// to its field, and each step as phones receive it, shown in the preview.

import { $, announce, fill, h, store } from "../dom.js";
import { LANGUAGES, language, t } from "../i18n.js";
import { setupPage } from "../page.js";
import * as api from "./api.js";
import { fieldsFor } from "./form.js";
import { kindName, KINDS, LANGS, SCENARIO_FIELDS, blank, editable, missing, move, newStep, serialize, stepOf } from "./model.js";
import { PROJECTOR, phonePreview, projectorPreview } from "./preview.js";
import { problemAt } from "../problems.js";

const SAVED_DRAFT = "attune:editor:draft";
const CHECK_DELAY_MS = 250;

const state = {
  draft: blank(),
  origin: null, // { id, version } of the saved scenario this draft replaces, if any
  selected: -1, // -1: the scenario's own fields; otherwise a step index
  lang: "en",
  errors: [],
  views: [],
  lines: new Map(), // path -> line in the imported file, until the next import or save
  dirty: false,
  newKind: "story",
  words: [],
  checking: 0,
};

const main = $("#main");
let timer = null;

// --- loading ------------------------------------------------------------------------------

async function route() {
  const hash = decodeURIComponent(location.hash.slice(1));
  const [how, id] = hash.split("=");
  state.lines = new Map();
  banner(null);
  if (how === "open" || how === "copy") {
    const found = await api.getScenario(id);
    if (found.status !== 200) {
      start(blank(), null);
      banner(t("editor.notFound", { id }), "problem");
      return;
    }
    const kept = store.get(SAVED_DRAFT, null, localStorage);
    if (how === "open" && kept?.origin?.id === id && kept.origin.version === found.data.version && kept.dirty) {
      start(kept.draft, kept.origin, true);
      banner(t("editor.restored"));
      return;
    }
    const draft = editable(found.data.scenario);
    if (how === "copy") draft.id = `${found.data.scenario.id}-copy`.slice(0, 64);
    const origin = how === "open" && !found.data.builtin ? { id, version: found.data.version } : null;
    start(draft, origin, how === "copy");
    if (how === "open" && found.data.builtin) banner(t("editor.builtinCopy"));
    return;
  }
  if (how === "draft") {
    const kept = store.get(SAVED_DRAFT, null, localStorage);
    if (kept?.draft) {
      start(kept.draft, kept.origin, kept.dirty);
      return;
    }
  }
  start(blank(), null);
}

function start(draft, origin, dirty = false) {
  state.draft = draft;
  state.origin = origin;
  state.dirty = dirty;
  state.selected = -1;
  state.errors = [];
  state.views = [];
  if (!state.draft.languages?.includes?.(state.lang)) state.lang = "en";
  render();
  check();
}

// --- layout -------------------------------------------------------------------------------

const els = {};

function render() {
  els.status = h("p", { class: "ed-status", role: "status", "aria-live": "polite" });
  els.steps = h("nav", { class: "ed-steps", "aria-label": t("editor.stepsLabel") });
  els.tabs = h("div", { class: "ed-tabs", role: "tablist", "aria-label": t("editor.languagesLabel") });
  els.summary = h("div", { class: "ed-summary" });
  els.form = h("div", { class: "ed-form-body", id: "ed-form", role: "tabpanel" });
  els.previewPhone = h("div", { class: "ed-preview-phone" });
  els.projector = projectorPreview();
  els.previewProjector = h("div", { class: "ed-preview-projector", hidden: true },
    h("h2", { class: "section-label" }, t("editor.previewProjector")), els.projector.element);
  els.preview = h("aside", { class: "ed-preview", "aria-label": t("editor.preview") },
    els.previewPhone, els.previewProjector);
  els.file = h("input", {
    type: "file", id: "ed-import", class: "ed-file", accept: ".yaml,.yml,text/yaml,application/yaml",
    onchange: importFile,
  });
  els.start = h("button", { type: "button", class: "button button-accent", id: "ed-start", onclick: startSession }, t("editor.startSession"));
  fill(main,
    h("div", { class: "ed-toolbar" },
      h("div", { class: "ed-heading" },
        h("a", { href: "/console/", class: "ed-back" }, "← ", t("editor.gallery")),
        h("h1", { id: "ed-title", dir: "auto" }), els.status),
      h("div", { class: "ed-actions", role: "toolbar", "aria-label": t("editor.actions") },
        h("button", { type: "button", class: "button button-primary", id: "ed-save", onclick: () => save() }, t("editor.save")),
        h("button", { type: "button", class: "button", id: "ed-save-as", onclick: saveAs }, t("editor.saveAs")),
        h("button", { type: "button", class: "button", id: "ed-download", onclick: download }, t("editor.download")),
        h("label", { for: "ed-import", class: "button file-button" }, t("editor.import")), els.file,
        els.start)),
    h("div", { id: "ed-banner", class: "ed-banner", hidden: true }),
    h("div", { class: "ed-layout" },
      els.steps,
      h("section", { class: "ed-form", "aria-labelledby": "ed-form-title" }, els.tabs, els.summary, els.form),
      els.preview));
  fit(els.projector.element, PROJECTOR.width);
  renderSteps();
  renderTabs();
  renderForm();
  renderHead();
}

function textIn(value, lang = state.lang) {
  if (typeof value === "string") return value;
  if (value && typeof value === "object") return value[lang] || value.en || Object.values(value).find((v) => typeof v === "string" && v) || "";
  return "";
}

function stepLabel(step) {
  if (!step || typeof step !== "object") return "?";
  return textIn(step.title) || textIn(step.prompt) || textIn(step.text) || kindName(step.kind);
}

function renderHead() {
  const title = $("#ed-title");
  if (title) title.textContent = textIn(state.draft.title) || t("editor.untitled");
  const count = state.errors.length;
  const parts = [];
  if (state.origin && !state.dirty) parts.push(t("editor.saved", { version: state.origin.version }));
  else if (state.origin) parts.push(t("editor.unsavedChanges"));
  else parts.push(t("editor.notSaved"));
  parts.push(count ? t("editor.errorCount", { count }) : t("editor.noErrors"));
  els.status.textContent = parts.join(" · ");
  els.status.classList.toggle("ed-status-bad", count > 0);
  els.start.disabled = !state.origin || state.dirty;
  els.start.title = els.start.disabled ? t("editor.saveFirst") : "";
}

// --- the step list: select, add, remove, reorder (drag, or Alt+arrow keys) ------------------

function errorsOfStep(index) {
  return state.errors.filter((e) => stepOf(e.path) === index).length;
}

function renderSteps() {
  const steps = Array.isArray(state.draft.steps) ? state.draft.steps : [];
  const item = (index, text, kind) => {
    const errors = errorsOfStep(index);
    const button = h("button", {
      type: "button", class: ["ed-step-button", state.selected === index && "current"],
      "aria-current": state.selected === index ? "true" : null,
      "aria-keyshortcuts": index >= 0 ? "Alt+ArrowUp Alt+ArrowDown" : null,
      dataset: { index },
      onclick: () => select(index),
      onkeydown: (event) => {
        if (index < 0 || !event.altKey || !["ArrowUp", "ArrowDown"].includes(event.key)) return;
        event.preventDefault();
        reorder(index, index + (event.key === "ArrowUp" ? -1 : 1));
      },
    },
    index >= 0 ? h("span", { class: "step-number" }, String(index + 1)) : null,
    h("span", { class: "ed-step-text" },
      kind ? h("span", { class: "step-kind" }, kind) : null,
      h("span", { class: "ed-step-title", dir: "auto" }, text)),
    errors ? h("span", { class: "ed-badge-error", "aria-label": t("editor.errorCount", { count: errors }) }, String(errors)) : null);
    const li = h("li", { class: "ed-step", dataset: { index } },
      index >= 0 ? h("span", { class: "ed-grip", "aria-hidden": "true", title: t("editor.dragHint") }, "⋮⋮") : null, button);
    if (index >= 0) {
      li.draggable = true;
      li.addEventListener("dragstart", (event) => {
        event.dataTransfer.setData("text/plain", String(index));
        event.dataTransfer.effectAllowed = "move";
        li.classList.add("dragging");
      });
      li.addEventListener("dragend", () => li.classList.remove("dragging"));
      li.addEventListener("dragover", (event) => {
        event.preventDefault();
        li.classList.add("drop-target");
      });
      li.addEventListener("dragleave", () => li.classList.remove("drop-target"));
      li.addEventListener("drop", (event) => {
        event.preventDefault();
        const from = Number(event.dataTransfer.getData("text/plain"));
        if (Number.isInteger(from)) reorder(from, index);
      });
    }
    return li;
  };
  // The kind chosen for the next step survives the list being redrawn after each check.
  const kindSelect = h("select", {
    id: "ed-new-kind", class: "ed-input", onchange: () => { state.newKind = kindSelect.value; },
  }, Object.keys(KINDS).map((kind) => h("option", { value: kind, selected: kind === state.newKind }, kindName(kind))));
  fill(els.steps,
    h("ol", { class: "ed-step-list ed-about" }, item(-1, t("editor.about"), null)),
    h("p", { class: "section-label" }, t("editor.stepsCount", { count: steps.length })),
    h("ol", { class: "ed-step-list", id: "ed-step-list" }, steps.map((step, index) => item(index, stepLabel(step), kindName(step?.kind)))),
    steps.length ? h("p", { class: "ed-hint" }, t("editor.reorderHint")) : null,
    h("div", { class: "ed-add" },
      h("label", { for: "ed-new-kind", class: "field-label" }, t("editor.newStepKind")), kindSelect,
      h("button", { type: "button", class: "button", id: "ed-add-step", onclick: () => addStep(kindSelect.value) }, "+ ", t("editor.addStep"))));
}

function select(index) {
  state.selected = index;
  renderSteps();
  renderForm();
  renderPreview();
  els.form.querySelector("input, textarea, select")?.focus({ preventScroll: false });
}

function reorder(from, to) {
  const steps = state.draft.steps;
  if (to < 0 || to >= steps.length || from === to) return;
  state.draft.steps = move(steps, from, to);
  if (state.selected === from) state.selected = to;
  else if (state.selected >= Math.min(from, to) && state.selected <= Math.max(from, to)) {
    state.selected += from < to ? -1 : 1;
  }
  state.errors = [];
  renderSteps();
  renderForm();
  changed();
  els.steps.querySelector(`.ed-step-button[data-index="${to}"]`)?.focus();
  announce(t("editor.moved", { n: to + 1 }));
}

function addStep(kind) {
  if (!Array.isArray(state.draft.steps)) state.draft.steps = [];
  state.draft.steps.push(newStep(kind));
  state.selected = state.draft.steps.length - 1;
  renderSteps();
  renderForm();
  changed();
  els.form.querySelector("input, textarea, select")?.focus();
  announce(t("editor.added", { kind: kindName(kind), n: state.selected + 1 }));
}

function removeStep(index) {
  state.draft.steps.splice(index, 1);
  state.selected = Math.min(index, state.draft.steps.length - 1);
  state.errors = [];
  renderSteps();
  renderForm();
  changed();
  els.steps.querySelector(".ed-step-button.current")?.focus();
}

// --- language tabs ----------------------------------------------------------------------------

function renderTabs() {
  const languages = (Array.isArray(state.draft.languages) ? state.draft.languages : ["en"]).filter((l) => LANGS.includes(l));
  if (!languages.includes(state.lang)) state.lang = languages[0] || "en";
  fill(els.tabs, languages.map((lang) => {
    const gaps = missing(state.draft, lang).length;
    return h("button", {
      type: "button", role: "tab", class: ["ed-tab", lang === state.lang && "current"], lang,
      "aria-selected": String(lang === state.lang), "aria-controls": "ed-form", dataset: { lang },
      onclick: () => {
        state.lang = lang;
        renderTabs();
        renderForm();
        check();
        els.tabs.querySelector(".ed-tab.current")?.focus();
      },
    }, LANGUAGES[lang], gaps ? h("span", { class: "ed-tab-missing" }, t("editor.missingCount", { count: gaps })) : null);
  }));
}

// --- the form -----------------------------------------------------------------------------------

function context() {
  return {
    lang: state.lang, languages: state.draft.languages || ["en"], draft: state.draft, index: state.selected,
    words: state.words, changed, rebuild,
  };
}

function rebuild(focusPath) {
  renderTabs();
  renderForm();
  changed();
  if (focusPath) els.form.querySelector(`[data-path="${CSS.escape(focusPath)}"] input, [data-path="${CSS.escape(focusPath)}"] textarea`)?.focus();
}

function renderForm() {
  const ctx = context();
  const steps = Array.isArray(state.draft.steps) ? state.draft.steps : [];
  if (state.selected < 0 || state.selected >= steps.length) {
    state.selected = -1;
    fill(els.form, h("h2", { id: "ed-form-title" }, t("editor.about")),
      h("div", { class: "ed-grid" }, fieldsFor(state.draft, SCENARIO_FIELDS, "$", ctx, { known: ["steps"] })));
  } else {
    const index = state.selected;
    const step = steps[index];
    const path = `$.steps[${index}]`;
    const kinds = Object.keys(KINDS);
    const kind = h("select", { id: "ed-kind", class: "ed-input" },
      (kinds.includes(step?.kind) ? kinds : [step?.kind, ...kinds]).map((k) => h("option", { value: k, selected: k === step?.kind }, KINDS[k] ? kindName(k) : String(k))));
    kind.addEventListener("change", () => {
      const fresh = newStep(kind.value);
      for (const key of ["title", "prompt", "notes"]) if (step[key] !== undefined && KINDS[kind.value].some((f) => f.name === key)) fresh[key] = step[key];
      steps[index] = fresh;
      rebuild();
    });
    const known = KINDS[step?.kind];
    fill(els.form,
      h("div", { class: "ed-step-head" },
        h("h2", { id: "ed-form-title" }, t("editor.stepN", { n: index + 1 })),
        h("div", { class: "ed-step-tools" },
          h("button", { type: "button", class: "button button-small", disabled: index === 0, onclick: () => reorder(index, index - 1) }, "↑ ", t("editor.moveUp")),
          h("button", { type: "button", class: "button button-small", disabled: index === steps.length - 1, onclick: () => reorder(index, index + 1) }, "↓ ", t("editor.moveDown")),
          h("button", { type: "button", class: "button button-small button-danger", id: "ed-remove-step", onclick: () => removeStep(index) }, t("editor.removeStep")))),
      h("div", { class: "ed-grid" },
        h("div", { class: "ed-field", dataset: { path: `${path}.kind` } },
          h("label", { for: "ed-kind", class: "field-label" }, t("editor.field.kind")), kind, h("ul", { class: "ed-errors" })),
        step && typeof step === "object" && known ? fieldsFor(step, known, path, ctx, { known: ["kind"] }) : null,
        step && typeof step === "object" && !known ? fieldsFor(step, [], path, ctx, { known: ["kind"] }) : null));
  }
  showErrors();
}

// --- checking as you type -------------------------------------------------------------------

function changed() {
  state.dirty = true;
  store.set(SAVED_DRAFT, { draft: state.draft, origin: state.origin, dirty: true }, localStorage);
  if (!state.origin && location.hash !== "#draft") history.replaceState(null, "", "#draft");
  renderHead();
  els.status.dataset.pending = "true";
  clearTimeout(timer);
  timer = setTimeout(check, CHECK_DELAY_MS);
}

async function check() {
  clearTimeout(timer);
  const ticket = (state.checking += 1);
  const result = await api.checkDraft(serialize(state.draft), state.lang);
  if (ticket !== state.checking) return; // a newer check is under way
  delete els.status.dataset.pending;
  if (result.status !== 200) {
    els.status.textContent = t("console.offline");
    return;
  }
  state.errors = result.data.errors;
  state.views = result.data.views;
  showErrors();
  renderPreview();
  renderHead();
  // The list shows titles and error counts; refresh it unless someone is using it right now.
  if (!els.steps.contains(document.activeElement)) renderSteps();
  else for (const button of els.steps.querySelectorAll(".ed-step-button")) {
    const index = Number(button.dataset.index);
    const title = button.querySelector(".ed-step-title");
    if (title) title.textContent = index >= 0 ? stepLabel(state.draft.steps[index]) : t("editor.about");
  }
  const current = els.tabs.querySelector(".ed-tab.current");
  if (!els.tabs.contains(document.activeElement) || current) {
    for (const tab of els.tabs.querySelectorAll(".ed-tab")) {
      const gaps = missing(state.draft, tab.dataset.lang).length;
      let mark = tab.querySelector(".ed-tab-missing");
      if (gaps && !mark) tab.append(mark = h("span", { class: "ed-tab-missing" }));
      if (mark) {
        if (gaps) mark.textContent = t("editor.missingCount", { count: gaps });
        else mark.remove();
      }
    }
  }
}

/** The element showing `path`'s errors: the field itself, or the nearest enclosing one shown. */
function target(path) {
  let at = path;
  while (at) {
    const found = els.form.querySelector(`[data-path="${CSS.escape(at)}"]`);
    if (found) return found;
    const cut = Math.max(at.lastIndexOf("."), at.lastIndexOf("["));
    if (cut <= 0) break;
    at = at.slice(0, cut);
  }
  return null;
}

/** A mistake in the editor's language, with the file's line when it came from a file. */
function describe(error) {
  return problemAt(error, error.line ?? state.lines.get(error.path));
}

function showErrors() {
  for (const list of els.form.querySelectorAll(".ed-errors")) list.replaceChildren();
  for (const el of els.form.querySelectorAll(".has-error")) el.classList.remove("has-error");
  for (const el of els.form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  const unplaced = [];
  for (const error of state.errors) {
    const box = target(error.path);
    const inView = stepOf(error.path) === state.selected;
    if (!box || !inView) {
      unplaced.push(error);
      continue;
    }
    box.classList.add("has-error");
    box.querySelector(":scope > .ed-errors, :scope > * > .ed-errors")?.append(h("li", { class: "ed-error", dir: "auto" }, describe(error)));
    (box.matches("input, textarea, select") ? box : box.querySelector("input, textarea, select"))?.setAttribute("aria-invalid", "true");
  }
  renderSummary(unplaced);
}

function renderSummary(elsewhere) {
  if (!state.errors.length) {
    fill(els.summary);
    return;
  }
  fill(els.summary, h("div", { class: "ed-summary-box", role: "region", "aria-label": t("editor.errorCount", { count: state.errors.length }) },
    h("p", { class: "ed-summary-head" }, t("editor.errorCount", { count: state.errors.length }),
      elsewhere.length ? ` · ${t("editor.elsewhere", { count: elsewhere.length })}` : ""),
    elsewhere.length ? h("ul", { class: "ed-summary-list" }, elsewhere.slice(0, 50).map((error) => {
      const index = stepOf(error.path);
      return h("li", {}, h("button", {
        type: "button", class: "link-button",
        onclick: () => {
          select(index);
          target(error.path)?.querySelector("input, textarea, select")?.focus();
        },
      }, index >= 0 ? t("editor.stepN", { n: index + 1 }) : t("editor.about")), " ",
      h("span", { dir: "auto" }, describe(error)));
    })) : null));
}

// --- preview ----------------------------------------------------------------------------------

function renderPreview() {
  const total = Array.isArray(state.draft.steps) ? state.draft.steps.length : 0;
  const view = state.selected >= 0 ? state.views[state.selected] : null;
  // The projector's frame stays in the page (hidden, never removed: that would reload it).
  els.previewProjector.hidden = !view;
  if (!view) {
    fill(els.previewPhone, h("h2", { class: "section-label" }, t("editor.preview")),
      h("p", { class: "ed-hint" }, state.selected >= 0 ? t("editor.previewBroken") : t("editor.previewPick")));
    return;
  }
  const phone = phonePreview(view, total);
  fill(els.previewPhone,
    h("h2", { class: "section-label" }, t("editor.previewPhone"), " · ", LANGUAGES[state.lang]), phone);
  fit(phone, 390);
  els.projector.show(view, total);
}

/** Scale a fixed-size device screen to the width its column has. */
function fit(frame, width) {
  const apply = () => {
    const scale = Math.min(1, frame.clientWidth / width);
    frame.style.setProperty("--scale", String(scale));
  };
  new ResizeObserver(apply).observe(frame);
  apply();
}

// --- save, save as, download, import, start ---------------------------------------------------

function banner(message, kind = "info", actions = []) {
  const box = $("#ed-banner");
  if (!box) return;
  if (!message) {
    box.hidden = true;
    return;
  }
  fill(box, h("p", { dir: "auto" }, message), actions.length ? h("div", { class: "actions" }, actions) : null);
  box.className = `ed-banner ed-banner-${kind}`;
  box.setAttribute("role", kind === "problem" ? "alert" : "status");
  box.hidden = false;
}

function askKey(retry) {
  const input = h("input", { id: "ed-key", type: "password", class: "ed-input", autocomplete: "off" });
  banner(t("editor.needKey"), "problem", [
    h("label", { for: "ed-key", class: "visually-hidden" }, t("console.adminKey")), input,
    h("button", {
      type: "button", class: "button button-primary",
      onclick: () => {
        api.adminKey.set(input.value);
        banner(null);
        retry();
      },
    }, t("editor.useKey"))]);
  input.focus();
}

async function save(asNew = false) {
  clearTimeout(timer);
  const draft = serialize(state.draft);
  const replacing = !asNew && state.origin && state.origin.id === draft.id;
  const result = await api.saveScenario(draft, replacing ? state.origin.version : null);
  if (result.status === 200 || result.status === 201) {
    state.origin = { id: draft.id, version: result.data.version };
    state.dirty = false;
    state.lines = new Map();
    store.set(SAVED_DRAFT, { draft: state.draft, origin: state.origin, dirty: false }, localStorage);
    history.replaceState(null, "", `#open=${encodeURIComponent(draft.id)}`);
    banner(t("editor.savedAs", { id: draft.id }), "ok");
    announce(t("editor.savedAs", { id: draft.id }));
    renderHead();
    return;
  }
  if (result.status === 401) {
    askKey(() => save(asNew));
    return;
  }
  if (result.status === 422) {
    state.errors = result.data.errors || [];
    showErrors();
    renderSteps();
    renderHead();
    banner(t("editor.fixFirst", { count: state.errors.length }), "problem");
    return;
  }
  if (result.status === 409 && result.data.builtin) {
    state.errors = [{ path: "$.id", line: null, message: t("editor.builtinId") }];
    if (state.selected !== -1) select(-1);
    showErrors();
    banner(t("editor.builtinId"), "problem");
    return;
  }
  if (result.status === 409) {
    // Someone else saved first: keep this draft as it is and let the person choose.
    banner(result.data.error, "problem", [
      h("button", { type: "button", class: "button button-primary", onclick: saveAs }, t("editor.saveAsCopy")),
      state.origin ? h("button", {
        type: "button", class: "button",
        onclick: () => { location.hash = `#open=${encodeURIComponent(state.origin.id)}`; route(); },
      }, t("editor.loadTheirs")) : null]);
    return;
  }
  banner(result.status === 0 ? t("console.offline") : result.data.error || String(result.status), "problem");
}

function saveAs() {
  const input = h("input", { id: "ed-new-id", class: "ed-input ed-id", autocomplete: "off", spellcheck: "false", maxlength: 64 });
  input.value = `${String(state.draft.id || "my-scenario").replace(/-copy(-\d+)?$/, "")}-copy`.slice(0, 64);
  banner(t("editor.saveAsLead"), "info", [
    h("label", { for: "ed-new-id", class: "field-label" }, t("editor.field.id")), input,
    h("button", {
      type: "button", class: "button button-primary", id: "ed-save-as-confirm",
      onclick: () => {
        state.draft.id = input.value.trim();
        renderForm();
        save(true);
      },
    }, t("editor.save")),
    h("button", { type: "button", class: "button button-quiet", onclick: () => banner(null) }, t("editor.cancel"))]);
  input.focus();
  input.select();
}

async function download() {
  const draft = serialize(state.draft);
  const result = await api.draftYaml(draft);
  if (result.status !== 200) {
    banner(result.data?.error || t("console.offline"), "problem");
    return;
  }
  api.saveFile(result.data, `${/^[a-z0-9][a-z0-9-]*$/.test(draft.id || "") ? draft.id : "scenario"}.yaml`);
}

async function importFile() {
  const chosen = els.file.files[0];
  els.file.value = "";
  if (!chosen) return;
  if (chosen.size > 256 * 1024) {
    banner(t("editor.tooLarge", { size: Math.round(chosen.size / 1024) }), "problem");
    return;
  }
  const result = await api.checkFile(await chosen.text(), state.lang);
  if (result.status !== 200) {
    banner(result.data?.error || t("console.offline"), "problem");
    return;
  }
  const { errors, document: doc } = result.data;
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) {
    // Not YAML at all (or not a mapping): nothing to open; say where the file breaks.
    banner(t("editor.importBroken", { name: chosen.name, error: errors.map(describe).join(" · ") }), "problem");
    return;
  }
  start(editable(doc), null, true);
  state.lines = new Map(errors.filter((e) => e.line).map((e) => [e.path, e.line]));
  store.set(SAVED_DRAFT, { draft: state.draft, origin: null, dirty: true }, localStorage);
  history.replaceState(null, "", "#draft");
  banner(errors.length ? t("editor.importedErrors", { name: chosen.name, count: errors.length }) : t("editor.imported", { name: chosen.name }),
    errors.length ? "problem" : "ok");
}

async function startSession() {
  if (!state.origin || state.dirty) return;
  const result = await api.startSession(state.origin.id, state.lang);
  if (result.status === 201) {
    location.href = `/console/#${result.data.session}.${result.data.token}`;
    return;
  }
  if (result.status === 401) {
    askKey(startSession);
    return;
  }
  banner(result.data?.error || t("console.offline"), "problem");
}

await setupPage();
const words = await api.emotionWords(language());
state.words = words.status === 200 ? words.data : [];
window.addEventListener("hashchange", route);
await route();
