// Interface language: English, French or Chinese, picked from the browser and switchable.
// Messages live in /i18n/{lang}.json, flat keys; a message may be {"one": ..., "other": ...}
// chosen with Intl.PluralRules on the `count` variable. Numbers in messages are formatted with
// Intl.NumberFormat for the language, so 3.5 reads "3,5" in French.

import { h } from "./dom.js";
import { unbreakablePunctuation } from "./typography.js";

export const LANGUAGES = { en: "English", fr: "Français", zh: "中文" };
const STORAGE_KEY = "attune:lang";

let lang = "en";
let messages = {};
let fallback = {};

export function pickLanguage() {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved in LANGUAGES) return saved;
  } catch {
    /* storage disabled: use the browser's language */
  }
  for (const wanted of navigator.languages || [navigator.language || "en"]) {
    const base = String(wanted).toLowerCase().split("-")[0];
    if (base in LANGUAGES) return base;
  }
  return "en";
}

async function load(code) {
  const response = await fetch(`/i18n/${code}.json`);
  if (!response.ok) throw new Error(`missing messages for ${code}`);
  return response.json();
}

/** Load the messages once, before the page renders. */
export async function initI18n() {
  lang = pickLanguage();
  fallback = await load("en");
  messages = lang === "en" ? fallback : await load(lang).catch(() => fallback);
  document.documentElement.lang = lang === "zh" ? "zh-Hans" : lang;
  translateStatic(document);
  return lang;
}

export const language = () => lang;

/** The translated message for `key`, with {name} placeholders filled from `vars`. */
export function t(key, vars = {}) {
  let message = messages[key] ?? fallback[key] ?? key;
  if (typeof message === "object") {
    const rule = new Intl.PluralRules(lang).select(Number(vars.count ?? 0));
    message = message[rule] ?? message.other;
  }
  return unbreakablePunctuation(message.replace(/\{(\w+)\}/g, (whole, name) => {
    if (!(name in vars)) return whole;
    const value = vars[name];
    return typeof value === "number" ? formatNumber(value) : String(value);
  }));
}

export function formatNumber(value, options = { maximumFractionDigits: 1 }) {
  return new Intl.NumberFormat(lang, options).format(value);
}

export function formatPercent(share) {
  return new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 0 }).format(share);
}

/** "a, b and c" in the page's language. ("unit" lists would run Chinese items together.) */
export function formatList(items) {
  return new Intl.ListFormat(lang, { type: "conjunction" }).format(items);
}

export function formatDate(ms) {
  return new Intl.DateTimeFormat(lang, { dateStyle: "long", timeStyle: "short" }).format(new Date(ms));
}

/** Fill elements marked data-i18n="key" (text) and data-i18n-attr="attr:key;attr:key". */
export function translateStatic(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of el.dataset.i18nAttr.split(";")) {
      const [attr, key] = pair.split(":");
      el.setAttribute(attr.trim(), t(key.trim()));
    }
  }
  const title = root.querySelector("title[data-i18n]");
  if (title) document.title = title.textContent;
}

/** A labelled <select> that switches the interface language and reloads the page in place. */
export function languageSwitch() {
  const id = "language-switch";
  const select = h(
    "select",
    {
      id,
      class: "language-switch",
      onchange: () => {
        try {
          localStorage.setItem(STORAGE_KEY, select.value);
        } catch {
          /* cannot remember the choice; it still applies to this load */
        }
        location.reload();
      },
    },
    Object.entries(LANGUAGES).map(([code, name]) =>
      h("option", { value: code, lang: code, selected: code === lang }, name)),
  );
  return h("span", { class: "language" },
    h("label", { for: id, class: "visually-hidden" }, t("common.language")), select);
}
