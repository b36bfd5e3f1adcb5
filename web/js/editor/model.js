// The editor's model: a scenario draft as plain data in the file format's own shape, the fields
// each step kind has, and pure functions over drafts. No DOM here (only kindName reads the
// interface's messages), so the rules can be read apart from the page. Text a participant reads
// is kept as { en, fr, zh } while editing; `serialize` drops the empty translations, so the
// server's checker says what is missing.

import { t } from "../i18n.js";

export const LANGS = ["en", "fr", "zh"];

/** A step kind's name; kinds newer than the interface's messages fall back to the editor's. */
export function kindName(kind) {
  const key = `kind.${kind}`;
  const name = t(key);
  if (name !== key) return name;
  const own = t(`editor.kind.${kind}`);
  return own === `editor.kind.${kind}` ? String(kind) : own;
}
export const AUDIENCES = ["classroom", "workshop", "remote-team"];

const title = { name: "title", type: "text" };
const stepId = { name: "id", type: "stepid" };
const assigned = [{ name: "characters", type: "charlist" }, { name: "assign", type: "assign" }];
const notes = { name: "notes", type: "text", multiline: true };
const prompt = { name: "prompt", type: "text", required: true, multiline: true };
const predict = { name: "predict", type: "predict" };

/**
 * The fields of every step kind, in the order the form shows them. Types: text (translated),
 * string, int, float, bool, words (emotion words), options, characters, character (the name of
 * a character from an earlier story), predict (an optional guess prompt). A kind added to the
 * format later but not listed here still opens: its fields are kept and shown as "other fields".
 */
export const KINDS = {
  story: [title, { name: "text", type: "text", required: true, multiline: true, rows: 6 },
    { name: "characters", type: "characters" }, { name: "image", type: "string" }, stepId, notes],
  checkin: [title, prompt, { name: "words", type: "words" },
    { name: "intensity", type: "bool", default: true }, predict,
    { name: "compare", type: "stepref" }, ...assigned, stepId, notes],
  scale: [title, prompt, { name: "min", type: "int", default: 1 }, { name: "max", type: "int", default: 5 },
    { name: "min_label", type: "text" }, { name: "max_label", type: "text" }, predict,
    { name: "compare", type: "stepref" }, stepId, notes],
  choice: [title, prompt, { name: "options", type: "options" },
    { name: "multiple", type: "bool", default: false }, predict, stepId, notes],
  perspective: [title, prompt, { name: "character", type: "character" },
    { name: "max_length", type: "int", default: 280, min: 10, max: 1000 },
    { name: "themes", type: "bool", default: false }, ...assigned, stepId, notes],
  breathe: [title, { name: "prompt", type: "text", multiline: true },
    { name: "inhale", type: "float", default: 4 }, { name: "hold_in", type: "float", default: 0 },
    { name: "exhale", type: "float", default: 6 }, { name: "hold_out", type: "float", default: 0 },
    { name: "cycles", type: "int", default: 5 }, notes],
  timer: [title, prompt, { name: "seconds", type: "int", required: true, default: 120 }, notes],
  reflect: [title, prompt, notes],
  groups: [title, { name: "prompt", type: "text", multiline: true },
    { name: "size", type: "int", required: true, default: 2, min: 2, max: 7 },
    { name: "leftover", type: "select", values: ["join", "own"], default: "join" },
    { name: "roles", type: "roles" },
    { name: "rounds", type: "int", default: 1, min: 1, max: 12 },
    { name: "seconds", type: "int", required: true, default: 180, min: 10, max: 3600 },
    { name: "rotate", type: "bool", default: true },
    { name: "debrief", type: "debrief" },
    { name: "remote", type: "text", multiline: true }, notes],
};

/** The fields inside list items and nested parts, for the generic walk below. */
export const PARTS = {
  options: [{ name: "label", type: "text", required: true }, { name: "id", type: "string" }],
  characters: [{ name: "name", type: "text", required: true }, { name: "description", type: "text" },
    { name: "id", type: "string" }],
  roles: [{ name: "id", type: "string" }, { name: "name", type: "text", required: true },
    { name: "prompt", type: "text", required: true, multiline: true }, { name: "checklist", type: "lines" },
    { name: "note", type: "text" }],
  predict: [{ name: "prompt", type: "text", required: true }],
};
const LISTS = new Set(["options", "characters", "roles"]);
export const DEBRIEF_KINDS = ["scale", "choice"];

export const SCENARIO_FIELDS = [
  { name: "title", type: "text", required: true },
  { name: "summary", type: "text", required: true, multiline: true },
  { name: "id", type: "id", required: true },
  { name: "audience", type: "audience" },
  { name: "duration_minutes", type: "int", required: true, default: 15 },
  { name: "languages", type: "languages" },
  { name: "notes", type: "text", multiline: true },
  { name: "help", type: "text", multiline: true },
];

/**
 * Call `visit(container, key, spec, path)` for every translated text in `holder` read by `specs`
 * (list items, a guess prompt, a debrief question and checklist lines included), whether it
 * has words yet or not. Values of the wrong shape are passed over: the checker names them.
 */
export function walkTexts(holder, specs, path, visit) {
  if (!holder || typeof holder !== "object" || Array.isArray(holder)) return;
  for (const spec of specs) {
    const value = holder[spec.name];
    const at = `${path}.${spec.name}`;
    if (spec.type === "text") visit(holder, spec.name, spec, at);
    else if (spec.type === "lines" && Array.isArray(value)) {
      value.forEach((_, i) => visit(value, i, { name: spec.name, required: true }, `${at}[${i}]`));
    } else if (LISTS.has(spec.type) && Array.isArray(value)) {
      value.forEach((item, i) => walkTexts(item, PARTS[spec.type], `${at}[${i}]`, visit));
    } else if (spec.type === "predict" && value) walkTexts(value, PARTS.predict, at, visit);
    else if (spec.type === "debrief" && value && KINDS[value.kind]) walkTexts(value, KINDS[value.kind], at, visit);
  }
}

/** Every step of the draft with its fields, and the scenario itself, for walks over texts. */
function* parts(draft) {
  yield [draft, SCENARIO_FIELDS, "$"];
  const steps = Array.isArray(draft.steps) ? draft.steps : [];
  for (const [index, step] of steps.entries()) {
    if (step && typeof step === "object" && KINDS[step.kind]) yield [step, KINDS[step.kind], `$.steps[${index}]`];
  }
}

/** A new step of a kind, with what it needs to be valid but the words. */
export function newStep(kind) {
  const step = { kind };
  for (const field of KINDS[kind] || []) {
    if (field.type === "text" && field.required) step[field.name] = {};
    else if (field.required && field.default !== undefined) step[field.name] = field.default;
  }
  if (kind === "choice") step.options = [{ id: "a", label: {} }, { id: "b", label: {} }];
  if (kind === "groups") {
    step.roles = [{ id: "speaker", name: {}, prompt: {} }, { id: "listener", name: {}, prompt: {} }];
  }
  return step;
}

export function blank() {
  return {
    id: "", title: {}, summary: {}, audience: ["workshop"], duration_minutes: 15,
    languages: ["en"], steps: [],
  };
}

/** A scenario from the server or a file, made editable: every text becomes { lang: text }. */
export function editable(document) {
  const draft = structuredClone(document && typeof document === "object" && !Array.isArray(document) ? document : {});
  const languages = (Array.isArray(draft.languages) && draft.languages.length ? draft.languages : ["en"]).filter((l) => LANGS.includes(l));
  if (draft.steps === undefined) draft.steps = [];
  for (const [holder, specs, path] of parts(draft)) {
    walkTexts(holder, specs, path, (container, key) => {
      if (typeof container[key] === "string") {
        const text = container[key];
        container[key] = Object.fromEntries(languages.map((l) => [l, text]));
      }
    });
  }
  return draft;
}

function cleanText(value) {
  if (!value || typeof value !== "object" || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => typeof v !== "string" || v.trim() !== ""));
}

const isEmptyText = (value) => value && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0;

/** The draft as the file format wants it: empty translations dropped, empty optional texts
 * removed (a required one stays, empty, so the checker names it). */
export function serialize(draft) {
  const out = structuredClone(draft);
  for (const [holder, specs, path] of parts(out)) {
    walkTexts(holder, specs, path, (container, key, spec) => {
      if (!(key in container)) return;
      container[key] = cleanText(container[key]);
      if (!spec.required && isEmptyText(container[key])) delete container[key];
    });
  }
  return out;
}

function hasAny(value) {
  if (typeof value === "string") return value.trim() !== "";
  return !!value && typeof value === "object" && Object.values(value).some((v) => typeof v === "string" && v.trim());
}

/** Every translated text of the draft that should have words, with its path. */
export function texts(draft) {
  const found = [];
  for (const [holder, specs, path] of parts(draft)) {
    walkTexts(holder, specs, path, (container, key, spec, at) => {
      if (spec.required || hasAny(container[key])) found.push([at, container[key]]);
    });
  }
  return found;
}

/** Paths of the texts that have no words in `lang` (a plain string counts for every language). */
export function missing(draft, lang) {
  const found = [];
  for (const [path, value] of texts(draft)) {
    if (typeof value === "string") continue;
    const words = value && typeof value === "object" ? value[lang] : "";
    if (typeof words !== "string" || !words.trim()) found.push(path);
  }
  return found;
}

/** Move the step at `from` to `to` (both indexes in the current list); returns the new list. */
export function move(steps, from, to) {
  const list = [...steps];
  if (from < 0 || from >= list.length || to < 0 || to >= list.length) return list;
  const [step] = list.splice(from, 1);
  list.splice(to, 0, step);
  return list;
}

/** Characters from story steps before `index`: how steps name them (their id, else the
 * English name) and the name to show. */
export function charactersBefore(draft, index) {
  const found = [];
  for (const step of (Array.isArray(draft.steps) ? draft.steps : []).slice(0, index)) {
    if (step?.kind !== "story" || !Array.isArray(step.characters)) continue;
    for (const c of step.characters) {
      const name = typeof c?.name === "string" ? c.name : c?.name?.en || Object.values(c?.name || {})[0];
      const key = c?.id || name;
      if (key && !found.some((f) => f.key === key)) found.push({ key, name: name || key });
    }
  }
  return found;
}

/** Ids of earlier steps of the same kind, for `compare:`. */
export function stepsBefore(draft, index, kind) {
  return (Array.isArray(draft.steps) ? draft.steps : []).slice(0, index)
    .filter((step) => step?.kind === kind && typeof step.id === "string" && step.id).map((step) => step.id);
}

/** An id from a title: lower-case letters, digits and dashes, as the format requires. */
export function slug(text) {
  const base = String(text || "").normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
    .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 48);
  return base || "my-scenario";
}

/** The step index an error path points into, or -1 for the scenario's own fields. */
export function stepOf(path) {
  const match = /^\$\.steps\[(\d+)\]/.exec(path);
  return match ? Number(match[1]) : -1;
}

/** Read and write a draft by error path ($.steps[2].options[0].label). */
export function parsePath(path) {
  const parts = [];
  for (const match of String(path).replace(/^\$/, "").matchAll(/\.([^.[\]]+)|\[(\d+)\]/g)) {
    parts.push(match[1] !== undefined ? match[1] : Number(match[2]));
  }
  return parts;
}
