"""The scenario editor and the templates gallery in real headless Chromium.

One test builds a four-step scenario in English, French and Chinese from a blank page without
touching YAML (reordering by drag and by keyboard, every error shown at its field as it is typed),
previews it as a phone and as the projector, saves it, reloads, starts a session from it and runs
it with two phones. Another imports a broken YAML file and finds each error at its field. Others
check the gallery's filters, conflicts between two editors, and markup shown as text.

Each test starts its own server (memory backend, so an empty library) with ``tests/data`` as the
built-in folder; tests/test_library.py covers the library on every backend.
Screenshots go to a temporary folder, or to ``ATTUNE_SCREENSHOTS``; the suite never writes into
the checkout.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import (
    Browser,
    Dialog,
    FilePayload,
    FrameLocator,
    Page,
    ViewportSize,
    expect,
)

from attune.client import Client, create_session
from attune.core import protocol as p
from tests.support.browser import SHOTS, at_step
from tests.support.layout import settle
from tests.support.paths import DATA

pytestmark = [
    pytest.mark.browser,
    pytest.mark.served(DATA, backend="memory://", min_responses=2),
]
expect.set_options(timeout=10_000)

PHONE = ViewportSize(width=390, height=844)
PROJECTOR = ViewportSize(width=1280, height=720)
WIDE = ViewportSize(width=1920, height=1080)
HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script><b>bold?</b>'


class Watch:
    """Script errors and dialogs (an alert() from injected markup) must never happen."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.allowed: list[str] = []
        """Console lines expected in this test (the browser logs refused requests: 409, 422)."""

    def attach(self, page: Page) -> Page:
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        page.on("console", lambda m: self.errors.append(f"{page.url}: {m.text}")
                if m.type == "error" else None)

        async def dismiss(dialog: Dialog) -> None:
            self.dialogs.append(dialog.message)
            await dialog.dismiss()

        page.on("dialog", dismiss)
        return page

    def check(self) -> None:
        assert not self.dialogs, f"a dialog opened: {self.dialogs}"
        errors = [e for e in self.errors if not any(a in e for a in self.allowed)]
        assert not errors, "\n".join(errors)


async def device(browser: Browser, watch: Watch, size: ViewportSize, locale: str = "en-GB",
                 ) -> Page:
    phone = size == PHONE
    context = await browser.new_context(viewport=size, is_mobile=phone, has_touch=phone,
                                        locale=locale, accept_downloads=True)
    return watch.attach(await context.new_page())


async def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.evaluate("window.scrollTo(0, 0)")
    await settle(page)
    await page.screenshot(path=SHOTS / f"{name}.png", animations="disabled", caret="initial")


async def fits(page: Page) -> None:
    """Nothing wider than the viewport; every visible control a 44 px tap target at least."""
    wide = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert wide <= 1, f"{page.url} scrolls sideways by {wide}px"
    small = await page.evaluate("""() => [...document.querySelectorAll(
        '.ed-actions .button, .ed-step-button, .ed-tab, .ed-input, .scenario-card .button')]
        .filter(el => el.offsetParent !== null)
        .filter(el => { const r = el.getBoundingClientRect(); return r.height < 43.5; })
        .map(el => el.className + ': ' + el.textContent.slice(0, 30))""")
    assert not small, f"tap targets under 44 px: {small}"


def projector(page: Page) -> FrameLocator:
    """The projector preview: the real projector page in a frame (web/js/editor/preview.js)."""
    return page.frame_locator(".preview-projector-frame")


def field(page: Page, path: str) -> str:
    return f'[data-path="{path}"]'


async def type_in(page: Page, path: str, text: str) -> None:
    box = page.locator(f'{field(page, path)} :is(input, textarea)').first
    await box.fill(text)


async def tab(page: Page, lang: str) -> None:
    await page.locator(f".ed-tab[data-lang='{lang}']").click()
    await expect(page.locator(f".ed-tab.current[data-lang='{lang}']")).to_be_visible()


async def checked(page: Page) -> None:
    """Wait until the server's check of the latest keystroke came back: every change marks the
    status pending at once (``changed()`` in web/js/editor/main.js), the latest check's answer
    clears it."""
    await page.wait_for_function("() => !document.querySelector('.ed-status[data-pending]')")


# Chinese punctuation is full-width, as a Chinese facilitator types it.
STEPS = {
    "story": {
        "text": {"en": "Sam waits at the bus stop. The bus is late again.",
                 "fr": "Sam attend à l'arrêt de bus. Le bus est encore en retard.",
                 "zh": "小山在公交站等车。车又晚点了。"},
    },
    "choice": {
        "prompt": {"en": "What would you do?", "fr": "Que feriez-vous ?", "zh": "你会怎么做？"},  # noqa: RUF001
        "options[0].label": {"en": "Wait", "fr": "Attendre", "zh": "等"},
        "options[1].label": {"en": "Walk", "fr": "Marcher", "zh": "走路"},
    },
    "checkin": {
        "prompt": {"en": "How does Sam feel?", "fr": "Comment se sent Sam ?",
                   "zh": "小山感觉如何？"},  # noqa: RUF001
    },
    "reflect": {
        "prompt": {"en": "When did you last wait like Sam?",
                   "fr": "Quand avez-vous attendu comme Sam ?",
                   "zh": "你上次像小山一样等待是什么时候？"},  # noqa: RUF001
    },
}
TITLE = {"en": "The late bus", "fr": "Le bus en retard", "zh": "晚点的公交车"}
SUMMARY = {"en": "A short story, a feeling and a choice.",
           "fr": "Une histoire courte, un ressenti et un choix.",
           "zh": "一个小故事、一种感受和一个选择。"}


@pytest.mark.timeout(420)
async def test_build_a_trilingual_scenario_from_blank_save_reload_and_run_it(
    base: str, browser: Browser,
) -> None:
    watch = Watch()
    editor = await device(browser, watch, PROJECTOR)
    await editor.goto(f"{base}/console/")
    await editor.locator("#gallery-new").click()
    await expect(editor.locator(".ed-step-title").first).to_have_text("About this scenario")

    # The scenario's own fields, then French and Chinese: each tab marks what it lacks.
    await type_in(editor, "$.title", TITLE["en"])
    await type_in(editor, "$.summary", SUMMARY["en"])
    await editor.locator(f'{field(editor, "$.id")} button').click()
    await expect(editor.locator(f'{field(editor, "$.id")} input')).to_have_value("the-late-bus")
    for lang in ("fr", "zh"):
        languages = field(editor, "$.languages")
        await editor.locator(f'{languages} input[value="{lang}"] + label').click()
    await expect(editor.locator(".ed-tab")).to_have_count(3)
    await expect(editor.locator(".ed-tab[data-lang='fr'] .ed-tab-missing")).to_have_text(
        "2 missing")
    for lang in ("fr", "zh"):
        await tab(editor, lang)
        await type_in(editor, "$.title", TITLE[lang])
        await type_in(editor, "$.summary", SUMMARY[lang])
    await checked(editor)
    await expect(editor.locator(".ed-tab-missing")).to_have_count(0)

    # Four steps added in the wrong order, then put right by keyboard and by drag.
    for kind in ("choice", "story", "checkin", "reflect"):
        await editor.locator("#ed-new-kind").select_option(kind)
        await editor.locator("#ed-add-step").click()
    kinds = editor.locator("#ed-step-list .step-kind")
    await expect(kinds).to_have_text(["Choice", "Story", "Check-in", "Private reflection"])
    await editor.locator("#ed-step-list .ed-step-button[data-index='1']").focus()
    await editor.keyboard.press("Alt+ArrowUp")
    await expect(kinds).to_have_text(["Story", "Choice", "Check-in", "Private reflection"])
    await expect(editor.locator("#ed-step-list .ed-step-button[data-index='0']")).to_be_focused()
    await editor.locator("#ed-step-list .ed-step[data-index='2']").drag_to(
        editor.locator("#ed-step-list .ed-step[data-index='1']"))
    await expect(kinds).to_have_text(["Story", "Check-in", "Choice", "Private reflection"])

    # Empty steps: every missing text is an error next to its field, all at once.
    await editor.locator("#ed-step-list .ed-step-button[data-index='2']").click()
    await checked(editor)
    for path in ("$.steps[2].prompt", "$.steps[2].options[0].label", "$.steps[2].options[1].label"):
        await expect(editor.locator(f"{field(editor, path)} .ed-error").first).to_contain_text(
            "Missing translation")
    await expect(editor.locator(".ed-status")).to_contain_text("errors")

    order = ["story", "checkin", "choice", "reflect"]
    for index, kind in enumerate(order):
        await editor.locator(f"#ed-step-list .ed-step-button[data-index='{index}']").click()
        for lang in ("en", "fr", "zh"):
            await tab(editor, lang)
            for name, texts in STEPS[kind].items():
                await type_in(editor, f"$.steps[{index}].{name}", texts[lang])
        await checked(editor)
        await expect(editor.locator(f"#ed-step-list .ed-step-button[data-index='{index}'] "
                                    ".ed-badge-error")).to_have_count(0)
    await expect(editor.locator(".ed-status")).to_contain_text("No errors")

    # The preview is the step as the room will see it, in the tab's language.
    await editor.locator("#ed-step-list .ed-step-button[data-index='2']").click()
    await tab(editor, "fr")
    await checked(editor)
    phone = editor.locator(".preview-phone")
    await expect(phone.locator("h1")).to_have_text("Que feriez-vous ?")
    await expect(phone.locator(".option label")).to_have_text(["Attendre", "Marcher"])
    await expect(projector(editor).locator(".screen-options li")).to_have_text(
        ["Attendre", "Marcher"])
    await shoot(editor, "editor-choice-fr-1280x720")
    await fits(editor)
    await editor.set_viewport_size(WIDE)
    await tab(editor, "zh")
    await checked(editor)
    await expect(phone.locator("h1")).to_have_text("你会怎么做？")  # noqa: RUF001
    await shoot(editor, "editor-choice-zh-1920x1080")
    await fits(editor)
    await editor.set_viewport_size(PROJECTOR)

    await editor.locator("#ed-save").click()
    await expect(editor.locator("#ed-banner")).to_contain_text("Saved as “the-late-bus”")
    await expect(editor.locator(".ed-status")).to_contain_text("Saved (version 1)")
    assert editor.url.endswith("#open=the-late-bus")

    # A reload opens the saved scenario from the server, not from this page's memory.
    await editor.evaluate("localStorage.clear()")
    await editor.reload()
    await expect(editor.locator("#ed-title")).to_have_text("The late bus")
    await expect(editor.locator("#ed-step-list .step-kind")).to_have_text(
        ["Story", "Check-in", "Choice", "Private reflection"])
    await tab(editor, "zh")
    await expect(editor.locator(f'{field(editor, "$.title")} input')).to_have_value(TITLE["zh"])

    # The gallery lists it as saved, with its kinds and languages; a session starts from it.
    await editor.goto(f"{base}/console/")
    saved = editor.locator(".scenario-card[data-id='the-late-bus']")
    await expect(saved.locator(".kind-tag")).to_have_text(
        ["Story", "Check-in", "Choice", "Private reflection"])
    await expect(saved.locator(".tag")).to_have_count(3)
    await saved.locator("button[data-scenario]").click()
    code_box = editor.locator(".big-code")
    await expect(code_box).to_have_text(re.compile(r"^[A-Z2-9]{6}$"))
    code = (await code_box.text_content() or "").strip()
    phones = [await device(browser, watch, PHONE, locale) for locale in ("fr-FR", "zh-CN")]
    for phone_page in phones:
        await phone_page.goto(f"{base}/join/#{code}")
        await expect(phone_page.locator(".waiting")).to_be_visible()
    await editor.get_by_role("button", name="Start the session").click()
    for phone_page in phones:
        await expect(phone_page.locator(".story-text")).to_contain_text("Sam")
    await editor.locator(".controls .button-primary").click()
    for phone_page, word in zip(phones, ("happy", "sad"), strict=True):
        await expect(phone_page.locator("h1")).to_have_text("How does Sam feel?")
        await phone_page.locator(f"input[name='word'][value='{word}'] + label").click()
        await phone_page.locator(".answer-form button[type=submit]").click()
        await expect(phone_page.locator(".received")).to_be_visible()
    await expect(editor.locator("#live-count")).to_contain_text("2")
    await editor.locator(".controls .button-primary").click()
    for phone_page, option in zip(phones, ("a", "b"), strict=True):
        await phone_page.locator(f"input[name='option'][value='{option}'] + label").click()
        await phone_page.locator(".answer-form button[type=submit]").click()
        await expect(phone_page.locator(".received")).to_be_visible()
    await editor.locator("#toggle-reveal").click()
    await expect(editor.locator("#chart")).to_contain_text("Walk")
    watch.check()


BROKEN = """\
id: Broken Id
title: {en: Broken}
summary: A file with several mistakes
audience: [workshop]
duration_minutes: soon
languages: [en, fr]
steps:
  - kind: story
    text: {en: Once upon a time, fr: Il était une fois}
  - kind: checkin
    promt: {en: "How are you?", fr: "Ça va ?"}
  - kind: scale
    prompt: {en: "How much?", fr: "Combien ?"}
    min: 5
    max: 1
  - kind: choice
    prompt: {en: Pick, fr: Choisir}
    options:
      - {id: a, label: {en: A}}
      - {id: b, label: {en: B, fr: B}}
"""


WORDS = {
    "en-GB": {
        "line": "(line {n} of the file)", "minutes": "Expected a whole number, got text",
        "promt": "Unknown field “promt”", "prompt": "The field “prompt” is required",
        "translation": "Missing translation for French",
        "max": "The maximum must be greater than the minimum", "count": "errors",
        "imported": "Imported broken.yaml",
    },
    "fr-FR": {
        "line": "(ligne {n} du fichier)", "minutes": "un nombre entier",
        "promt": "Champ inconnu « promt »", "prompt": "Le champ « prompt » est obligatoire",
        "translation": "Traduction manquante en français",
        "max": "Le maximum doit être supérieur au minimum", "count": "erreurs",
        "imported": "broken.yaml",
    },
    "zh-CN": {
        "line": "（文件第 {n} 行）", "minutes": "应为整数，实际是文本",  # noqa: RUF001
        "promt": "未知字段“promt”", "prompt": "字段“prompt”是必填的",
        "translation": "缺少法语的翻译", "max": "最大值必须大于最小值", "count": "错误",
        "imported": "broken.yaml",
    },
}
"""What each mistake of BROKEN says in the editor's language (the server sends codes)."""


@pytest.mark.timeout(240)
@pytest.mark.parametrize("locale", list(WORDS))
async def test_importing_a_broken_file_shows_each_error_at_its_field(
    base: str, browser: Browser, locale: str,
) -> None:
    words = WORDS[locale]
    watch = Watch()
    editor = await device(browser, watch, PROJECTOR, locale=locale)
    await editor.goto(f"{base}/console/editor.html#new")
    await expect(editor.locator(".ed-step-button").first).to_be_visible()
    await editor.locator("#ed-import").set_input_files(files=[FilePayload(
        name="broken.yaml", mimeType="text/yaml", buffer=BROKEN.encode())])
    await expect(editor.locator("#ed-banner")).to_contain_text(words["imported"])
    lines = BROKEN.splitlines()

    def line_of(text: str) -> str:
        return words["line"].format(n=next(i for i, line in enumerate(lines) if text in line) + 1)

    suffix = "" if locale == "en-GB" else f"-{locale[:2]}"
    # The scenario's own fields: a bad id, minutes that are not a number.
    await expect(editor.locator(f'{field(editor, "$.id")} .ed-error')).to_contain_text(
        line_of("id: Broken"))
    minutes = field(editor, "$.duration_minutes")
    await expect(editor.locator(f"{minutes} .ed-error")).to_contain_text(words["minutes"])
    await expect(editor.locator(".ed-summary")).to_contain_text(words["count"])
    await shoot(editor, f"editor-import-errors{suffix}-1280x720")
    # The check-in: the misspelt field is kept and shown, the missing prompt marked.
    await editor.locator("#ed-step-list .ed-step-button[data-index='1']").click()
    await expect(editor.locator(f'{field(editor, "$.steps[1].promt")} .ed-error')).to_contain_text(
        words["promt"])
    await expect(editor.locator(f'{field(editor, "$.steps[1].prompt")} .ed-error')).to_contain_text(
        words["prompt"])
    await shoot(editor, f"editor-import-step{suffix}-1280x720")
    if locale != "en-GB":
        for size in (WIDE, PHONE):
            await editor.set_viewport_size(size)
            await editor.wait_for_timeout(100)
            name = f"editor-import-step{suffix}-{size['width']}x{size['height']}.png"
            await editor.screenshot(path=SHOTS / name, full_page=True, animations="disabled")
        await editor.set_viewport_size(PROJECTOR)
    # The import lists types first; fixing them brings the rules across fields (max > min,
    # translations) to their fields as well.
    await editor.locator(f'{field(editor, "$.steps[1].promt")} button').click()
    await type_in(editor, "$.steps[1].prompt", "How are you?")
    await editor.locator(".ed-about .ed-step-button").click()
    await type_in(editor, "$.duration_minutes", "10")
    await type_in(editor, "$.id", "broken-id")
    await checked(editor)
    await expect(editor.locator(f'{field(editor, "$.title")} .ed-error')).to_contain_text(
        words["translation"])
    await editor.locator("#ed-step-list .ed-step-button[data-index='2']").click()
    await expect(editor.locator(f'{field(editor, "$.steps[2].max")} .ed-error')).to_contain_text(
        words["max"])
    await editor.locator("#ed-step-list .ed-step-button[data-index='3']").click()
    await expect(editor.locator(f'{field(editor, "$.steps[3].options[0].label")} .ed-error')
                 ).to_contain_text(words["translation"])
    watch.check()


async def save_by_api(page: Page, base: str, scenario: dict[str, object]) -> None:
    status = await page.evaluate("""([base, body]) => fetch(base + '/api/scenarios', {
        method: 'POST', headers: {'content-type': 'application/json'},
        body: JSON.stringify(body)}).then(r => r.status)""", [base, scenario])
    assert status == 201


def late_bus() -> dict[str, object]:
    """The scenario the first test builds by hand, as the API takes it."""
    def step(kind: str) -> dict[str, object]:
        built: dict[str, object] = {"kind": kind}
        for name, text in STEPS[kind].items():
            if name.startswith("options"):
                options = built.setdefault("options", [{"id": "a"}, {"id": "b"}])
                options[int(name[8])]["label"] = text  # type: ignore[index]
            else:
                built[name] = text
        return built

    return {"id": "the-late-bus", "title": TITLE, "summary": SUMMARY,
            "audience": ["classroom", "workshop"], "duration_minutes": 15,
            "languages": ["en", "fr", "zh"],
            "steps": [step(kind) for kind in ("story", "checkin", "choice", "reflect")]}


def hostile_scenario(scenario_id: str) -> dict[str, object]:
    text = {"en": HOSTILE, "fr": HOSTILE + " fr", "zh": HOSTILE + " zh"}
    return {
        "id": scenario_id, "title": text, "summary": text, "audience": ["classroom"],
        "duration_minutes": 5, "languages": ["en", "fr", "zh"], "notes": text,
        "steps": [
            {"kind": "story", "title": text, "text": text, "notes": text,
             "characters": [{"name": text, "description": text}]},
            {"kind": "choice", "prompt": text, "options": [
                {"id": "a", "label": text}, {"id": "b", "label": text}],
             "predict": {"prompt": text}},
            {"kind": "scale", "prompt": text, "min_label": text, "max_label": text},
        ],
    }


@pytest.mark.timeout(300)
async def test_gallery_filters_and_markup_shown_as_text_everywhere(
    base: str, browser: Browser,
) -> None:
    watch = Watch()
    pages = {lang: await device(browser, watch, PROJECTOR, locale)
             for lang, locale in (("en", "en-GB"), ("fr", "fr-FR"), ("zh", "zh-CN"))}
    console = pages["en"]
    await console.goto(f"{base}/console/")
    await save_by_api(console, base, hostile_scenario("markup"))
    await save_by_api(console, base, late_bus())  # the newest, so the first saved card
    listed = await console.evaluate("fetch('/api/scenarios').then(r => r.json())")
    for lang, page in pages.items():
        await page.goto(f"{base}/console/")
        await expect(page.locator(".scenario-card")).to_have_count(len(listed))
        await shoot(page, f"console-gallery-{lang}-1280x720")
        await fits(page)
    card = console.locator(".scenario-card[data-id='markup']")
    await expect(card.locator("h2")).to_have_text(HOSTILE)
    await expect(card.locator(".scenario-origin")).to_have_text("Saved here")
    assert await console.locator(".scenario-card img, .scenario-card script, .scenario-card b"
                                 ).count() == 0
    # Filters: by audience, by language, together.
    def having(key: str, value: str) -> list[str]:
        return [s["id"] for s in listed if value in s[key]]

    await console.locator("#gallery-audience").select_option("classroom")
    await expect(console.locator(".scenario-card")).to_have_count(len(having("audience",
                                                                            "classroom")))
    await expect(console.locator(".scenario-card[data-id='markup']")).to_have_count(1)
    await console.locator("#gallery-audience").select_option("workshop")
    await expect(console.locator(".scenario-card[data-id='markup']")).to_have_count(0)
    await expect(console.locator(".scenario-card[data-id='every-kind']")).to_have_count(1)
    await console.locator("#gallery-language").select_option("zh")
    both = set(having("audience", "workshop")) & set(having("languages", "zh"))
    await expect(console.locator(".scenario-card")).to_have_count(len(both))
    await expect(console.locator(".gallery-count")).to_have_text(
        f"{len(both)} of {len(listed)} scenarios")
    await console.locator("#gallery-audience").select_option("")
    await console.locator("#gallery-language").select_option("")

    # The editor and both previews show every field as text.
    await card.locator("[data-edit]").click()
    await expect(console.locator("#ed-title")).to_have_text(HOSTILE)
    for index in (0, 1, 2):
        await console.locator(f"#ed-step-list .ed-step-button[data-index='{index}']").click()
        await checked(console)
        await expect(console.locator(".preview-phone h1")).to_have_text(HOSTILE)
        await expect(projector(console).locator("h1")).to_have_text(HOSTILE)
    await expect(console.locator(f'{field(console, "$.steps[2].prompt")} textarea')
                 ).to_have_value(HOSTILE)
    await console.locator("#ed-step-list .ed-step-button[data-index='1']").click()
    await checked(console)
    await expect(console.locator(".preview-phone .option label").first).to_have_text(HOSTILE)
    await expect(projector(console).locator(".screen-options li").first).to_have_text(
        HOSTILE)
    assert await console.locator("main img, main script, main b").count() == 0
    assert await projector(console).locator("main img, main script, main b").count() == 0
    await console.set_viewport_size(WIDE)
    await shoot(console, "editor-markup-1920x1080")
    watch.check()


@pytest.mark.timeout(300)
async def test_two_editors_saving_at_once_the_second_is_told_and_keeps_their_text(
    base: str, browser: Browser,
) -> None:
    watch = Watch()
    watch.allowed = ["409"]
    alice = await device(browser, watch, PROJECTOR)
    bob = await device(browser, watch, PROJECTOR)
    await alice.goto(f"{base}/console/")
    plain = hostile_scenario("shared")
    plain["title"] = {"en": "Shared", "fr": "Partagé", "zh": "共享"}
    await save_by_api(alice, base, plain)
    for page in (alice, bob):
        await page.goto(f"{base}/console/editor.html#open=shared")
        await expect(page.locator("#ed-title")).to_have_text("Shared")
    await type_in(alice, "$.title", "Alice's title")
    await type_in(bob, "$.title", "Bob's title")
    await alice.locator("#ed-save").click()
    await expect(alice.locator(".ed-status")).to_contain_text("Saved (version 2)")
    await bob.locator("#ed-save").click()
    await expect(bob.locator("#ed-banner")).to_contain_text("Someone else saved 'shared'")
    await expect(bob.locator(f'{field(bob, "$.title")} input')).to_have_value("Bob's title")
    await shoot(bob, "editor-conflict-1280x720")
    # Bob keeps his version as a copy; Alice's stays where it was.
    await bob.locator("#ed-banner").get_by_role("button", name="Save mine as a copy").click()
    await expect(bob.locator("#ed-new-id")).to_have_value("shared-copy")
    await bob.locator("#ed-save-as-confirm").click()
    await expect(bob.locator("#ed-banner")).to_contain_text("Saved as “shared-copy”")
    await bob.goto(f"{base}/console/")
    await expect(bob.locator(".scenario-card[data-id='shared'] h2")).to_have_text("Alice's title")
    await expect(bob.locator(".scenario-card[data-id='shared-copy'] h2")).to_have_text(
        "Bob's title")
    watch.check()


def many_steps(count: int) -> str:
    step = "  - {kind: reflect, prompt: Think of one thing.}\n"
    return ("id: many\ntitle: Many\nsummary: Too many steps\naudience: [workshop]\n"
            "duration_minutes: 5\nlanguages: [en]\nsteps:\n" + step * count)


@pytest.mark.parametrize(("name", "body", "expected"), [
    ("huge.yaml", "id: x\n" + "# padding\n" * 110_000, "limited to 256 KB"),
    ("bomb.yaml", "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a]\n",
     "aliases (*name) are not allowed"),
    ("many.yaml", many_steps(500), "at most 100 steps; this one has 500"),
])
@pytest.mark.timeout(240)
async def test_hostile_files_are_refused_or_opened_with_their_error(
    base: str, browser: Browser, name: str, body: str, expected: str,
) -> None:
    watch = Watch()
    editor = await device(browser, watch, PROJECTOR)
    await editor.goto(f"{base}/console/editor.html#new")
    await expect(editor.locator(".ed-step-button").first).to_be_visible()
    await editor.locator("#ed-import").set_input_files(files=[FilePayload(
        name=name, mimeType="text/yaml", buffer=body.encode())])
    if name == "many.yaml":
        # It opens (nothing typed is lost), all 500 steps listed, and says what is too many.
        await expect(editor.locator("#ed-step-list .ed-step")).to_have_count(500)
        await expect(editor.locator(".ed-summary")).to_contain_text(expected)
        await editor.locator("#ed-step-list .ed-step-button[data-index='499']").click()
        await expect(editor.locator(f'{field(editor, "$.steps[499].prompt")} textarea')
                     ).to_have_value("Think of one thing.")
    else:
        await expect(editor.locator("#ed-banner")).to_contain_text(expected)
        await expect(editor.locator("#ed-step-list .ed-step")).to_have_count(0)
    watch.check()


LAYOUT = """() => {
  const box = (el) => { const r = el.getBoundingClientRect();
    return [r.left, r.top, r.width, r.height].map(v => Math.round(v)); };
  const style = (el) => getComputedStyle(el).fontSize;
  const head = document.querySelector('.screen-head');
  const stage = document.querySelector('.screen-stage');
  return { viewport: [innerWidth, innerHeight], rem: style(document.documentElement),
           head: box(head), stage: box(stage), headSize: style(head), stageSize: style(stage),
           question: box(head.querySelector('.step-prompt, h1')),
           options: [...document.querySelectorAll('.screen-options li')].map(box) };
}"""
"""Where the projector puts a step's parts, and at what size, measured in its page."""

LONG = DATA / "fit" / "long-content.yaml"
CHOICE = 3
"""The twelve-option choice step of the fit suite's long content."""


@pytest.mark.timeout(300)
@pytest.mark.parametrize("locale", ["en-GB", "fr-FR", "zh-CN"])
async def test_the_projector_preview_is_the_projector_at_its_scale(
    base: str, browser: Browser, locale: str,
) -> None:
    """The editor's projector preview lays a step out exactly as a 1280x720 projector does (the
    same page at the same size, scaled as a picture), shot side by side with the real one."""
    language = locale[:2]
    text = LONG.read_text(encoding="utf-8")
    watch = Watch()
    created = await create_session(base, scenario_yaml=text, language=language)
    host = await Client.facilitator(created)
    await host.command(p.Start())
    await host.command(p.Goto(step=CHOICE))
    screen = await device(browser, watch, PROJECTOR, locale)
    await screen.goto(f"{base}/screen/#{created.code}")
    await at_step(screen, CHOICE)
    editor = await device(browser, watch, PROJECTOR, locale)
    await editor.goto(f"{base}/console/editor.html#new")
    await expect(editor.locator(".ed-step-button").first).to_be_visible()
    await editor.locator("#ed-import").set_input_files(files=[FilePayload(
        name="long-content.yaml", mimeType="text/yaml", buffer=text.encode())])
    await expect(editor.locator("#ed-banner")).to_contain_text("long-content.yaml")
    await editor.locator(f"#ed-step-list .ed-step-button[data-index='{CHOICE}']").click()
    await tab(editor, language)
    await checked(editor)
    preview = projector(editor)
    await preview.locator(f"body[data-step='{CHOICE}']").wait_for(state="attached")
    await expect(preview.locator(".screen-options li")).to_have_count(12)
    await settle(screen)
    await editor.wait_for_timeout(300)  # the frame's own fitting pass
    real = await screen.evaluate(LAYOUT)
    shown = await preview.locator("html").evaluate(f"(_) => ({LAYOUT})()")
    assert shown == real, f"the preview lays the step out otherwise:\n{shown}\n{real}"
    # The whole projector is in the column, scaled, nothing cut: a 16:9 picture.
    frame = await editor.locator(".preview-projector-frame").bounding_box()
    box = await editor.locator(".preview-projector-screen").evaluate(
        "el => [el.parentElement.clientWidth, el.parentElement.clientHeight]")
    assert frame is not None
    assert abs(frame["width"] / frame["height"] - 16 / 9) < 0.01
    assert abs(frame["width"] - box[0]) <= 1 and abs(frame["height"] - box[1]) <= 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    await screen.screenshot(path=SHOTS / f"editor-preview-real-{language}-1280x720.png")
    await shoot(editor, f"editor-preview-{language}-1280x720")
    await editor.locator(".preview-projector").screenshot(
        path=SHOTS / f"editor-preview-frame-{language}-1280x720.png")
    for size in (WIDE, PHONE):
        await editor.set_viewport_size(size)
        await editor.wait_for_timeout(200)
        await editor.locator(".preview-projector").scroll_into_view_if_needed()
        await editor.screenshot(
            path=SHOTS / f"editor-preview-{language}-{size['width']}x{size['height']}.png")
    await host.close()
    watch.check()
