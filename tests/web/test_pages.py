"""Every HTML page's head in one form, and nothing inline that the strict CSP would refuse.

The pages are static files (no build step, no templates), so their heads are written out in each
file; this test is what keeps them alike: the same metas in the same order, the favicon,
attune.css before the page's own sheets, one module script whose start is web/js/page.js, and no
inline script, style or handler anywhere in the markup. It also checks that the pages are served
with the Content-Security-Policy header those rules rely on.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.support.servers import Running

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
PAGES = sorted(WEB.rglob("*.html"))
VIEWPORT = "width=device-width, initial-scale=1"
SAFE_AREA = {"join/index.html"}
"""The phone page pads its send bar with env(safe-area-inset-bottom), so it asks for the whole
screen; the other pages keep the browser's safe area."""
HEAD = ["meta charset", "meta viewport", "meta color-scheme", "meta referrer", "title", "link icon"]
"""The head's opening, in order; the stylesheets and the one module script follow."""


class Markup(HTMLParser):
    """The head's elements in order, and every attribute and inline text the CSP concerns."""

    def __init__(self) -> None:
        super().__init__()
        self.head: list[tuple[str, dict[str, str]]] = []
        self.in_head = False
        self.in_script = False
        self.inline: list[str] = []
        self.html: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "html":
            self.html = found
        elif tag == "head":
            self.in_head = True
        elif self.in_head:
            self.head.append((tag, found))
        if tag == "style":
            self.inline.append("a <style> element")
        if tag == "script":
            self.in_script = True
            if "src" not in found:
                self.inline.append("an inline <script>")
        for key in found:
            if key == "style" or key.startswith("on"):
                self.inline.append(f"a {key}= attribute on <{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self.in_head = False
        if tag == "script":
            self.in_script = False

    def handle_data(self, data: str) -> None:
        if self.in_script and data.strip():
            self.inline.append("script text")


def parsed(page: Path) -> Markup:
    markup = Markup()
    markup.feed(page.read_text(encoding="utf-8"))
    return markup


def name(tag: str, attrs: dict[str, str]) -> str:
    if tag == "meta":
        return "meta charset" if "charset" in attrs else f"meta {attrs.get('name', '?')}"
    if tag == "link":
        return f"link {attrs.get('rel', '?')}"
    return tag


def test_every_page_is_checked() -> None:
    assert {p.relative_to(WEB).as_posix() for p in PAGES} >= {
        "index.html", "join/index.html", "screen/index.html", "console/index.html",
        "console/remote.html", "console/editor.html", "console/report.html",
    }


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(WEB).as_posix())
def test_the_head_has_one_form(page: Path) -> None:
    where = page.relative_to(WEB).as_posix()
    markup = parsed(page)
    head = markup.head
    assert markup.html.get("lang") == "en", "the language is set by i18n.js from 'en'"
    assert [name(*element) for element in head[: len(HEAD)]] == HEAD
    metas = {name(tag, attrs): attrs for tag, attrs in head if tag == "meta"}
    assert metas["meta charset"]["charset"] == "utf-8"
    viewport = f"{VIEWPORT}, viewport-fit=cover" if where in SAFE_AREA else VIEWPORT
    assert metas["meta viewport"]["content"] == viewport
    assert metas["meta color-scheme"]["content"] == "light"
    assert metas["meta referrer"]["content"] == "no-referrer"
    title = head[HEAD.index("title")][1]
    english = json.loads((WEB / "i18n" / "en.json").read_text(encoding="utf-8"))
    assert title.get("data-i18n") in english, "the tab title is translated"
    icon = head[HEAD.index("link icon")][1]
    assert (icon["href"], icon.get("type")) == ("/favicon.svg", "image/svg+xml")

    rest = head[len(HEAD):]
    sheets = [attrs["href"] for tag, attrs in rest
              if tag == "link" and attrs.get("rel") == "stylesheet"]
    scripts = [attrs for tag, attrs in rest if tag == "script"]
    order = [tag for tag, _ in rest]
    assert order == ["link"] * len(sheets) + ["script"], "the sheets, then one script"
    assert sheets[0] == "/css/attune.css"
    assert len(set(sheets)) == len(sheets)
    assert scripts[0].get("type") == "module"
    for href in [*sheets, scripts[0]["src"]]:
        assert (WEB / href.lstrip("/")).is_file(), f"{href} is not in web/"
    source = (WEB / scripts[0]["src"].lstrip("/")).read_text(encoding="utf-8")
    assert "page.js" in source, "the page starts through web/js/page.js (setupPage)"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(WEB).as_posix())
def test_nothing_inline_for_the_csp_to_refuse(page: Path) -> None:
    assert parsed(page).inline == []


@pytest.fixture
def backend_url() -> str:
    """Serving static pages is the same on every backend: memory only."""
    return "memory://"


def served(url: str) -> tuple[int, str]:
    """The status and the Content-Security-Policy header of a GET."""
    try:
        with urllib.request.urlopen(url) as response:
            return response.status, response.headers["content-security-policy"]
    except urllib.error.HTTPError as refused:
        with refused:
            return refused.code, refused.headers["content-security-policy"]


async def test_pages_are_served_with_the_strict_csp(server: Running) -> None:
    for page in PAGES:
        path = "/" + page.relative_to(WEB).as_posix().removesuffix("index.html")
        status, csp = await asyncio.to_thread(served, server.base + path)
        assert status == 200, path
        assert "script-src 'self'" in csp and "style-src 'self'" in csp, path
        assert "unsafe-inline" not in csp, path


async def test_axe_core_is_not_served(server: Running) -> None:
    """A test tool: the browser tests inject it from tests/support/axe-core/."""
    status, _ = await asyncio.to_thread(served, f"{server.base}/vendor/axe-core/axe.min.js")
    assert status == 404
    assert (ROOT / "tests" / "support" / "axe-core" / "axe.min.js").is_file()


async def test_only_the_projector_preview_may_be_framed_and_only_here(server: Running) -> None:
    """The editor shows /screen/preview.html in a frame; every other page refuses any frame."""
    for page in PAGES:
        path = "/" + page.relative_to(WEB).as_posix().removesuffix("index.html")
        _, csp = await asyncio.to_thread(served, server.base + path)
        framed = "frame-ancestors 'self'" if path == "/screen/preview.html" \
            else "frame-ancestors 'none'"
        assert framed in csp, path
