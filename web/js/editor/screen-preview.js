// The page inside the editor's projector preview (/screen/preview.html): the real projector page,
// 1280 x 720 in its frame, with the projector's own stylesheets and rules, showing the step the
// editor posts (editor/preview.js). Nothing here connects to a session: the join strip shows a
// sample code so the frame has the room it has on a real projector.

import { $, fill, h } from "../dom.js";
import { t } from "../i18n.js";
import { setupPage } from "../page.js";
import { fitFrame } from "../fit.js";
import { joinUrl, qrSvg } from "../qr.js";
import { projectorFrame } from "./preview.js";
import "../themes-screen.js";
import "../groups-screen.js";

/** A code of the real length and alphabet, so the strip is as wide as on the projector. */
const SAMPLE_CODE = "K7M2QX";

function strip() {
  const url = joinUrl(SAMPLE_CODE);
  fill($("#join-strip"),
    h("span", { class: "strip-at" }, t("common.joinAt", { host: `${location.host}/join` })),
    h("strong", { class: "strip-code" }, SAMPLE_CODE),
    h("span", { class: "strip-qr" }, qrSvg(url, t("common.qrLabel", { url }))));
}

function show({ view, total }) {
  const frame = projectorFrame(view, total);
  fill($("#main"), frame);
  fitFrame(frame);
  document.body.dataset.step = String(view.index);
}

await setupPage();
strip();
window.addEventListener("message", (event) => {
  if (event.source !== parent || event.origin !== location.origin) return;
  if (event.data?.type === "preview-step") show(event.data);
});
parent.postMessage({ type: "preview-ready" }, location.origin);
