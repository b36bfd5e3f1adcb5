"""Layout checks run inside a page: what the room must always see, measured in Chromium."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page, ViewportSize

ZH_COMMA = "\uff0c"

# Measured in the page: every visible element, its box against the viewport, and every fitted box
# against its content. Elements inside a visually hidden region (screen-reader text) are skipped.
PROJECTOR_PROBLEMS = """() => {
  const problems = [];
  const W = innerWidth, H = innerHeight;
  const root = document.scrollingElement;
  if (root.scrollHeight > H + 1 || root.scrollWidth > W + 1)
    problems.push(`page scrolls: ${root.scrollWidth}x${root.scrollHeight} in ${W}x${H}`);
  const name = (el) => el.tagName.toLowerCase()
    + (typeof el.className === 'string' && el.className
      ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('.visually-hidden, [hidden], svg')) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.left < -1 || r.top < -1 || r.right > W + 1 || r.bottom > H + 1)
      problems.push(`outside the viewport: ${name(el)} `
        + `${[r.left, r.top, r.right, r.bottom].map(Math.round)} `
        + `"${(el.textContent || '').slice(0, 40)}"`);
  }
  const fitted = '.screen-head, .screen-stage, .fit-pages, .fit-fill';
  for (const el of document.querySelectorAll(fitted)) {
    if (el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1)
      problems.push(`cut: ${name(el)} holds ${el.scrollWidth}x${el.scrollHeight}`
        + ` in ${el.clientWidth}x${el.clientHeight}`);
  }
  return problems;
}"""


async def settle(page: Page) -> None:
    """Wait for fonts and the fitter's resize pass (two animation frames)."""
    await page.evaluate("""document.fonts.ready.then(() => new Promise(
        (r) => requestAnimationFrame(() => requestAnimationFrame(r))))""")


async def projector_problems(screen: Page, sizes: list[ViewportSize], where: str, shot: str,
                             join_strip: bool = False) -> list[str]:
    """The layout problems of a projector page at each size (``PROJECTOR_PROBLEMS``, and a join
    strip not shown when ``join_strip``), each named with ``where`` and the size; a screenshot
    per size at ``shot`` with ``{width}`` in its name filled in."""
    found: list[str] = []
    for size in sizes:
        await screen.set_viewport_size(size)
        await settle(screen)
        at = f"{where} {size['width']}x{size['height']}"
        found += [f"{at}: {problem}" for problem in await screen.evaluate(PROJECTOR_PROBLEMS)]
        if join_strip and not await screen.locator("#join-strip").is_visible():
            found.append(f"{at}: the join strip is not visible")
        await screen.screenshot(path=Path(shot.format(width=size["width"])),
                                animations="disabled")
    return found
