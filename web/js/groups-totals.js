// The observers' checklist totals of a groups step, for the debrief: for each item, in how many
// groups someone holding the role ticked it ("9 of 12 groups"). Counts only, as the server sends
// them in `group_counts.checklist` (and the export's `checklist`): the totals exist only once
// enough people ticked something (the minimum-responses rule), and name nobody.

import { h } from "./dom.js";
import { t } from "./i18n.js";

/**
 * The totals as bars, or a line saying they wait for more ticks, or null when nobody ticked.
 * `counts` has `ticked` and `checklist` (a group_counts message or an export step).
 */
export function checklistTotals(counts, { minResponses = 3 } = {}) {
  if (!counts?.ticked) return null;
  if (!counts.checklist?.length) {
    return h("section", { class: "groups-totals" },
      h("p", { class: "chart-waiting" }, t("groups.totals.waiting", { count: minResponses })));
  }
  return h("section", { class: "groups-totals", "aria-label": t("groups.totals.title") },
    counts.checklist.map((role) => h("div", { class: "chart chart-choice groups-totals-role" },
      h("div", { class: "chart-top" },
        h("h3", { class: "groups-totals-name", dir: "auto" }, role.role),
        h("p", { class: "chart-headline" }, t("groups.totals.lead", { count: counts.ticked }))),
      h("ol", { class: ["bars", role.items.length > 6 && "bars-many"] }, role.items.map((item) => {
        const bar = h("div", { class: "bar-fill" });
        bar.style.width = `${role.groups ? (100 * item.groups) / role.groups : 0}%`;
        return h("li", { class: "bar-row" },
          h("div", { class: "bar-label", dir: "auto" }, item.text),
          h("div", { class: "bar-main" },
            h("div", { class: "bar-track" }, bar),
            h("span", { class: "bar-number" },
              t("groups.totals.of", { n: item.groups, count: role.groups }))));
      })))));
}
