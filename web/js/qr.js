// QR codes for the join link, drawn as SVG from the vendored qrcode-generator (MIT, see
// /vendor/README.md). Built with DOM calls: the library's own SVG string is never parsed.

import qrcode from "../vendor/qrcode-generator/qrcode.mjs";
import { h } from "./dom.js";

/** An SVG QR code of `text`, with a quiet zone, that scales to its container. */
export function qrSvg(text, label) {
  const qr = qrcode(0, "M");
  qr.addData(text);
  qr.make();
  const n = qr.getModuleCount();
  const margin = 2;
  let path = "";
  for (let row = 0; row < n; row += 1) {
    for (let col = 0; col < n; col += 1) {
      if (qr.isDark(row, col)) path += `M${col + margin} ${row + margin}h1v1h-1z`;
    }
  }
  const size = n + margin * 2;
  return h("svg:svg", {
    class: "qr", viewBox: `0 0 ${size} ${size}`, role: "img", "aria-label": label,
    "shape-rendering": "crispEdges",
  },
  h("svg:rect", { width: size, height: size, fill: "#fff" }),
  h("svg:path", { d: path, fill: "#111" }));
}

/** The link a phone opens: /join/CODE redirects to /join/#CODE. */
export function joinUrl(code) {
  return `${location.origin}/join/${code}`;
}
