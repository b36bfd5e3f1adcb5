// The editor's model: a scenario draft as plain data in the file format's own shape, the fields
// each step kind has, and pure functions over drafts. No DOM here, so the rules can be read (and
// tested) apart from the page. Text a participant reads is kept as { en, fr, zh } while editing;
// `serialize` drops the empty translations, so the server's checker says what is missing.

export const LANGS = ["en", "fr", "zh"];
export const AUDIENCES = ["classroom", "workshop", "remote-team"];

const title = { name: "title", type: "text" };
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
    { name: "characters", type: "characters" }, { name: "image", type: "string" }, notes],
  checkin: [title, prompt, { name: "words", type: "words" },
    { name: "intensity", type: "bool", default: true }, predict, notes],
  scale: [title, prompt, { name: "min", type: "int", default: 1 }, { name: "max", type: "int", default: 5 },
    { name: "min_label", type: "text" }, { name: "max_label", type: "text" }, predict, notes],
  choice: [title, prompt, { name: "options", type: "options" },
    { name: "multiple", type: "bool", default: false }, predict, notes],
  perspective: [title, prompt, { name: "character", type: "character" },
    { name: "max_length", type: "int", default: 280, min: 10, max: 1000 }, notes],
  breathe: [title, { name: "prompt", type: "text", multiline: true },
    { name: "inhale", type: "float", default: 4 }, { name: "hold_in", type: "float", default: 0 },
    { name: "exhale", type: "float", default: 6 }, { name: "hold_out", type: "float", default: 0 },
    { name: "cycles", type: "int", default: 5 }, notes],
  timer: [title, prompt, { name: "seconds", type: "int", required: true, default: 120 }, notes],
  reflect: [title, prompt, notes],
};

export const SCENARIO_FIELDS = [
  { name: "title", type: "text", required: true },
  { name: "summary", type: "text", required: true, multiline: true },
  { name: "id", type: "id", required: true },
  { name: "audience", type: "audience" },
  { name: "duration_minutes", type: "int", required: true, default: 15 },
  { name: "languages", type: "languages" },
  { name: "notes", type: "text", multiline: true },
];

const TEXTS = new Set(["text"]);

/** A new step of a kind, with what it needs to be valid but the words. */
export function newStep(kind) {
  const step = { kind };
  for (const field of KINDS[kind] || []) {
    if (field.type === "text" && field.required) step[field.name] = {};
    else if (field.required && field.default !== undefined) step[field.name] = field.default;
  }
  if (kind === "choice") step.options = [{ id: "a", label: {} }, { id: "b", label: {} }];
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
  const languages = Array.isArray(draft.languages) && draft.languages.length ? draft.languages : ["en"];
  const spread = (value) => (typeof value === "string"
    ? Object.fromEntries(languages.filter((l) => LANGS.includes(l)).map((l) => [l, value]))
    : value);
  for (const field of SCENARIO_FIELDS) if (TEXTS.has(field.type) && field.name in draft) draft[field.name] = spread(draft[field.name]);
  if (!Array.isArray(draft.steps)) draft.steps = draft.steps === undefined ? [] : draft.steps;
  if (Array.isArray(draft.steps)) {
    draft.steps = draft.steps.map((step) => {
      if (!step || typeof step !== "object" || Array.isArray(step)) return step;
      for (const field of KINDS[step.kind] || []) {
        if (field.type === "text" && field.name in step) step[field.name] = spread(step[field.name]);
        if (field.type === "predict" && step.predict && typeof step.predict === "object") {
          step.predict.prompt = spread(step.predict.prompt);
        }
        if (field.type === "options" && Array.isArray(step.options)) {
          for (const option of step.options) if (option && typeof option === "object") option.label = spread(option.label);
        }
        if (field.type === "characters" && Array.isArray(step.characters)) {
          for (const c of step.characters) {
            if (!c || typeof c !== "object") continue;
            c.name = spread(c.name);
            if ("description" in c) c.description = spread(c.description);
          }
        }
      }
      return step;
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
  const tidy = (holder, field) => {
    if (!(field.name in holder)) return;
    if (field.type === "text") {
      holder[field.name] = cleanText(holder[field.name]);
      if (!field.required && isEmptyText(holder[field.name])) delete holder[field.name];
    }
  };
  for (const field of SCENARIO_FIELDS) tidy(out, field);
  if (Array.isArray(out.steps)) {
    for (const step of out.steps) {
      if (!step || typeof step !== "object") continue;
      for (const field of KINDS[step.kind] || []) {
        tidy(step, field);
        if (field.type === "predict" && step.predict && typeof step.predict === "object") {
          step.predict.prompt = cleanText(step.predict.prompt);
        }
        if (field.type === "options" && Array.isArray(step.options)) {
          for (const o of step.options) if (o && typeof o === "object") o.label = cleanText(o.label);
        }
        if (field.type === "characters" && Array.isArray(step.characters)) {
          for (const c of step.characters) {
            if (!c || typeof c !== "object") continue;
            c.name = cleanText(c.name);
            if ("description" in c) {
              c.description = cleanText(c.description);
              if (isEmptyText(c.description)) delete c.description;
            }
          }
        }
      }
    }
  }
  return out;
}

/** Every translated text of the draft with its path, to mark what each language lacks. */
export function* texts(draft) {
  for (const field of SCENARIO_FIELDS) {
    if (field.type === "text" && (field.required || hasAny(draft[field.name]))) yield [`$.${field.name}`, draft[field.name]];
  }
  const steps = Array.isArray(draft.steps) ? draft.steps : [];
  for (const [index, step] of steps.entries()) {
    if (!step || typeof step !== "object") continue;
    const at = `$.steps[${index}]`;
    for (const field of KINDS[step.kind] || []) {
      const value = step[field.name];
      if (field.type === "text" && (field.required || hasAny(value))) yield [`${at}.${field.name}`, value];
      if (field.type === "predict" && value && typeof value === "object") yield [`${at}.predict.prompt`, value.prompt];
      if (field.type === "options" && Array.isArray(value)) {
        for (const [i, o] of value.entries()) yield [`${at}.options[${i}].label`, o?.label];
      }
      if (field.type === "characters" && Array.isArray(value)) {
        for (const [i, c] of value.entries()) {
          yield [`${at}.characters[${i}].name`, c?.name];
          if (hasAny(c?.description)) yield [`${at}.characters[${i}].description`, c.description];
        }
      }
    }
  }
}

function hasAny(value) {
  if (typeof value === "string") return value.trim() !== "";
  return !!value && typeof value === "object" && Object.values(value).some((v) => typeof v === "string" && v.trim());
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

/** Names of characters from story steps before `index`, in the draft's first language. */
export function charactersBefore(draft, index) {
  const names = [];
  for (const step of (draft.steps || []).slice(0, index)) {
    if (step?.kind !== "story" || !Array.isArray(step.characters)) continue;
    for (const c of step.characters) {
      const name = typeof c?.name === "string" ? c.name : c?.name?.en || Object.values(c?.name || {})[0];
      if (name && !names.includes(name)) names.push(name);
    }
  }
  return names;
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
