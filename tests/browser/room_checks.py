"""What the back of the room needs from a projector view, beyond the fit probe
(tests/support/layout.py, which says nothing leaves the viewport and no fitted box is cut): the
content uses most of the height the join strip leaves, no text is cut short with an ellipsis or a
line clamp, and anything one could tap is at least 44 px tall. Measured in Chromium."""

from __future__ import annotations

from playwright.async_api import Page

USED = 0.8
"""The share of the height between the top of the page and the join strip that the drawn content
must span (from its first line to its last): a third left empty is a third nobody reads."""

# What is drawn: text (the boxes of its lines), SVG and images, and boxes with no element inside
# (bars, swatches, dots). Boxes that hold other boxes (columns, tiles, panels) are not content:
# a white column with three lines at its top is a column two thirds empty.
ROOM_PROBLEMS = """(used) => {
  const problems = [];
  const strip = document.getElementById('join-strip');
  const bottom = strip && !strip.hidden ? strip.getBoundingClientRect().top : innerHeight;
  const name = (el) => el.tagName.toLowerCase()
    + (typeof el.className === 'string' && el.className
      ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  const shown = (el) => {
    if (el.closest('.visually-hidden, [hidden], [aria-hidden="true"].pager-single')) return false;
    const style = getComputedStyle(el);
    return style.visibility !== 'hidden' && style.display !== 'none' && Number(style.opacity) > 0;
  };
  let top = Infinity, low = -Infinity;
  const take = (r) => {
    if (r.width < 1 || r.height < 1) return;
    top = Math.min(top, r.top); low = Math.max(low, r.bottom);
  };
  const main = document.getElementById('main');
  for (const el of main.querySelectorAll('*')) {
    if (!shown(el)) continue;
    if (el.closest('svg') && el.tagName.toLowerCase() !== 'svg') continue;
    if (['svg', 'img', 'canvas'].includes(el.tagName.toLowerCase())
        || !el.children.length) take(el.getBoundingClientRect());
    for (const node of el.childNodes) {
      if (node.nodeType !== Node.TEXT_NODE || !node.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      for (const r of range.getClientRects()) take(r);
    }
    const style = getComputedStyle(el);
    if (style.textOverflow === 'ellipsis' && el.scrollWidth > el.clientWidth + 1)
      problems.push(`text cut with an ellipsis: ${name(el)} "${el.textContent.slice(0, 40)}"`);
    const clamp = style.webkitLineClamp;
    if (clamp && clamp !== 'none' && el.scrollHeight > el.clientHeight + 1)
      problems.push(`text clamped to ${clamp} lines: ${name(el)} "${el.textContent.slice(0, 40)}"`);
  }
  const span = top === Infinity ? 0 : (low - Math.max(0, top)) / bottom;
  if (span < used)
    problems.push(`the content spans ${Math.round(100 * span)}% of the height above the join `
      + `strip (${Math.round(top)} to ${Math.round(low)} of ${Math.round(bottom)} px), `
      + `under ${Math.round(100 * used)}%`);
  for (const el of document.querySelectorAll('button, a[href], input, select, textarea, summary')) {
    if (!shown(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.height > 0 && r.height < 44)
      problems.push(`tap target under 44 px: ${name(el)} ${Math.round(r.height)} px`);
  }
  return problems;
}"""


async def room_problems(screen: Page, where: str, used: float = USED) -> list[str]:
    """``ROOM_PROBLEMS`` for the projector page as it is now, each named with ``where``."""
    return [f"{where}: {problem}" for problem in await screen.evaluate(ROOM_PROBLEMS, used)]
