"""Before/after shifts and assigned characters in real Chromium: projector and phone, en/fr/zh.

A room of protocol clients (real sockets) and one real phone page run the built-in
``breathing-body-checkin`` (a check-in and a scale, each compared with the first) and
``three-chairs`` (a check-in and a free-text step handing out three characters). At each reveal
the projector is measured at 1920x1080 and 1280x720 with the fit suite's own probe (no scroll,
nothing outside the viewport, no fitted box cut) and for what the back of the room needs (most of
the height used, no text cut short, 44 px targets: room_checks.py), and the phone shows its
private part: its own shift, or the character it was given. Screenshots go to a temporary folder
or ``ATTUNE_SCREENSHOTS``.
"""

from __future__ import annotations

import asyncio

import pytest
import yaml
from playwright.async_api import Browser, Page, ViewportSize, expect

from attune.client import Client, create_session
from attune.core import protocol as p
from tests.browser.room_checks import room_problems
from tests.support.browser import PHONE, SHOTS, Watch
from tests.support.layout import PROJECTOR_PROBLEMS, ZH_COMMA, settle
from tests.support.paths import BUILTIN, DATA

pytestmark = [
    pytest.mark.browser,
    pytest.mark.served(BUILTIN / "breathing-body-checkin.yaml",
                       BUILTIN / "three-chairs.yaml", min_responses=3),
]
expect.set_options(timeout=15_000)

PROJECTORS = [ViewportSize(width=1920, height=1080), ViewportSize(width=1280, height=720)]
ROOM = 11
"""Protocol clients beside the one phone page: 12 people, 4 per character in three-chairs."""
MOVES = ([("stressed", "calm"), ("anxious", "relaxed"), ("worried", "calm"),
          ("frustrated", "peaceful"), ("overwhelmed", "content")] * 2
         + [("stressed", "stressed"), ("anxious", "worried"), ("frustrated", "stressed"),
            ("worried", "anxious")]
         + [("stressed", "tired"), ("overwhelmed", "drained"), ("anxious", "tired")]
         + [("tired", "calm"), ("drained", "relaxed"), ("sad", "calm"), ("tired", "content")]
         + [("tired", "tired"), ("drained", "sad"), ("sad", "drained")]
         + [("calm", "calm"), ("relaxed", "calm"), ("content", "peaceful")]
         + [("excited", "calm"), ("energized", "excited")])
"""A room of 30 with the phone (stressed, then calm): most of the stressed calmer, some tired,
two alone in their movement (hidden, with what would give them away)."""
YOU_ARE = {"en": "You are", "fr": "Vous êtes", "zh": "你是"}
NOTHING_TO_MERGE = {"en": "Nothing to merge with", "fr": "Rien avec quoi fusionner",
                    "zh": "没有可合并的主题"}
RENAMED = {"en": "Nobody sees the nights", "fr": "Personne ne voit les nuits",
           "zh": "没人看见那些深夜"}
THOUGHTS = {
    "en": ["I stayed up until two finishing slides nobody else touched, and now I'm the one "
           "who looks unfair", "If I say why, everyone will look at me differently",
           "Group marks are fair on paper; I can't hear every family story in a lesson"],
    "fr": ["J'ai veillé jusqu'à deux heures sur des diapositives que personne d'autre n'a "
           "touchées, et c'est moi qui passe pour la méchante",
           "Si je dis pourquoi, tout le monde va me regarder autrement",
           "La note de groupe est juste sur le papier ; je ne peux pas tout savoir en un cours"],
    "zh": [f"我熬到两点做完了没人碰过的幻灯片{ZH_COMMA}现在反倒是我看起来很刻薄",
           f"如果我说出原因{ZH_COMMA}大家看我的眼光都会变",
           f"小组统一打分本来是公平的{ZH_COMMA}一节课里我不可能了解每个家庭的情况"],
}


async def pages(browser: Browser, watch: Watch, base: str, code: str, language: str
                ) -> tuple[Page, Page]:
    locale = {"en": "en-GB", "fr": "fr-FR", "zh": "zh-CN"}[language]
    screen_context = await browser.new_context(viewport=PROJECTORS[0], locale=locale)
    phone_context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                              locale=locale)
    screen = watch.attach(await screen_context.new_page())
    phone = watch.attach(await phone_context.new_page())
    await screen.goto(f"{base}/screen/#{code}")
    await phone.goto(f"{base}/join/#{code}")
    await expect(phone.locator(".waiting h1")).to_be_visible()
    return screen, phone


async def check_projector(screen: Page, name: str) -> list[str]:
    failures: list[str] = []
    for size in PROJECTORS:
        await screen.set_viewport_size(size)
        await settle(screen)
        await screen.wait_for_timeout(200)
        where = f"{name} {size['width']}x{size['height']}"
        failures += [f"{where}: {problem}" for problem in await screen.evaluate(PROJECTOR_PROBLEMS)]
        failures += await room_problems(screen, where)
        await screen.screenshot(path=SHOTS / f"compare-{name}-{size['width']}x{size['height']}.png",
                                animations="disabled")
    return failures


async def check_report(browser: Browser, watch: Watch, base: str, session: str, token: str,
                       chart: str, count: int, name: str) -> None:
    """The printable report draws the same shift and per-character charts from the export."""
    context = await browser.new_context(viewport=ViewportSize(width=1280, height=800))
    report = watch.attach(await context.new_page())
    await report.goto(f"{base}/console/report.html#{session}.{token}")
    await expect(report.locator(f".report-step > {chart}")).to_have_count(count)
    await report.screenshot(path=SHOTS / f"compare-{name}-report.png", full_page=True)
    await context.close()


async def phone_answers_word(phone: Page, step: int, word: str) -> None:
    await expect(phone.locator(f'section.step[data-step="{step}"]')).to_be_visible()
    await phone.locator(f'input[name="word"][value="{word}"] + label').click()
    await phone.locator('.answer-form button[type="submit"]').click()
    await expect(phone.locator(".received")).to_be_visible()


async def room_of(base: str, code: str, n: int = ROOM) -> list[Client]:
    return list(await asyncio.gather(*(Client.participant(code, base=base) for _ in range(n))))


async def step_for_all(host: Client, room: list[Client], command: p.FacilitatorCommand,
                       index: int) -> None:
    await host.command(command)
    for client in [host, *room]:
        await client.expect(p.StepEvent, lambda e: e.step.index == index, timeout=10)


@pytest.mark.parametrize("language", ["en", "fr", "zh"])
async def test_shift_reveal_fits_the_projector_and_the_phone_sees_its_own(
    base: str, browser: Browser, language: str,
) -> None:
    created = await create_session(base, "breathing-body-checkin", language=language)
    host = await Client.facilitator(created)
    room = await room_of(base, created.code, len(MOVES))
    watch = Watch()
    screen, phone = await pages(browser, watch, base, created.code, language)

    await step_for_all(host, room, p.Start(), 0)
    await phone_answers_word(phone, 0, "stressed")
    for client, (word, _) in zip(room, MOVES, strict=True):
        await client.answer(0, p.CheckinValue(word=word, intensity=3))
    await step_for_all(host, room, p.Next(), 1)
    await expect(phone.locator('section.step[data-step="1"]')).to_be_visible()
    await phone.locator('.answer-form button[type="submit"]').click()
    for n, client in enumerate(room):
        await client.answer(1, p.ScaleValue(value=4 + n % 2))
    await step_for_all(host, room, p.Goto(step=5), 5)
    await phone_answers_word(phone, 5, "calm")
    for client, (_, word) in zip(room, MOVES, strict=True):
        await client.answer(5, p.CheckinValue(word=word, intensity=2))
    # The facilitator sees the shift live, before the room does.
    console_context = await browser.new_context(viewport=ViewportSize(width=1280, height=800))
    console = watch.attach(await console_context.new_page())
    await console.goto(f"{base}/console/#{created.session}.{created.token}")
    await expect(console.locator("#chart .chart-shift")).to_be_visible()
    await console.screenshot(path=SHOTS / f"compare-{language}-checkin-console.png")
    await console_context.close()
    await host.command(p.Reveal())
    await expect(screen.locator(".chart-shift")).to_be_visible()
    await expect(screen.locator(".chart-shift .chart-headline")).to_contain_text("%")
    # The flow diagram draws what the server sent and nothing else: a band for each shown flow
    # of anyone, a dashed line (no width) for each hidden one, and only shown counts.
    watcher = await Client.screen(created.code, base=base)
    shift = (await watcher.expect(p.Results, lambda r: r.shift is not None, timeout=10)).shift
    assert isinstance(shift, p.CheckinShift)
    shown = [f.count for f in shift.flows if f.count]
    hidden = [f for f in shift.flows if f.count is None]
    assert shown and hidden, "the room has flows shown and flows hidden"
    await expect(screen.locator(".alluvial-band")).to_have_count(len(shown))
    await expect(screen.locator(".alluvial-hidden")).to_have_count(len(hidden))
    marks = await screen.locator(".alluvial-count").all_inner_texts()
    assert marks and {int(m) for m in marks} <= set(shown)
    await watcher.close()
    # Two sentences under the flows (who answered both, what is hidden), joined as the
    # language writes them: a space after ".", none after "。".
    note = await screen.locator(".chart-shift .chart-note").inner_text()
    assert ("。" in note) == (language == "zh") and "。 " not in note
    assert language == "zh" or ". " in note
    failures = await check_projector(screen, f"{language}-checkin")
    own = phone.locator(".own-shift")
    await expect(own).to_be_visible()
    await phone.screenshot(path=SHOTS / f"compare-{language}-checkin-phone.png", full_page=True)

    await step_for_all(host, room, p.Next(), 6)
    await expect(phone.locator('section.step[data-step="6"]')).to_be_visible()
    await phone.locator('.answer-form button[type="submit"]').click()
    for n, client in enumerate(room):
        await client.answer(6, p.ScaleValue(value=2 + n % 3))
    await host.command(p.Reveal())
    await expect(screen.locator(".chart-shift .shift-scales")).to_be_visible()
    failures += await check_projector(screen, f"{language}-scale")
    await expect(phone.locator(".own-shift")).to_be_visible()
    await phone.screenshot(path=SHOTS / f"compare-{language}-scale-phone.png", full_page=True)
    await check_report(browser, watch, base, created.session, created.token, ".chart-shift", 2,
                       f"{language}-shift")
    assert not failures, "\n".join(failures)
    watch.check()
    await asyncio.gather(*(c.close() for c in [host, *room]))


@pytest.mark.served(BUILTIN / "breathing-body-checkin.yaml", BUILTIN / "three-chairs.yaml",
                   min_responses=3, themes=True)  # three-chairs groups each character's answers
@pytest.mark.parametrize("language", ["en", "fr", "zh"])
async def test_assigned_characters_side_by_side_on_the_projector(
    base: str, browser: Browser, language: str,
) -> None:
    created = await create_session(base, "three-chairs", language=language)
    host = await Client.facilitator(created)
    room = await room_of(base, created.code)
    watch = Watch()
    screen, phone = await pages(browser, watch, base, created.code, language)

    await step_for_all(host, room, p.Start(), 0)
    await step_for_all(host, room, p.Next(), 1)
    given = [(await client.expect(p.Assigned)).character.id for client in room]
    assigned = phone.locator(".assigned-title")
    await expect(assigned).to_contain_text(YOU_ARE[language])
    await phone.screenshot(path=SHOTS / f"compare-{language}-assigned-phone.png", full_page=True)
    words: dict[str | None, str] = {"amara": "frustrated", "leo": "scared", "teacher": "worried"}
    for client, character in zip(room, given, strict=True):
        await client.answer(1, p.CheckinValue(word=words[character], intensity=4))
    await phone_answers_word(phone, 1, "hurt")
    await host.command(p.Reveal())
    await expect(screen.locator(".character-column")).to_have_count(3)
    failures = await check_projector(screen, f"{language}-characters-checkin")

    await step_for_all(host, room, p.Next(), 2)
    await expect(phone.locator(".assigned-title")).to_contain_text(YOU_ARE[language])
    index: dict[str | None, int] = {"amara": 0, "leo": 1, "teacher": 2}
    for client, character in zip(room, given, strict=True):
        await client.answer(2, p.TextValue(text=THOUGHTS[language][index[character]]))
    await phone.locator("textarea").fill(THOUGHTS[language][0])
    await phone.locator('.answer-form button[type="submit"]').click()
    await expect(phone.locator(".received")).to_be_visible()
    # A classroom scenario queues cards for the facilitator's approval (core/moderation.py).
    await host.command(p.ApproveAll(step=2))
    await host.command(p.Reveal())
    # The step asks for themes: each column's answers are grouped apart on reveal.
    await expect(screen.locator(".character-column .theme-tile").first).to_be_visible(
        timeout=60_000)
    await expect(screen.locator(".character-column .chart-themes")).to_have_count(3)
    # The console edits each character's themes apart, and a rename reaches the projector.
    console_context = await browser.new_context(
        viewport=ViewportSize(width=1280, height=800),
        locale={"en": "en-GB", "fr": "fr-FR", "zh": "zh-CN"}[language])
    console = watch.attach(await console_context.new_page())
    await console.goto(f"{base}/console/#{created.session}.{created.token}")
    sections = console.locator(".themes-character")
    await expect(sections).to_have_count(3)
    await expect(sections.first.locator(".themes-character-name")).to_have_text("Amara")
    name = sections.first.locator(".theme-name").first
    await name.fill(RENAMED[language])
    await name.press("Enter")
    await expect(screen.locator(".character-column .theme-label").first).to_have_text(
        RENAMED[language])
    # Four answers each make one theme per character: nothing to merge it with, and the menu
    # says so instead of opening empty.
    merge = sections.first.locator(".theme-merge")
    await expect(merge).to_have_count(1)
    await expect(merge).to_be_disabled()
    await expect(merge.locator("option")).to_have_count(1)
    assert (await merge.locator("option").inner_text()).strip() == NOTHING_TO_MERGE[language]
    await sections.first.scroll_into_view_if_needed()
    await console.screenshot(path=SHOTS / f"compare-{language}-characters-console.png")
    await console.set_viewport_size(PHONE)  # a facilitator running the room from a phone
    await merge.scroll_into_view_if_needed()
    box = await merge.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    await console.screenshot(path=SHOTS / f"compare-{language}-characters-console-phone.png")
    await console_context.close()
    failures += await check_projector(screen, f"{language}-characters-text")
    await phone.screenshot(path=SHOTS / f"compare-{language}-characters-phone.png",
                           full_page=True)
    await check_report(browser, watch, base, created.session, created.token,
                       ".chart-characters", 2, f"{language}-characters")
    assert not failures, "\n".join(failures)
    watch.check()
    await asyncio.gather(*(c.close() for c in [host, *room]))


@pytest.mark.served(BUILTIN / "three-chairs.yaml", min_responses=3, themes=True)
@pytest.mark.parametrize("language", ["en", "fr", "zh"])
async def test_themes_per_character_fit_the_projector(
    base: str, browser: Browser, language: str,
) -> None:
    """A room of 30 answering as three characters, each character's ten answers from the labelled
    set (several themes each, long texts): each column shows its own themes and fits."""
    answers = yaml.safe_load((DATA / "themes" / "noor.yaml").read_text("utf-8"))["answers"]
    created = await create_session(base, "three-chairs", language=language)
    host = await Client.facilitator(created)
    room = await room_of(base, created.code, 30)
    watch = Watch()
    screen, _ = await pages(browser, watch, base, created.code, language)
    await step_for_all(host, room, p.Start(), 0)
    await step_for_all(host, room, p.Goto(step=2), 2)
    given = [(await client.expect(p.Assigned)).character.id for client in room]
    themes = ("deadline", "family", "tired", "space")
    pools: dict[str | None, list[str]] = {
        c: [t for theme in themes for t in answers[theme][language][i::3][:3]]
        for i, c in enumerate(("amara", "leo", "teacher"))}
    for client, character in zip(room, given, strict=True):
        await client.answer(2, p.TextValue(text=pools[character].pop()))
    await host.command(p.ApproveAll(step=2))
    await host.command(p.Reveal())
    tiles = screen.locator(".character-column .theme-tile")
    await expect(tiles.nth(5)).to_be_visible(timeout=60_000)
    failures = await check_projector(screen, f"{language}-character-themes")
    assert not failures, "\n".join(failures)
    watch.check()
    await asyncio.gather(*(c.close() for c in [host, *room]))
