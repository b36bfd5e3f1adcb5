// Can phones reach this address? A console opened at 127.0.0.1 or localhost draws a QR code and
// a join link that only this computer can open; say so before the room tries.

import { h } from "./dom.js";
import { t } from "./i18n.js";

const LOOPBACK = /^(localhost|127(\.\d+){3}|\[::1\]|::1)$/i;

/** A warning for the lobby when the join address points at this computer only, or null. */
export function localhostWarning() {
  if (!LOOPBACK.test(location.hostname)) return null;
  return h("div", { class: "reach-warning", role: "alert" },
    h("p", {}, h("strong", {}, t("reach.title", { host: location.host }))),
    h("p", {}, t("reach.how")));
}
