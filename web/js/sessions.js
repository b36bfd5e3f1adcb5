// "My sessions": recovery without accounts. The console keeps every session this browser created
// (id, facilitator token, title, code, status, when) in localStorage, and nowhere else: the server
// stores nothing new. A closed tab is one click away from full control again, and the facilitator
// link can be copied, saved as a small file, or shown as a QR code to open the console on a
// second device. A session the server no longer knows (deleted, or removed after the retention
// period) is marked so and can be forgotten here.

import { h } from "./dom.js";
import { formatDate, t } from "./i18n.js";
import { qrSvg } from "./qr.js";
import { download } from "./export.js";
import { moderatorSection } from "./moderator.js";

const KEY = "attune:sessions";
const LIMIT = 50;

export function mySessions() {
  try {
    const list = JSON.parse(localStorage.getItem(KEY) || "[]");
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}

function save(list) {
  try {
    localStorage.setItem(KEY, JSON.stringify(list.slice(0, LIMIT)));
  } catch {
    // Private mode or a full store: recovery is a convenience, the session itself is unaffected.
  }
}

/** Add or update a session this browser runs; newest first. */
export function remember(entry) {
  const list = mySessions();
  const old = list.find((s) => s.session === entry.session);
  const now = Date.now();
  const merged = { created_at: now, ...old, ...Object.fromEntries(Object.entries(entry).filter(([, v]) => v)), updated_at: now };
  save([merged, ...list.filter((s) => s.session !== entry.session)]);
}

export function forget(session) {
  save(mySessions().filter((s) => s.session !== session));
}

/** The link that opens the console with full control of a session. */
export function facilitatorUrl(session, token) {
  return `${location.origin}/console/#${session}.${token}`;
}

/** Copy, save or show the facilitator link: the one way back into a session without accounts. */
export function linkTools(entry) {
  const url = facilitatorUrl(entry.session, entry.token);
  const field = h("input", {
    class: "link-field", type: "text", readonly: true, value: url, "aria-label": t("sessions.link"),
    onfocus: () => field.select(),
  });
  const said = h("span", { class: "link-said", role: "status" });
  const qr = h("div", { class: "link-qr", hidden: true },
    qrSvg(url, t("sessions.qrLabel")), h("p", { class: "hint" }, t("sessions.qrHint")));
  const copy = async () => {
    field.select();
    try {
      await navigator.clipboard.writeText(url);
    } catch {
      // No clipboard API on plain http: the selected text can be copied by hand.
      if (!document.execCommand?.("copy")) {
        said.textContent = t("sessions.copyByHand");
        return;
      }
    }
    said.textContent = t("sessions.copied");
  };
  return h("div", { class: "link-tools" },
    h("p", { class: "link-warning" }, t("sessions.linkWarning")),
    field,
    h("div", { class: "link-actions" },
      h("button", { type: "button", class: "button link-copy", onclick: copy }, t("sessions.copy")),
      h("button", { type: "button", class: "button link-save", onclick: () => saveLink(entry, url) }, t("sessions.save")),
      h("button", {
        type: "button", class: "button link-show-qr", "aria-expanded": "false",
        onclick: (event) => {
          qr.hidden = !qr.hidden;
          event.currentTarget.setAttribute("aria-expanded", String(!qr.hidden));
        },
      }, t("sessions.showQr")),
      said),
    qr);
}

function saveLink(entry, url) {
  const text = `${t("sessions.fileIntro", { title: entry.title || entry.code || entry.session })}\n\n${url}\n\n${t("sessions.linkWarning")}\n`;
  const blob = new Blob([text], { type: "text/plain;charset=utf-8" });
  const href = URL.createObjectURL(blob);
  const link = h("a", { href, download: `attune-${entry.code || entry.session}-facilitator.txt` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10000);
}

/** A dialog with the facilitator link's tools, opened from the live console's menu. */
export function openLinkDialog(entry) {
  document.getElementById("link-dialog")?.remove();
  const dialog = h("dialog", { id: "link-dialog", class: "link-dialog", "aria-labelledby": "link-dialog-title" },
    h("h2", { id: "link-dialog-title" }, t("sessions.linkTitle")),
    h("p", {}, t("sessions.linkLead")),
    linkTools(entry),
    entry.moderator ? null : moderatorSection(entry),
    h("form", { method: "dialog" }, h("button", { type: "submit", class: "button button-primary" }, t("sessions.close"))));
  document.body.append(dialog);
  dialog.showModal();
  dialog.querySelector(".link-field").focus();
}

/** Ask the server whether it still holds a session (its export answers); null when unsure. */
async function stillThere(entry) {
  try {
    const response = await fetch(`/api/sessions/${encodeURIComponent(entry.session)}/export`, {
      headers: { authorization: `Bearer ${entry.token}` },
    });
    if (response.status === 404 || response.status === 403) return false;
    return response.ok ? true : null;
  } catch {
    return null;
  }
}

/** The "My sessions" list for the chooser, or null when this browser has none. */
export function sessionsPanel() {
  const list = mySessions();
  if (!list.length) return null;
  const items = list.map((entry) => sessionItem(entry));
  return h("section", { class: "my-sessions", "aria-labelledby": "my-sessions-title" },
    h("h2", { id: "my-sessions-title" }, t("sessions.title")),
    h("p", { class: "hint" }, t("sessions.lead")),
    h("ul", { class: "my-sessions-list" }, items));
}

function sessionItem(entry) {
  const status = h("span", { class: ["tag", `status-${entry.status || "lobby"}`] }, t(`sessions.status.${entry.status || "lobby"}`));
  const tools = h("div", { class: "my-session-link", hidden: true }, linkTools(entry));
  const ended = entry.status === "ended";
  const item = h("li", { class: "my-session", dataset: { session: entry.session } },
    h("div", { class: "my-session-head" },
      h("h3", { dir: "auto" }, entry.title || entry.code || entry.session),
      entry.code ? h("span", { class: "code-pill" }, entry.code) : null,
      status,
      entry.moderator ? h("span", { class: "tag" }, t("moderator.tag")) : null,
      h("span", { class: "my-session-when" }, formatDate(entry.created_at))),
    h("div", { class: "my-session-actions" },
      h("a", { class: "button button-primary my-session-open", href: `#${entry.session}.${entry.token}` },
        ended ? t("sessions.openEnded") : t("sessions.open")),
      ended ? h("button", { type: "button", class: "button", onclick: () => download(entry.session, entry.token, "csv", entry.code) }, t("console.csv")) : null,
      ended ? h("a", { class: "button", href: `/console/report.html#${entry.session}.${entry.token}`, target: "_blank", rel: "noopener" }, t("console.reportShort")) : null,
      h("button", {
        type: "button", class: "button my-session-link-toggle", "aria-expanded": "false",
        onclick: (event) => {
          tools.hidden = !tools.hidden;
          event.currentTarget.setAttribute("aria-expanded", String(!tools.hidden));
        },
      }, t("sessions.linkButton"))),
    tools);
  stillThere(entry).then((there) => {
    if (there !== false) return;
    status.textContent = t("sessions.status.gone");
    status.className = "tag status-gone";
    item.classList.add("is-gone");
    item.querySelector(".my-session-actions").replaceChildren(
      h("p", { class: "hint" }, t("sessions.goneLead")),
      h("button", { type: "button", class: "button my-session-forget", onclick: () => { forget(entry.session); item.remove(); } }, t("sessions.forget")));
  });
  return item;
}
