// The facilitator's console: pick or upload a scenario, open a session, then pace the room through
// it. The URL fragment holds SESSION.TOKEN, so a refresh (or reopening the link) rejoins the same
// session; the token is never sent anywhere but this server.

import { $, fill, h } from "./dom.js";
import { formatNumber, language, LANGUAGES, t } from "./i18n.js";
import { openLive, setupPage } from "./page.js";
import { linkFromHash } from "./codes.js";
import {
  commander, noteLines, openCommand, openLabel, refusal, revealCommand, revealLabel, sessionNotFound,
  stepName, stepProgress, tabTitle,
} from "./command.js";
import { breathingPacer, countdown } from "./pacer.js";
import { resultsChart } from "./charts.js";
import { ANSWERABLE } from "./steps.js";
import { phonePreview } from "./phone.js";
import { joinUrl, qrSvg } from "./qr.js";
import { download } from "./export.js";
import { cardsPanel, moderationChoice } from "./moderation.js";
import { openLinkDialog, remember, sessionsPanel } from "./sessions.js";
import { localhostWarning } from "./reach.js";
import { handleKey, keysOf } from "./shortcuts.js";
import { clockControls, showClock, toggleClock } from "./clock.js";
import { keepOnOneLine } from "./overflow.js";
import { problemAt } from "./problems.js";
import { gallery } from "./gallery.js";
import { renderThemesEditor } from "./themes.js";
import { groupsConsole } from "./groups.js";

const main = $("#main");
let live = null;
let session = "";
let token = "";
let shown = null;
/** The groups controls of the step on screen, if it is a groups step (groups.js). */
let groupsPanel = null;

// --- choosing a scenario -------------------------------------------------------------------

async function chooser() {
  document.body.classList.remove("console-live");
  fill($("#session-slot"));
  const problem = h("p", { class: "problem", role: "alert", hidden: true });
  const key = h("input", { id: "admin-key", type: "password", autocomplete: "off" });
  const keyField = h("p", { class: "field", hidden: true },
    h("label", { for: "admin-key", class: "field-label" }, t("console.adminKey")), key);
  const lang = h("select", { id: "session-language" },
    Object.entries(LANGUAGES).map(([code, name]) => h("option", { value: code, selected: code === language() }, name)));
  const choice = moderationChoice();
  const file = h("input", {
    id: "scenario-file", type: "file", accept: ".yaml,.yml,text/yaml",
    onchange: async () => {
      const chosen = file.files[0];
      if (chosen) create({ scenario_yaml: await chosen.text() });
    },
  });

  async function create(body) {
    problem.hidden = true;
    const headers = { "content-type": "application/json" };
    if (key.value) headers.authorization = `Bearer ${key.value}`;
    let response;
    try {
      response = await fetch("/api/sessions", {
        method: "POST", headers, body: JSON.stringify({ ...body, ...choice.options(), language: lang.value }),
      });
    } catch {
      fill(problem, t("console.offline"));
      problem.hidden = false;
      return;
    }
    const data = await response.json().catch(() => ({}));
    if (response.status === 201) {
      remember({ session: data.session, token: data.token, code: data.code, status: "lobby" });
      location.hash = `${data.session}.${data.token}`;
      return;
    }
    if (response.status === 401) {
      keyField.hidden = false;
      key.focus();
    }
    fill(problem, response.status === 422 ? t("console.badFile", { error: fileProblems(data) }) : data.error || response.statusText);
    problem.hidden = false;
    file.value = "";
  }

  fill(main, h("section", { class: "chooser" },
    h("div", { class: "chooser-head" },
      h("div", {}, h("h1", {}, t("console.chooseTitle")), h("p", { class: "lead" }, t("console.chooseLead"))),
      h("p", { class: "field field-inline" },
        h("label", { for: "session-language", class: "field-label" }, t("console.sessionLanguage")), lang),
      ...choice.fields),
    problem, keyField, sessionsPanel(), gallery({ language: lang.value, onStart: (id) => create({ scenario: id }) }),
    h("div", { class: "upload" },
      h("h2", {}, t("console.uploadTitle")),
      h("p", {}, t("console.uploadLead")),
      h("label", { for: "scenario-file", class: "button button-quiet file-button" }, t("console.uploadButton")),
      file)));
}

/** A refused upload's mistakes in the console's language, each with its line. */
function fileProblems(data) {
  if (!Array.isArray(data.errors) || !data.errors.length) return data.error;
  return data.errors.map((error) => problemAt(error)).join(" · ");
}

// --- the live console ------------------------------------------------------------------------

function connect(id, secret) {
  if (live) live.stop();
  session = id;
  token = secret;
  shown = null;
  document.body.classList.add("console-live");
  live = openLive({ role: "facilitator", session, token, onMessage: received, onFailed: failed });
  live.connect();
  render();
}

function failed() {
  fill(main, sessionNotFound(t("console.notFoundLead"),
    h("a", { class: "button button-primary", href: "/console/" }, t("console.newSession"))));
}

function received(message) {
  showClock(live);
  if (["welcome", "step", "ended"].includes(message.type)) {
    const { code, title, status } = live.state;
    remember({ session, token, code, title, status, moderator: live.state.moderator });
  }
  switch (message.type) {
    case "welcome":
    case "step":
    case "ended":
      render();
      break;
    case "responses":
    case "reveal":
    case "results":
    case "presence":
    case "clock":
    case "join":
      if (message.type === "join") header();
      update();
      break;
    case "groups":
    case "group_counts":
      update();
      break;
    case "error":
      refusal(message);
      break;
    default:
      break;
  }
}

const command = commander(() => live);

function header() {
  const state = live.state;
  const presence = state.presence || { joined: 0, connected: 0 };
  const slot = $("#session-slot");
  tabTitle(state, t("console.pageTitle"));
  fill(slot,
    // It gives way down to 8rem before controls move into "More", but a short title keeps no
    // empty space beside it (a character is at most 1em wide: 1em each is an upper bound).
    h("span", { class: "session-title", dir: "auto", title: state.title,
      style: { minWidth: `min(8rem, ${[...(state.title || "")].length}em)` } }, state.title),
    state.code ? h("span", { class: "code-pill", "aria-label": t("common.codeLabel", { code: state.code }) }, state.code) : null,
    h("span", { class: "presence", id: "presence" },
      t("console.presence", { count: presence.connected, joined: presence.joined })),
    h("nav", { class: "session-menu", "aria-label": t("console.sessionMenu") },
      state.code ? h("a", { href: `/screen/#${state.code}`, target: "_blank", rel: "noopener", class: "button button-small", dataset: { overflow: "0" } },
        t("console.projector")) : null,
      state.moderator ? h("span", { class: "tag moderator-tag" }, t("moderator.tag")) : null,
      state.status === "running" ? h("button", {
        type: "button", class: "button button-small", id: "show-join", "aria-pressed": String(Boolean(state.join_shown)), dataset: { overflow: "1" },
        "aria-keyshortcuts": "j", onclick: () => actions.toggleJoin(),
      }, state.join_shown ? t("console.hideJoin") : t("console.showJoin")) : null,
      state.moderator ? null : h("button", { type: "button", class: "button button-small", "aria-label": t("console.csv"), dataset: { overflow: "4" }, onclick: () => download(session, token, "csv", state.code) }, "CSV"),
      state.moderator ? null : h("button", { type: "button", class: "button button-small", "aria-label": t("console.json"), dataset: { overflow: "4" }, onclick: () => download(session, token, "json", state.code) }, "JSON"),
      state.moderator ? null : h("a", { href: `/console/report.html#${session}.${token}`, target: "_blank", rel: "noopener", class: "button button-small", dataset: { overflow: "3" } },
        t("console.reportShort")),
      state.moderator ? null : h("button", {
        type: "button", class: "button button-small", id: "facilitator-link", dataset: { overflow: "2" },
        onclick: () => openLinkDialog({ session, token, code: state.code, title: state.title }),
      }, t("sessions.linkButton"))));
  keepOnOneLine(slot, { small: true });
}

function stepList() {
  const state = live.state;
  const current = state.step?.index ?? -1;
  return h("nav", { class: "steps-nav", "aria-label": t("console.steps.label") },
    h("ol", {}, state.outline.map((item) => h("li", {},
      h("button", {
        type: "button", class: ["step-link", item.index === current && "current"],
        "aria-current": item.index === current ? "step" : null,
        disabled: state.status !== "running",
        onclick: () => command("goto", { step: item.index }),
      },
      h("span", { class: "step-number" }, formatNumber(item.index + 1)),
      h("span", { class: "step-link-text" },
        h("span", { class: "step-kind" }, t(`kind.${item.kind}`)),
        h("span", { class: "step-link-title", dir: "auto" }, item.title)))))));
}

function render() {
  const state = live.state;
  header();
  if (!state.session) {
    fill(main, h("p", { class: "panel" }, t("connection.connecting")));
    return;
  }
  const layout = h("div", { class: "console-layout" }, stepList());
  if (state.status === "lobby") layout.append(lobby());
  else if (state.status === "ended") layout.append(ended());
  else layout.append(stepPanel(state.step));
  const focused = document.activeElement?.dataset?.keep;
  fill(main, layout);
  if (focused) main.querySelector(`[data-keep="${focused}"]`)?.focus();
  const current = main.querySelector(".step-link.current");
  const nav = main.querySelector(".steps-nav");
  // On a phone the step list is a horizontal strip: bring the current step into it, sideways only.
  if (current && nav) nav.scrollLeft = current.offsetLeft - nav.clientWidth / 2;
  shown = state.status === "running" ? state.step.index : state.status;
  update();
}

function lobby() {
  const state = live.state;
  const url = joinUrl(state.code);
  return h("section", { class: "lobby", "aria-labelledby": "lobby-title" },
    h("div", { class: "lobby-qr" }, qrSvg(url, t("common.qrLabel", { url }))),
    h("div", { class: "lobby-info" },
      h("h1", { id: "lobby-title" }, t("console.lobbyTitle")),
      localhostWarning(),
      h("p", { class: "join-at" }, t("common.joinAt", { host: `${location.host}/join` })),
      h("p", { class: "big-code", "aria-label": t("common.codeLabel", { code: state.code }) }, state.code),
      h("p", { class: "lobby-count", id: "lobby-count", "aria-live": "polite" }),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "button button-primary button-big", dataset: { keep: "start" }, onclick: () => command("start") },
          t("console.startSession")),
        h("a", { href: `/screen/#${state.code}`, target: "_blank", rel: "noopener", class: "button button-quiet" },
          t("console.openProjector"))),
      h("p", { class: "hint" }, t("console.lobbyHint"))));
}

function ended() {
  return h("section", { class: "panel ended-panel" },
    h("h1", {}, t("console.endedTitle")),
    h("p", { class: "lead" }, t("console.endedLead")),
    live.state.moderator ? null : h("div", { class: "actions" },
      h("button", { type: "button", class: "button button-primary", onclick: () => download(session, token, "csv", live.state.code) }, t("console.csv")),
      h("button", { type: "button", class: "button", onclick: () => download(session, token, "json", live.state.code) }, t("console.json")),
      h("a", { class: "button", href: `/console/report.html#${session}.${token}`, target: "_blank", rel: "noopener" }, t("console.report")),
      h("a", { class: "button button-quiet", href: "/console/" }, t("console.newSession"))));
}

function stepPanel(step) {
  const state = live.state;
  // A groups step takes answers to its debrief question, which is shown and charted by its kind.
  const answerable = ANSWERABLE.has(step.kind) || Boolean(step.debrief);
  const groups = step.kind === "groups" ? groupsConsole(step, command) : null;
  groupsPanel = groups;
  let pacer = null;
  if (step.kind === "breathe" && step.pacer) pacer = breathingPacer(step.pacer, state.started_at, () => live.now());
  if (step.kind === "timer" && step.seconds) {
    pacer = h("div", { class: "timer-box" },
      countdown(step.seconds, state.started_at, () => live.now(), () => live.state.clock),
      h("div", { id: "clock-controls", role: "group", "aria-label": t("clock.timer") }));
  }
  const last = step.index >= state.step_count - 1;
  const controls = h("div", { class: "controls", role: "toolbar", "aria-label": t("console.controls") },
    h("button", { type: "button", class: "button", dataset: { keep: "back" }, "aria-keyshortcuts": keysOf("back"), disabled: step.index === 0, onclick: () => command("back") },
      "← ", t("console.back")),
    h("button", { type: "button", class: "button button-primary", dataset: { keep: "next" }, "aria-keyshortcuts": keysOf("next"), disabled: last, onclick: () => command("next") },
      t("console.next"), " →"),
    answerable ? h("span", { class: "control-gap" }) : null,
    answerable ? h("button", { type: "button", class: "button", id: "toggle-open", dataset: { keep: "open", overflow: "2" }, "aria-keyshortcuts": keysOf("toggleOpen") }) : null,
    answerable ? h("button", { type: "button", class: "button button-accent", id: "toggle-reveal", dataset: { keep: "reveal", overflow: "1" }, "aria-keyshortcuts": keysOf("toggleReveal") }) : null,
    h("span", { class: "control-gap" }),
    state.moderator ? null : endButton());
  const results = answerable ? h("div", { class: "live-results", id: "live-results" },
    h("div", { class: "live-head" },
      h("h2", { class: "section-label" }, t("console.results")),
      h("span", { id: "reveal-state", class: "badge" })),
    h("p", { class: "live-count", id: "live-count", "aria-live": "polite" }),
    h("div", { id: "clock-controls" }),
    // The cards (and their moderation queue) before themes: what waits for approval is the
    // urgent part, and a 1280x720 console shows it without scrolling.
    h("div", { id: "chart", class: "chart-box" }),
    step.kind === "perspective" ? h("div", { id: "themes-box", class: "themes-box" }) : null) : null;
  return h("section", { class: "step-panel", "aria-labelledby": "step-heading" },
    h("div", { class: "step-head" },
      h("p", { class: "progress" }, stepProgress(step, state)),
      h("h1", { id: "step-heading", dir: "auto" }, stepName(step))),
    controls,
    h("div", { class: "console-grid" },
      h("div", { class: "preview" },
        h("h2", { class: "section-label" }, t("console.onPhones")),
        h("div", { class: "preview-body" }, phonePreview(step)),
        pacer,
        step.notes ? h("aside", { class: "notes", "aria-label": t("console.notes") },
          h("h2", { class: "section-label" }, t("console.notes")), h("div", {}, noteLines(step.notes))) : null),
      groups ? h("div", { class: "groups-side" }, groups.element, results) : results));
}

function endButton() {
  let armed = false;
  let timer;
  const button = h("button", {
    type: "button", class: "button button-danger", dataset: { keep: "end", overflow: "3" },
    onclick: () => {
      if (armed) {
        command("end");
        return;
      }
      armed = true;
      button.textContent = t("console.endConfirm");
      timer = setTimeout(() => {
        armed = false;
        button.textContent = t("console.end");
      }, 5000);
    },
    onblur: () => {
      clearTimeout(timer);
      armed = false;
      button.textContent = t("console.end");
    },
  }, t("console.end"));
  return button;
}

/** Patch counts, toggles and the chart without rebuilding the page. */
function update() {
  const state = live.state;
  const presence = state.presence || { joined: 0, connected: 0 };
  const presenceBox = $("#presence");
  const said = t("console.presence", { count: presence.connected, joined: presence.joined });
  if (presenceBox && presenceBox.textContent !== said) {
    presenceBox.textContent = said;
    keepOnOneLine($("#session-slot"), { small: true });
  }
  const lobbyCount = $("#lobby-count");
  if (lobbyCount) lobbyCount.textContent = t("console.joined", { count: presence.connected });
  if (state.status !== "running" || !state.step) return;
  if (state.step.kind === "groups") groupsPanel?.update(state, live);
  // The toolbar is refitted only when a toggle's words change (a resize refits it by itself):
  // refitting on every results or presence push would re-measure and shuffle it each time.
  let relabelled = false;
  const label = (button, text) => {
    if (button.textContent === text) return;
    button.textContent = text;
    relabelled = true;
  };
  const open = $("#toggle-open");
  if (open) {
    label(open, openLabel(state));
    open.onclick = () => command(openCommand(state));
    open.setAttribute("aria-pressed", String(state.responses_open));
  }
  const reveal = $("#toggle-reveal");
  if (reveal) {
    label(reveal, revealLabel(state));
    reveal.onclick = () => command(revealCommand(state));
    reveal.setAttribute("aria-pressed", String(state.revealed));
  }
  const toolbar = $(".controls");
  if (toolbar && relabelled) keepOnOneLine(toolbar);
  const badge = $("#reveal-state");
  if (badge) {
    badge.textContent = state.revealed ? t("console.shown") : t("console.private");
    badge.classList.toggle("badge-live", state.revealed);
  }
  const count = $("#live-count");
  const results = state.results;
  if (count) {
    const answered = results?.count ?? 0;
    count.replaceChildren(
      h("strong", { class: "count-big" }, formatNumber(answered)), " ",
      t("console.answers", { count: answered }),
      results?.passes ? ` · ${t("console.passes", { count: results.passes })}` : "",
      ` · ${state.responses_open ? t("console.openNow") : t("console.closedNow")}`);
  }
  const clockBox = $("#clock-controls");
  if (clockBox) fill(clockBox, clockControls(live, command));
  const chart = $("#chart");
  if (chart) {
    fill(chart, state.step.kind === "perspective"
      ? cardsPanel(state.step, results, { minResponses: state.min_responses, command })
      : resultsChart(state.step.debrief ?? state.step, results, { moderator: true, minResponses: state.min_responses }));
  }
  const themesBox = $("#themes-box");
  if (themesBox) renderThemesEditor(themesBox, results, { step: state.step.index, available: state.themes, command, minResponses: state.min_responses });
}

/** What each keyboard shortcut does here (see shortcuts.js), and whether it applies now. */
const actions = {
  next: () => command("next"),
  back: () => command("back"),
  toggleOpen: () => command(openCommand(live.state)),
  toggleReveal: () => command(revealCommand(live.state)),
  approveAll: () => command("approve_all", { step: live.state.step.index }),
  toggleJoin: () => command("show_join", { shown: !live.state.join_shown }),
  toggleClock: () => toggleClock(live, command),
  moreTime: () => command("extend_clock", { seconds: 30 }),
  projector: () => window.open(`/screen/#${live.state.code}`, "_blank", "noopener"),
  link: () => openLinkDialog({ session, token, code: live.state.code, title: live.state.title }),
  end: () => {
    // In the "More" menu at narrow widths: open it, so "press again to confirm" is seen.
    const button = $(".controls .button-danger");
    button?.closest("details")?.setAttribute("open", "");
    button?.click();
  },
  applies(name) {
    const state = live?.state;
    if (!state?.session) return false;
    const running = state.status === "running" && state.step;
    const answerable = running && ANSWERABLE.has(state.step.kind);
    switch (name) {
      case "next": return running && state.step.index < state.step_count - 1;
      case "back": return running && state.step.index > 0;
      case "toggleOpen": case "toggleReveal": return answerable;
      case "approveAll": return answerable && state.step.kind === "perspective"
        && Boolean(state.results?.answers?.cards?.some((card) => card.held === "queue" && !card.hidden));
      case "projector": return Boolean(state.code);
      case "toggleJoin": return state.status === "running";
      case "toggleClock": case "moreTime": return running && Boolean(state.clock);
      case "link": return !state.moderator;
      case "end": return running && !state.moderator;
      default: return true;
    }
  },
};

function onKey(event) {
  if (live) handleKey(event, actions);
}

function route() {
  const { session: id, token: secret } = linkFromHash(location.hash);
  if (id && secret) connect(id, secret);
  else {
    if (live) live.stop();
    live = null;
    chooser();
  }
}

await setupPage();
document.addEventListener("keydown", onKey);
window.addEventListener("hashchange", route);
route();
