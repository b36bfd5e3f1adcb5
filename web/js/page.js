// What every page has: the language switch in the top bar and the calm connection banner.

import { $, announce, fill } from "./dom.js";
import { initI18n, languageSwitch, t } from "./i18n.js";

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
