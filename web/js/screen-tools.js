// The projector's own controls, for whoever stands at the projector's computer: full screen
// (F) and a join overlay with the QR code and the code (Q), on steps whose layout has no join
// strip; and the tab title, so two projectors are told apart. Escape closes the overlay. The
// buttons show only while the mouse moves; the keys always work.

import { $, h } from "./dom.js";
import { t } from "./i18n.js";
import { joinUrl, qrSvg } from "./qr.js";

function toggleFullscreen() {
  if (document.fullscreenElement) document.exitFullscreen?.();
  else document.documentElement.requestFullscreen?.().catch(() => {});
}

function toggleJoin(code) {
  const open = $("#join-overlay");
  if (open) {
    open.remove();
    return;
  }
  if (!code) return;
  const url = joinUrl(code);
  document.body.append(h("div", { id: "join-overlay", class: "join-overlay", role: "dialog", "aria-label": t("screen.showJoin") },
    h("div", {}, qrSvg(url, t("common.qrLabel", { url }))),
    h("div", {},
      h("p", { class: "join-overlay-at" }, t("common.joinAt", { host: `${location.host}/join` })),
      h("p", { class: "join-overlay-code" }, code)),
    h("button", { type: "button", class: "button join-overlay-close", onclick: () => toggleJoin(code) }, t("screen.hideJoin"))));
}

let current = () => ({});
let installed = false;

/** Add the buttons to the projector's top bar and the F / Q / Escape keys (once per page). */
export function installScreenTools(state) {
  current = state;
  if (installed) return;
  installed = true;
  // Over the projector's corner, not in its top bar (hidden while a step runs): shown while the
  // mouse moves, so the room never sees them otherwise.
  document.body.append(h("div", { id: "screen-tools", class: "screen-tools" },
    h("button", { type: "button", class: "button screen-join-button", "aria-keyshortcuts": "q", onclick: () => toggleJoin(current().code) }, t("screen.showJoin")),
    h("button", { type: "button", class: "button screen-fullscreen", "aria-keyshortcuts": "f", onclick: toggleFullscreen }, t("screen.fullscreen"))));
  let still;
  document.addEventListener("pointermove", () => {
    document.body.classList.add("pointer-moving");
    clearTimeout(still);
    still = setTimeout(() => document.body.classList.remove("pointer-moving"), 3000);
  });
  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || event.target.closest?.("input, select, textarea")) return;
    if (event.key === "f" || event.key === "F") toggleFullscreen();
    else if (event.key === "q" || event.key === "Q") toggleJoin(current().code);
    else if (event.key === "Escape") $("#join-overlay")?.remove();
  });
}

let followed = false;

/** The facilitator's "show the join code" from the console: open or close the overlay. */
export function followJoin(state) {
  const wanted = Boolean(state.join_shown) && state.status !== "ended";
  if (wanted === followed) return;
  followed = wanted;
  if (wanted !== Boolean($("#join-overlay"))) toggleJoin(state.code);
}

/** "Title · CODE · Projector" in the tab. */
export function screenTitle(state) {
  if (state.code) document.title = `${state.title ? `${state.title} · ` : ""}${state.code} · ${t("screen.pageTitle")}`;
}
