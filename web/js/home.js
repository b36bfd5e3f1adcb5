// The landing page: join with a code, or open the facilitator console.

import { setupPage } from "./page.js";

await setupPage();
document.getElementById("home-join").addEventListener("submit", (event) => {
  event.preventDefault();
  const code = document.getElementById("home-code").value.trim().toUpperCase().replace(/[^A-Z0-9]/g, "");
  if (code) location.href = `/join/#${code}`;
});
