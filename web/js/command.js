// The facilitator's hand on a running session, shared by the console (console.js) and the phone
// remote (remote.js): sending a command and the toast that says when it did not go, the commands
// and labels of the open/close and reveal/hide toggles, how a step is named and its notes shown,
// and the panel for a link that no longer opens a session. Both pages send the same commands,
// so a remote and a console on one session never disagree about what a button does.

import { $, h, randomId } from "./dom.js";
import { t } from "./i18n.js";

let toastTimer;

function hideToast() {
  clearTimeout(toastTimer);
  $("#toast").hidden = true;
}

/** A short message over the page for five seconds (the console's and the remote's #toast). */
function toast(text) {
  const box = $("#toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 5000);
}

/**
 * Commands that pace the room, which wait for a page that is rejoining (a console just reloaded
 * shows its saved step at once, before the server has answered, and a presenter's clicker is
 * pressed in that second). Each is sent once the page has caught up, and only if the step, its
 * open and revealed state, the join overlay and the clock are as they were when it was pressed:
 * "next" pressed on step 3 never skips step 4 because another device moved on meanwhile. Not
 * queued: `end` (asked twice, on what is seen now), `start` and the moderation of cards
 * (decided on the cards on screen, which the rejoin may change).
 */
const PACING = new Set(["next", "back", "goto", "open", "close", "reveal", "hide_results",
  "show_join", "pause_clock", "resume_clock", "extend_clock"]);

/** What a pacing command was pressed on: the session where the room is. */
const pace = (state) => JSON.stringify([state.status, state.step?.index, state.responses_open,
  state.revealed, state.join_shown, state.clock?.deadline == null, Boolean(state.clock)]);

/**
 * A `command(type, extra)` that sends a facilitator command on `current()`'s connection. While
 * the page is rejoining, a pacing command waits for it (above); any other command, or one that
 * no longer applies once rejoined, is said in a toast not to have gone (commands are not kept
 * for later: the room has moved on by then).
 * @param {() => import("./live.js").Live} current
 */
export function commander(current) {
  return (type, extra = {}) => {
    const live = current();
    const message = { type, ref: randomId(), ...extra };
    if (!PACING.has(type) || !live.state.session) {
      if (!live.send(message)) toast(t("console.notConnected"));
      return;
    }
    const pressed = pace(live.state);
    const sent = live.sendWhenJoined(message, (state) => pace(state) === pressed, {
      onSent: hideToast, onDropped: () => toast(t("console.movedOn")),
    });
    if (sent === "waiting") toast(t("console.waitingToSend"));
    else if (sent === "lost") toast(t("console.notConnected"));
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
