// Keyboard shortcuts for every action on the console's toolbar, and the `?` overlay that lists
// them. One table says which key does what; the console supplies what each action does and
// whether it applies now, so the overlay never lists a key that would do nothing.

import { announce, h } from "./dom.js";
import { t } from "./i18n.js";

/**
 * The console's shortcuts: [keys, label key, action name]. Keys are KeyboardEvent.key values;
 * the first one is the one shown.
 */
export const SHORTCUTS = [
  [["ArrowRight", "PageDown", "n"], "console.next", "next"],
  [["ArrowLeft", "PageUp", "b"], "console.back", "back"],
  [["o"], "shortcuts.open", "toggleOpen"],
  [["r"], "shortcuts.reveal", "toggleReveal"],
  [["a"], "shortcuts.approveAll", "approveAll"],
  [["t"], "shortcuts.pauseClock", "toggleClock"],
  [["+", "="], "shortcuts.moreTime", "moreTime"],
  [["p"], "console.projector", "projector"],
  [["j"], "shortcuts.join", "toggleJoin"],
  [["l"], "sessions.linkButton", "link"],
  [["e"], "shortcuts.end", "end"],
  [["?"], "shortcuts.help", "help"],
];

const SHOWN = { ArrowRight: "→", ArrowLeft: "←" };

/** Run the action bound to this key, if any applies; returns true when one ran. */
export function handleKey(event, actions) {
  if (event.altKey || event.ctrlKey || event.metaKey) return false;
  if (event.target.closest?.("input, textarea, select, [contenteditable]")) return false;
  if (event.key === "Escape") return false;
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  const found = SHORTCUTS.find(([keys]) => keys.includes(key) || keys.includes(event.key));
  if (!found) return false;
  const [, label, name] = found;
  const action = name === "help" ? () => showHelp(actions) : actions[name];
  if (!action || (actions.applies && !actions.applies(name))) return false;
  event.preventDefault();
  action();
  if (name !== "help") announce(t(label));
  return true;
}

/** The `?` overlay: every shortcut that applies now, in a dialog that Escape closes. */
export function showHelp(actions) {
  document.getElementById("shortcuts-help")?.remove();
  const rows = SHORTCUTS
    .filter(([, , name]) => name === "help" || (actions[name] && (!actions.applies || actions.applies(name))))
    .map(([keys, label]) => h("tr", {},
      h("td", {}, keys.filter((k) => k.length === 1 || SHOWN[k]).map((k) => h("kbd", {}, SHOWN[k] || k.toUpperCase()))),
      h("td", {}, t(label))));
  const dialog = h("dialog", { id: "shortcuts-help", class: "link-dialog shortcuts-help", "aria-labelledby": "shortcuts-title" },
    h("h2", { id: "shortcuts-title" }, t("shortcuts.title")),
    h("table", { class: "shortcuts-table" }, h("tbody", {}, rows)),
    h("form", { method: "dialog" }, h("button", { type: "submit", class: "button button-primary" }, t("sessions.close"))));
  document.body.append(dialog);
  dialog.showModal();
}

/** The `aria-keyshortcuts` value of an action, so assistive technology can announce it. */
export function keysOf(name) {
  const found = SHORTCUTS.find(([, , n]) => n === name);
  return found ? found[0].filter((k) => k.length > 1 || !"?+".includes(k)).join(" ") : null;
}
