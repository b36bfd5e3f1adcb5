// The moderator link: a second pair of hands. The facilitator makes one from the link dialog;
// the server returns its token once and keeps only a hash, so this shows it once, with copy and
// a QR for the co-facilitator's phone, and a button to revoke it. A console opened with it can
// moderate cards and move through the steps, never end or delete the session (docs/protocol.md,
// "The moderator link").

import { h } from "./dom.js";
import { t } from "./i18n.js";
import { qrSvg } from "./qr.js";

async function call(entry, method) {
  const response = await fetch(`/api/sessions/${encodeURIComponent(entry.session)}/moderator`, {
    method, headers: { authorization: `Bearer ${entry.token}` },
  });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return method === "POST" ? response.json() : null;
}

export function moderatorSection(entry) {
  const box = h("div", { class: "moderator-link-box" });
  const said = h("p", { class: "link-said", role: "status" });
  const make = h("button", {
    type: "button", class: "button moderator-make",
    onclick: async () => {
      try {
        const link = await call(entry, "POST");
        const remote = link.moderator_url.replace("/console/#", "/console/remote.html#");
        const field = h("input", { class: "link-field moderator-field", type: "text", readonly: true, value: link.moderator_url, "aria-label": t("moderator.link") });
        box.replaceChildren(
          h("p", { class: "hint" }, t("moderator.once")),
          field,
          h("div", { class: "link-actions" },
            h("button", { type: "button", class: "button", onclick: () => { field.select(); navigator.clipboard?.writeText(link.moderator_url).catch(() => {}); } }, t("sessions.copy")),
            h("a", { class: "button", href: remote, target: "_blank", rel: "noopener" }, t("moderator.openRemote"))),
          h("div", { class: "link-qr" }, qrSvg(remote, t("moderator.qrLabel")), h("p", { class: "hint" }, t("moderator.qrHint"))));
        make.textContent = t("moderator.replace");
        revoke.hidden = false;
        said.textContent = "";
      } catch {
        said.textContent = t("console.notConnected");
      }
    },
  }, t("moderator.make"));
  const revoke = h("button", {
    type: "button", class: "button button-danger moderator-revoke", hidden: true,
    onclick: async () => {
      try {
        await call(entry, "DELETE");
        box.replaceChildren();
        revoke.hidden = true;
        make.textContent = t("moderator.make");
        said.textContent = t("moderator.revoked");
      } catch {
        said.textContent = t("console.notConnected");
      }
    },
  }, t("moderator.revoke"));
  return h("section", { class: "moderator-section", "aria-labelledby": "moderator-title" },
    h("h3", { id: "moderator-title" }, t("moderator.title")),
    h("p", {}, t("moderator.lead")),
    h("div", { class: "link-actions" }, make, revoke),
    said, box);
}
