// The printable session report: one page per answer step with its chart, from the same export
// the downloads use (aggregates and anonymous texts only). Labels for options and emotion words
// come from the step views carried in the export itself.

import { $, fill, h } from "./dom.js";
import { formatDate, formatNumber, t } from "./i18n.js";
import { setupPage } from "./page.js";
import { linkFromHash } from "./codes.js";
import { resultsChart } from "./charts.js";
import { fetchExport } from "./export.js";
import { themesBoard } from "./themes.js";
import { checklistTotals } from "./groups-totals.js";

const main = $("#main");

async function report() {
  const { session, token } = linkFromHash(location.hash);
  if (!session || !token) {
    fill(main, h("p", { class: "problem" }, t("report.noSession")));
    return;
  }
  let data;
  try {
    data = await fetchExport(session, token, "json");
  } catch {
    fill(main, h("p", { class: "problem", role: "alert" }, t("report.failed")));
    return;
  }
  document.title = `${data.title} · ${t("report.title")}`;
  const pages = data.steps.map((result) => {
    const step = result.step;
    return h("section", { class: "report-step" },
      h("p", { class: "progress" }, t("report.step", { n: result.index + 1 }), " · ", t(`kind.${result.kind}`)),
      h("h2", { dir: "auto" }, result.title || result.prompt || t(`kind.${result.kind}`)),
      result.title && result.prompt && result.prompt !== result.title
        ? h("p", { class: "step-prompt", dir: "auto" }, result.prompt) : null,
      (result.passes || !result.answers) && (result.kind !== "groups" || step?.debrief) ? h("p", { class: "report-count" }, t("text.summary", { count: result.count }),
        result.passes ? ` · ${t("console.passes", { count: result.passes })}` : "") : null,
      result.answers?.themes ? themesBoard(result.answers, { all: true }) : null,
      result.kind !== "groups" || step?.debrief
        ? resultsChart(step?.debrief ?? step, result, { minResponses: data.min_responses, report: true }) : null,
      // After the debrief's chart, so its question stays next to its answers.
      result.kind === "groups" ? checklistTotals(result, { minResponses: data.min_responses }) : null);
  });
  fill(main,
    h("header", { class: "report-head" },
      h("p", { class: "progress" }, t("report.title")),
      h("h1", { dir: "auto" }, data.title),
      h("p", {}, formatDate(data.created_at), " · ",
        t("report.participants", { count: data.participants }), " · ",
        t("report.minimum", { count: data.min_responses })),
      h("p", { class: "fineprint" }, t("report.privacy")),
      overview(data),
      h("button", { type: "button", class: "button button-primary no-print", onclick: () => window.print() },
        t("report.print"))),
    pages.length ? pages : h("p", {}, t("report.empty")));
}

/** The title page's table of steps: what was asked and how many answered. */
function overview(data) {
  if (!data.steps.length) return null;
  return h("table", { class: "overview" },
    h("caption", { class: "visually-hidden" }, t("report.overview")),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "#"), h("th", { scope: "col" }, t("report.question")),
      h("th", { scope: "col", class: "num" }, t("report.answers")),
      h("th", { scope: "col", class: "num" }, t("report.passes")))),
    h("tbody", {}, data.steps.map((step) => h("tr", {},
      h("td", {}, formatNumber(step.index + 1)),
      h("td", { dir: "auto" }, step.title || step.prompt || t(`kind.${step.kind}`)),
      h("td", { class: "num" }, formatNumber(step.count)),
      h("td", { class: "num" }, formatNumber(step.passes))))));
}

await setupPage();
report();
