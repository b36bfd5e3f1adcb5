// Groups steps (pairs, triads, circles) on every page: the group's colour and word, the round
// timer on the server clock, the phone's own group card, and the console's controls and
// breakout-room list. The projector's view is in groups-screen.js.
//
// Privacy: nothing here ever sees who is in a group. A phone gets its own `group` message (a
// number, a colour, a word, how many others, its role); the console and projector get counts
// (`group_counts`) and the shared `groups` event; a group's colour and word are a function of its
// number, the same as COLOURS and WORDS in server/attune/core/groups.py.

import { $, fill, h, store } from "./dom.js";
import { formatNumber, t } from "./i18n.js";
import { clock } from "./pacer.js";
import { checklistTotals } from "./groups-totals.js";

export const COLOURS = ["green", "blue", "orange", "purple", "red", "teal", "yellow", "pink"];
export const WORDS = [
  "otter", "heron", "fox", "owl", "panda", "whale", "robin", "tiger", "koala", "swan",
  "bear", "lynx", "crane", "seal", "deer", "hare", "wren", "bison", "moth", "gecko",
  "camel", "eagle", "lemur", "zebra",
];

export const colourOf = (number) => COLOURS[(number - 1) % COLOURS.length];
export const wordOf = (number) => WORDS[(number - 1) % WORDS.length];

/** "Group 7 · green · otter", in the interface language. */
export function groupName(number) {
  return t("groups.name", {
    n: formatNumber(number), colour: t(`groups.colour.${colourOf(number)}`), word: t(`groups.word.${wordOf(number)}`),
  });
}

/** The numbers of the groups in use: 1..groups, or the event's list when some were emptied. */
export function groupNumbers(groups) {
  if (!groups) return [];
  if (groups.numbers?.length) return groups.numbers;
  return Array.from({ length: groups.groups }, (_, i) => i + 1);
}

/** Seconds left in the round at server time `now` (ms). */
export function secondsLeft(groups, now) {
  const running = groups.started_at != null ? (now - groups.started_at) / 1000 : 0;
  return groups.seconds - (groups.elapsed || 0) - Math.max(0, running);
}

/** The round timer; `current()` returns the latest `groups` event, `now()` the server clock. */
export function roundTimer(current, now) {
  const time = h("p", { class: "round-time", role: "timer", "aria-live": "off" });
  const note = h("p", { class: "round-note", "aria-live": "polite" });
  const element = h("div", { class: "round-timer" }, time, note);
  let last = null;
  const tick = () => {
    if (!element.isConnected && last !== null) return;
    const groups = current();
    if (groups) {
      const left = secondsLeft(groups, now());
      const text = clock(Math.min(left, groups.seconds));
      if (time.textContent !== text) time.textContent = text;
      const state = groups.phase !== "grouped" ? "" : left <= 0 ? "over"
        : groups.started_at != null ? "running" : groups.elapsed > 0 ? "paused" : "ready";
      if (element.dataset.state !== state) {
        element.dataset.state = state;
        note.textContent = state ? t(`groups.timer.${state}`) : "";
      }
    }
    last = groups;
    requestAnimationFrame(tick);
  };
  tick();
  return element;
}

/** A group's colour swatch, number and word, as on the projector's grid and the phone's card. */
export function groupTile(number, { big = false } = {}) {
  return h("li", { class: ["group-tile", `group-${colourOf(number)}`, big && "group-tile-big"] },
    h("span", { class: "group-swatch", "aria-hidden": "true" }),
    h("span", { class: "group-number" }, formatNumber(number)),
    h("span", { class: "group-word" }, t(`groups.word.${wordOf(number)}`)),
    h("span", { class: "visually-hidden" }, t(`groups.colour.${colourOf(number)}`)));
}

// --- the phone ----------------------------------------------------------------------------------

/**
 * The phone's part of a groups step: "I'm ready", then its own group card, role and timer.
 * Returns { element, update() }; `update` redraws from live.state without losing the checklist.
 * Checklist ticks are answers (`tick`): the server keeps them (a refresh shows them again) and
 * the room sees only totals at the debrief.
 */
export function groupsPhone(step, live) {
  const element = h("div", { class: "groups-phone", "aria-live": "polite" });
  let shown = "";
  let boxes = [];

  function ready(value) {
    live.send({ type: "ready", step: step.index, ready: value });
  }

  function readyButton() {
    return h("button", { type: "button", class: "button button-primary button-wide button-big", dataset: { action: "ready" },
      onclick: () => ready(true) }, t("groups.ready"));
  }

  function stepOut() {
    return h("button", { type: "button", class: "link-button groups-step-out", dataset: { action: "unready" },
      onclick: () => ready(false) }, t("groups.stepOut"));
  }

  function card(group, groups) {
    const role = group.role;
    return [
      h("div", { class: ["group-card", `group-${group.colour}`], dataset: { number: group.number } },
        h("p", { class: "group-card-name" }, t("groups.number", { n: formatNumber(group.number) })),
        h("p", { class: "group-card-cue" },
          t(`groups.colour.${group.colour}`), " · ", t(`groups.word.${group.word}`)),
        h("p", { class: "group-card-find" }, group.others
          ? t("groups.findOthers", { count: group.others }) : t("groups.justYou"))),
      h("p", { class: "progress groups-round" },
        t("groups.round", { n: formatNumber(groups.round + 1), total: formatNumber(groups.rounds) })),
      roundTimer(() => live.state.groups, () => live.now()),
      role ? h("section", { class: "group-role", "aria-labelledby": "group-role-name" },
        h("p", { class: "section-label" }, t("groups.yourRole")),
        h("h2", { id: "group-role-name", class: "group-role-name", dir: "auto" }, role.name),
        role.prompt ? h("p", { class: "group-role-prompt", dir: "auto" }, role.prompt) : null,
        role.checklist?.length ? h("fieldset", { class: "group-checklist" },
          h("legend", {}, t("groups.checklist")),
          role.checklist.map((item, i) => {
            const id = `check-${group.round}-${i}`;
            const box = h("input", { type: "checkbox", id, checked: (group.ticked || []).includes(i), dataset: { item: i } });
            box.addEventListener("change", () => live.send({ type: "tick", step: step.index, item: i, ticked: box.checked }));
            boxes.push(box);
            return h("label", { for: id, class: "check-item" }, box, h("span", { dir: "auto" }, item));
          }),
          h("p", { class: "hint" }, t("groups.checklistPrivate"))) : null,
        role.note ? roleNote(role, group) : null) : null,
      group.next_role ? h("p", { class: "group-next" }, t("groups.nextRole", { role: group.next_role })) : null,
    ];
  }

  /** A role's short private answer: written on this phone, kept there (like a reflect note). */
  function roleNote(role, group) {
    const key = `attune:role-note:${live.code}:${step.index}:${group.round ?? 0}:${role.id}`;
    const id = `role-note-${group.round ?? 0}`;
    const area = h("textarea", { id, class: "textbox", rows: 3, dir: "auto", "aria-describedby": `${id}-private` });
    area.value = store.get(key, "", localStorage);
    area.addEventListener("input", () => store.set(key, area.value, localStorage));
    return h("div", { class: "group-note" },
      h("label", { for: id, class: "field-label", dir: "auto" }, role.note), area,
      h("p", { id: `${id}-private`, class: "private-note" }, t("groups.notePrivate")));
  }

  function update() {
    const groups = live.state.groups;
    const group = live.state.group?.step === step.index ? live.state.group : null;
    const status = group?.status ?? "unready";
    const phase = groups?.phase ?? "gathering";
    // Ticks alone do not redraw (the box keeps focus); they are set from the server's view.
    const key = JSON.stringify([phase, { ...group, ticked: null, seq: null }, groups?.round, groups?.rounds]);
    // What the server holds, for whoever inspects the page (tests read it; web/js/page.js).
    element.dataset.ticked = (group?.ticked || []).join(" ");
    if (key === shown) {
      for (const box of boxes) box.checked = (group?.ticked || []).includes(Number(box.dataset.item));
      return;
    }
    shown = key;
    boxes = [];
    element.dataset.status = status;
    element.dataset.round = String(group?.round ?? 0);
    if (phase === "debrief") {
      fill(element, group?.number ? h("p", { class: "hint" }, groupName(group.number)) : null,
        step.debrief?.prompt ? h("p", { class: "group-debrief-prompt", dir: "auto" }, step.debrief.prompt) : null);
      return;
    }
    if (status === "unready") {
      fill(element, h("p", { class: "lead" }, phase === "grouped" ? t("groups.lateLead") : t("groups.readyLead")),
        readyButton(), h("p", { class: "fineprint" }, t("groups.readyPrivate")));
    } else if (status === "ready") {
      fill(element, h("div", { class: "received" },
        h("span", { class: "tick", "aria-hidden": "true" }, "✓"),
        h("div", {}, h("p", { class: "received-title" }, t("groups.isReady")), h("p", {}, t("groups.isReadyLead")))),
      stepOut());
    } else if (status === "waiting" || status === "alone") {
      fill(element, h("div", { class: "group-wait", role: "status" },
        h("p", { class: "received-title" }, t(`groups.${status}`)), h("p", {}, t(`groups.${status}Lead`))),
      stepOut());
    } else {
      fill(element, ...card(group, groups), stepOut());
    }
  }

  update();
  return { element, update };
}

// --- the console -----------------------------------------------------------------------------------

/** The console's groups controls and counts; `command(type, extra)` sends a facilitator command. */
export function groupsConsole(step, command) {
  const element = h("section", { class: "groups-console", id: "groups-console", "aria-labelledby": "groups-console-title" },
    h("h2", { id: "groups-console-title", class: "section-label" }, t("groups.console.title")));
  const counts = h("p", { class: "groups-counts", id: "groups-counts", "aria-live": "polite" });
  const controls = h("div", { class: "controls groups-controls", role: "toolbar", "aria-label": t("groups.console.controls") });
  const timer = h("div", { class: "groups-console-timer" });
  const list = h("div", { class: "groups-list", id: "groups-list" });
  const totals = h("div", { class: "groups-console-totals", id: "groups-totals" });
  element.append(counts, timer, controls, totals, list);
  let timerFor = null;

  const button = (action, label, extra = {}, primary = false) => h("button", {
    type: "button", class: ["button", primary && "button-primary"], dataset: { action, keep: action },
    onclick: () => command(action, extra),
  }, label);

  function update(state, live) {
    const groups = state.groups;
    const tally = state.group_counts?.step === step.index ? state.group_counts : null;
    const phase = groups?.phase ?? "gathering";
    fill(counts,
      h("strong", { class: "count-big" }, formatNumber(tally?.ready ?? 0)), " ", t("groups.console.ready", { count: tally?.ready ?? 0 }),
      phase !== "gathering" ? ` · ${t("groups.console.groups", { count: tally?.groups ?? groups?.groups ?? 0 })}` : "",
      tally?.waiting ? ` · ${t("groups.console.waiting", { count: tally.waiting })}` : "",
      tally?.alone ? ` · ${t("groups.console.alone", { count: tally.alone })}` : "",
      tally?.ticked ? ` · ${t("groups.console.ticked", { count: tally.ticked })}` : "");
    fill(totals, phase === "debrief" ? checklistTotals(tally, { minResponses: state.min_responses }) : null);
    if (phase === "grouped" && timerFor !== live) {
      timerFor = live;
      fill(timer, h("p", { class: "groups-round-label", id: "groups-round-label" }), roundTimer(() => live.state.groups, () => live.now()));
    } else if (phase !== "grouped") {
      timerFor = null;
      fill(timer);
    }
    const label = $("#groups-round-label", timer);
    if (label && groups) label.textContent = t("groups.round", { n: formatNumber(groups.round + 1), total: formatNumber(groups.rounds) });
    const running = groups?.started_at != null;
    const last = groups ? groups.round + 1 >= groups.rounds : true;
    const formAgain = phase === "gathering" ? t("groups.console.form") : t("groups.console.formAgain");
    const focused = document.activeElement?.dataset?.keep;
    fill(controls,
      button("groups_form", formAgain, {}, phase === "gathering"),
      phase === "grouped" ? button(running ? "groups_pause" : "groups_start",
        running ? t("groups.console.pause") : t("groups.console.start"), {}, !running) : null,
      phase === "grouped" ? button("groups_extend", t("groups.console.extend"), { seconds: 30 }) : null,
      phase === "grouped" && !last ? button("groups_next", t("groups.console.next")) : null,
      phase !== "debrief" && groups?.phase ? button("groups_end", t("groups.console.end")) : null);
    if (focused) controls.querySelector(`[data-keep="${focused}"]`)?.focus();
    // Responses and results belong to the debrief: out of the way until the rounds end.
    for (const id of ["toggle-open", "toggle-reveal", "live-results"]) {
      const el = document.getElementById(id);
      if (el) el.hidden = phase !== "debrief";
    }
    renderList(state, tally);
  }

  function renderList(state, tally) {
    const sizes = tally?.sizes ?? [];
    if (!sizes.some(Boolean)) {
      fill(list, state.groups?.phase === "gathering" ? h("p", { class: "hint" }, t("groups.console.gatherHint")) : null);
      return;
    }
    fill(list,
      step.remote ? h("p", { class: "groups-remote", dir: "auto" }, step.remote) : null,
      h("div", { class: "groups-list-head" },
        h("h3", {}, t("groups.console.listTitle")),
        h("button", { type: "button", class: "button button-small", onclick: () => printList(sizes) }, t("groups.console.print"))),
      h("div", { class: "groups-table-box" }, h("table", { class: "groups-table" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("groups.console.group")),
          h("th", { scope: "col" }, t("groups.console.cue")), h("th", { scope: "col" }, t("groups.console.size")))),
        h("tbody", {}, sizes.map((size, i) => (size ? h("tr", {},
          h("td", {}, formatNumber(i + 1)),
          h("td", {}, h("span", { class: ["group-dot", `group-${colourOf(i + 1)}`], "aria-hidden": "true" }),
            t(`groups.colour.${colourOf(i + 1)}`), " · ", t(`groups.word.${wordOf(i + 1)}`)),
          h("td", {}, formatNumber(size))) : null))))));
  }

  return { element, update };
}

/** Print only the breakout-room list: group numbers and sizes, never names. */
function printList(sizes) {
  const sheet = h("section", { class: "groups-print", id: "groups-print" },
    h("h1", {}, t("groups.console.listTitle")),
    h("p", {}, t("groups.console.printLead")),
    h("ol", {}, sizes.map((size, i) => (size ? h("li", { value: i + 1 },
      t("groups.console.printLine", { name: groupName(i + 1), count: size })) : null))));
  document.body.append(sheet);
  document.body.classList.add("printing-groups");
  const done = () => {
    document.body.classList.remove("printing-groups");
    sheet.remove();
    window.removeEventListener("afterprint", done);
  };
  window.addEventListener("afterprint", done);
  window.print();
}
