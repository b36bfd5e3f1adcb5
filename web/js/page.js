// How every page starts: the interface language and its switch in the top bar, the calm
// connection banner, and, for the live pages (console, projector, phone, remote), one way to open
// the live connection and to follow the join code in the URL fragment.
//
// A live page mirrors where it is on <body> as data- attributes, the one place tests (and anyone
// with the inspector open) read the page's state from, instead of reaching into its modules:
//   data-connection  connecting | open | reconnecting | failed
//   data-status      lobby | running | ended
//   data-step        the current step's index (0-based), absent outside a step
//   data-epoch       the session's epoch, which survives a server restart
//   data-resumed     replay | snapshot: how the last welcome caught this page up
// docs/ui.md ("What tests read") says the same.

import { $, announce, fill } from "./dom.js";
import { initI18n, languageSwitch, t } from "./i18n.js";
import { Live } from "./live.js";
import { codeFromHash } from "./codes.js";

export async function setupPage() {
  await initI18n();
  const slot = $("#language-slot");
  if (slot) fill(slot, languageSwitch());
}

let lastStatus = "open";

/** Show the connection state; "reconnecting" is calm and says that nothing is lost. */
export function showConnection(status) {
  const banner = $("#connection");
  if (!banner) return;
  document.body.dataset.connection = status;
  if (status === "reconnecting") {
    fill(banner, `${t("connection.reconnecting")} `, t("connection.kept"));
    banner.hidden = false;
  } else if (status === "connecting") {
    fill(banner, t("connection.connecting"));
    banner.hidden = false;
  } else {
    banner.hidden = true;
    if (lastStatus === "reconnecting" && status === "open") announce(t("connection.back"));
  }
  lastStatus = status;
}

/** Write the page's live state on <body> (see the top of this file). */
function mirror(live) {
  const data = document.body.dataset;
  data.status = live.state.status;
  if (live.state.status === "running" && live.state.step) data.step = String(live.state.step.index);
  else delete data.step;
  if (live.epoch) data.epoch = live.epoch;
  if (live.lastWelcome) data.resumed = live.lastWelcome.replay ? "replay" : "snapshot";
}

/**
 * A live connection for this page, not yet connected (call `connect()`). Every status shows in the
 * banner; a refusal that retrying cannot help ("failed") is the page's own to draw, with
 * `onFailed(live)`, and the banner then steps aside.
 * @param {object} options Live's options (role, code, session, token, onMessage), plus
 * @param {(live: Live) => void} options.onFailed
 * @param {(status: string, live: Live) => void} [options.onStatus] after the banner, for the others
 */
export function openLive({ onMessage, onFailed, onStatus, ...options }) {
  return new Live({
    ...options,
    onMessage: (message, live) => {
      onMessage(message, live);
      mirror(live);
    },
    onStatus: (status, live) => {
      if (status === "failed") {
        onFailed(live);
        showConnection("open");
      } else {
        showConnection(status);
        onStatus?.(status, live);
      }
      mirror(live);
    },
  });
}

/**
 * Follow the join code in the URL fragment: `open(code)` for the code there now and for each new
 * one, `ask()` when the page opens without one. `current()` is the code the page shows.
 */
export function followCode({ current, open, ask }) {
  window.addEventListener("hashchange", () => {
    const wanted = codeFromHash(location.hash);
    if (wanted && wanted !== current()) open(wanted);
  });
  const initial = codeFromHash(location.hash);
  if (initial) open(initial);
  else ask();
}
