// What the pages read from what people type and from the URL fragment, as pure functions (no DOM),
// so every page reads a join code and a facilitator link the same way; tests/web/js/ checks them.

/**
 * A join code as the server knows it: capitals and digits only. People type codes with spaces,
 * dashes or in lower case ("ab-c 23" is "ABC23"); a code in a link may be percent-encoded.
 * @param {string} text
 */
export function normalizeCode(text) {
  return String(text ?? "").trim().toUpperCase().replace(/[^A-Z0-9]/g, "");
}

/** The join code in a URL fragment ("#ABC234"), or "" when there is none. */
export function codeFromHash(hash) {
  let text = String(hash ?? "").replace(/^#/, "");
  try {
    text = decodeURIComponent(text);
  } catch {
    /* a stray "%": read the fragment as it is */
  }
  return normalizeCode(text);
}

/**
 * The session and token in a facilitator or moderator link's fragment ("#SESSION.TOKEN"); either
 * is "" when the link lacks it.
 * @returns {{session: string, token: string}}
 */
export function linkFromHash(hash) {
  const [session = "", token = ""] = String(hash ?? "").replace(/^#/, "").split(".");
  return { session, token };
}
