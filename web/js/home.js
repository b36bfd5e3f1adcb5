// The landing page: join with a code, or open the facilitator console.

import { setupPage } from "./page.js";
import { normalizeCode } from "./codes.js";

await setupPage();
document.getElementById("home-join").addEventListener("submit", (event) => {
  event.preventDefault();
  const code = normalizeCode(document.getElementById("home-code").value);
  if (code) location.href = `/join/#${code}`;
});
