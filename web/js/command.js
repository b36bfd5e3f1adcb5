// The facilitator's hand on a running session, shared by the console (console.js) and the phone
// remote (remote.js): sending a command and the toast that says when it did not go, the commands
// and labels of the open/close and reveal/hide toggles, how a step is named and its notes shown,
// and the panel for a link that no longer opens a session. Both pages send the same commands,
// so a remote and a console on one session never disagree about what a button does.

import { $, h, randomId } from "./dom.js";
import { t } from "./i18n.js";

let toastTimer;

/** A short message over the page for five seconds (the console's and the remote's #toast). */
function toast(text) {
  const box = $("#toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 5000);
}

/**
 * A `command(type, extra)` that sends a facilitator command on `current()`'s connection, or says
 * in a toast that it could not (commands are not kept for later: the room has moved on by then).
 * @param {() => import("./live.js").Live} current
 */
export function commander(current) {
  return (type, extra = {}) => {
    if (!current().send({ type, ref: randomId(), ...extra })) toast(t("console.notConnected"));
  };
}

/** A refused command, in words: every error code has a message (tests/web/test_i18n.py). */
export function refusal(message) {
  if (message.type === "error") toast(t(`error.${message.code}`));
}

export const openCommand = (state) => (state.responses_open ? "close" : "open");
export const openLabel = (state) => t(state.responses_open ? "console.close" : "console.open");
export const revealCommand = (state) => (state.revealed ? "hide_results" : "reveal");
export const revealLabel = (state) => t(state.revealed ? "console.hide" : "console.reveal");

/** "Step 2 of 8 · Check-in". */
export function stepProgress(step, state) {
  return [t("common.stepOf", { n: step.index + 1, total: state.step_count }), " · ", t(`kind.${step.kind}`)];
}

/** A step's name: its title, else its prompt, else its kind. */
export const stepName = (step) => step.title || step.prompt || t(`kind.${step.kind}`);

/** The facilitator's notes, a paragraph a line. */
export const noteLines = (text) => text.split(/\n+/).map((line) => h("p", { dir: "auto" }, line));

/** "Title · CODE · Page" in the tab once the session is known, else the page's own title. */
export function tabTitle(state, page, untitled = page) {
  document.title = state.code ? `${state.title} · ${state.code} · ${page}` : untitled;
}

/** The page for a link that opens no session (deleted, expired, or a token revoked). */
export function sessionNotFound(lead, ...more) {
  return h("section", { class: "panel" }, h("h1", {}, t("console.notFound")), h("p", {}, lead), ...more);
}
