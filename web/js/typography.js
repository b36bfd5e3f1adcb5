// French sets a space before ; ! ? : and » and after «, and that space must never break: on a
// projector, a question mark alone at the start of a line reads as a new sentence. Authors and
// translators type an ordinary space; the pages make it the right unbreakable one when they show
// the text (never in what is sent or stored). No other language writes a space there, so this runs
// on every text the pages insert, whatever the page's language.

const NARROW = "\u202F"; // before ; ! ? (French typography's fine space)
const WIDE = "\u00A0"; // before : and inside « »

/** `text` with the spaces around French punctuation made unbreakable. */
export function unbreakablePunctuation(text) {
  return text
    .replace(/[ \u00A0\u202F]+([;!?])/g, `${NARROW}$1`)
    .replace(/[ \u00A0\u202F]+([:»])/g, `${WIDE}$1`)
    .replace(/«[ \u00A0\u202F]+/g, `«${WIDE}`);
}
