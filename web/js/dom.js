// Building the page from script, safely: every piece of scenario or participant text becomes a
// text node. Nothing here ever assigns innerHTML, so text like "<img onerror=...>" stays text.
// Every text node gets French punctuation's unbreakable spaces (typography.js).

import { unbreakablePunctuation } from "./typography.js";

const textNode = (text) => document.createTextNode(unbreakablePunctuation(String(text)));

/**
 * Create an element. `attrs` keys: `class`, `text`, `on<event>` handlers, `dataset`, `style`
 * (an object applied through element.style, which the page's CSP allows), boolean attributes
 * as true/false, and any other attribute as a string. Children may be nodes, strings or arrays;
 * null and false are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = tag.startsWith("svg:")
    ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4))
    : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    else if (key === "text") el.textContent = unbreakablePunctuation(String(value));
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "style") Object.assign(el.style, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : textNode(child));
  }
}

/** Replace all children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const $ = (selector, root = document) => root.querySelector(selector);

/**
 * The scenario Markdown subset: paragraphs (blank lines), line breaks, **bold** and *italic*.
 * Returns a fragment of <p> elements built from text nodes.
 */
export function markdown(text) {
  const fragment = document.createDocumentFragment();
  const paragraphs = String(text || "").replace(/\r\n?/g, "\n").split(/\n\s*\n/);
  for (const paragraph of paragraphs) {
    if (!paragraph.trim()) continue;
    const p = h("p", { dir: "auto" });
    paragraph.trim().split("\n").forEach((line, i) => {
      if (i > 0) p.append(h("br"));
      p.append(...inline(line));
    });
    fragment.append(p);
  }
  return fragment;
}

function inline(line) {
  const nodes = [];
  const pattern = /\*\*(.+?)\*\*|\*(.+?)\*/g;
  let last = 0;
  for (const match of line.matchAll(pattern)) {
    if (match.index > last) nodes.push(textNode(line.slice(last, match.index)));
    nodes.push(match[1] !== undefined ? h("strong", {}, match[1]) : h("em", {}, match[2]));
    last = match.index + match[0].length;
  }
  if (last < line.length) nodes.push(textNode(line.slice(last)));
  return nodes;
}

/** A random id for answer submissions; works on plain-http LAN addresses too (no randomUUID). */
export function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** sessionStorage / localStorage JSON helpers that never throw (private mode, full quota). */
export const store = {
  get(key, fallback = null, area = sessionStorage) {
    try {
      const raw = area.getItem(key);
      return raw === null ? fallback : JSON.parse(raw);
    } catch {
      return fallback;
    }
  },
  set(key, value, area = sessionStorage) {
    try {
      area.setItem(key, JSON.stringify(value));
    } catch {
      /* storage full or disabled: the page still works, it just forgets on refresh */
    }
  },
  remove(key, area = sessionStorage) {
    try {
      area.removeItem(key);
    } catch {
      /* as above */
    }
  },
};

/** Announce a message to screen readers through the page's polite live region. */
export function announce(message) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  // A fresh text node after a tick makes screen readers announce a repeated message again.
  setTimeout(() => { region.textContent = message; }, 50);
}
