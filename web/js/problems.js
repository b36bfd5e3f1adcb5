// A scenario's mistakes in the page's language. The server sends each one as a stable code with
// its parameters (server/attune/core/scenario_problems.py) as well as an English `message`; the
// words are `scenario.CODE` in web/i18n/*.json. A code this page has no words for (a newer
// server) shows the English message rather than a key.

import { formatList, language, t } from "./i18n.js";

/** Parameters that hold a msgspec type ("str | object"), worded as "text or a set of fields". */
const TYPES = new Set(["expected", "got"]);

function typeWords(value) {
  return String(value).split(" | ").map((part) => {
    const key = `scenario.type.${part}`;
    const words = t(key);
    return words === key ? part : words;
  }).join(t("scenario.type.or"));
}

/** A language code as its name in the page's language: "fr" is "French", « français », 法语. */
export function languageName(code) {
  try {
    return new Intl.DisplayNames([language()], { type: "language" }).of(code) || code;
  } catch {
    return code;
  }
}

function worded(code, name, value) {
  if (TYPES.has(name)) return typeWords(value);
  // A language the scenario uses reads as its name; one it does not know stays as typed.
  const names = name === "languages" || (name === "language" && code !== "unknown-language");
  if (Array.isArray(value)) {
    return value.length ? formatList(names ? value.map(languageName) : value) : t("scenario.type.none");
  }
  return names ? languageName(value) : value;
}

/** One mistake (`{code, params, message}` from the check API) as a sentence for this page. */
export function problemText(error) {
  const key = `scenario.${error.code}`;
  if (!error.code || t(key) === key) return error.message;
  const vars = {};
  for (const [name, value] of Object.entries(error.params || {})) vars[name] = worded(error.code, name, value);
  return t(key, vars);
}

/** A mistake's sentence with the file's line, if known. Chinese puts no space after "。". */
export function problemAt(error, line = error.line) {
  const text = problemText(error);
  if (!line) return text;
  return `${text}${language() === "zh" ? "" : " "}${t("editor.atLine", { line })}`;
}
