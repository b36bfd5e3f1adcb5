"""The web UI in real headless Chromium: a facilitator, three phones and a projector.

Each test starts its own server (memory backend, tests/browser/conftest.py) on a free port with a
scenarios folder holding the built-in ``snapped-at-friend`` scenario and
``tests/data/every-kind.yaml``, then drives the pages in separate browser contexts, exactly as
separate devices would be. Screenshots of every view, at phone and desktop sizes, go to a
temporary folder, or to the folder named by ``ATTUNE_SCREENSHOTS``;
``python -m tests.support.screenshots`` regenerates the committed set in docs/screenshots/. The
suite itself never writes into the checkout.

Chromium is the Debian package (``apt-get install chromium``); Playwright is pointed at it and
never downloads a browser. If it is missing the tests fail and say so: they never skip.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from playwright.async_api import (
    Browser,
    FilePayload,
    Page,
    expect,
)

from tests.support.browser import (
    DESKTOP,
    PHONE,
    SHOTS,
    Watch,
    at_step,
    device,
    offline,
    session_button,
)
from tests.support.layout import settle
from tests.support.paths import BUILTIN, DATA, ROOT

pytestmark = [
    pytest.mark.browser,
    pytest.mark.served(DATA / "every-kind.yaml", BUILTIN / "snapped-at-friend.yaml",
                       min_responses=3),
]
expect.set_options(timeout=10_000)  # generous on a loaded 2-core machine; passing runs are fast

HOSTILE = (
    "<img src=x onerror=alert(1)><script>alert(2)</script> "
    + "Unbreakable" * 7
    + " שלום, מה שלומך? مرحبا 😀👩‍👩‍👧‍👦🏳️‍🌈 **not bold**"
)
"""Markup, a 77-letter word, Hebrew and Arabic, emoji sequences; under the step's 200 letters."""


async def shoot(page: Page, name: str, *, full_page: bool = False) -> None:
    """Save the page at phone and desktop sizes as SHOTS/NAME-{phone,desktop}.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        await page.set_viewport_size(size)
        await page.evaluate("window.scrollTo(0, 0)")
        await settle(page)
        await page.screenshot(path=SHOTS / f"{name}-{label}.png", full_page=full_page,
                              animations="disabled", caret="initial")
    if original:
        await page.set_viewport_size(original)


AXE = ROOT / "tests" / "support" / "axe-core" / "axe.min.js"
"""A test tool, not served with the product (tests/support/axe-core/README.md)."""
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


async def accessible(page: Page, where: str, problems: list[str]) -> None:
    """Run axe-core's WCAG 2.1 A/AA rules (contrast, names, labels, ARIA) on the page as it is.

    evaluate() runs through the DevTools protocol, so the page's CSP does not block it."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.evaluate(AXE.read_text())
    found = await page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']}).then(r => r.violations.map(v => v.id + ': ' + v.help"
        " + ' — ' + v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' (' + n.failureSummary"
        " + ')').join(', ')))", WCAG_AA)
    problems.extend(f"{where}: {line}" for line in found)


async def create(console: Page, base: str, scenario: str) -> str:
    await console.goto(f"{base}/console/")
    await console.locator(f"button[data-scenario='{scenario}']").click()
    code = console.locator(".big-code")
    await expect(code).to_have_text(re.compile(r"^[A-Z2-9]{6}$"))
    return (await code.text_content() or "").strip()


async def pick(page: Page, name: str, value: str | int) -> None:
    await page.locator(f"input[name='{name}'][value='{value}'] + label").click()


async def to_guess(page: Page) -> None:
    """From the answer's screen to the guess's: one question per screen on a phone."""
    await page.locator(".answer-form button[type=submit]").click()
    await expect(page.locator(".guess-part")).to_be_visible()
    await expect(page.locator(".answer-part")).to_be_hidden()


async def send(page: Page) -> None:
    """Send the answer (passing the guess's screen, if any, without a guess)."""
    guessing = await page.locator(".guess-part").count()
    if guessing and await page.locator(".answer-part").is_visible():
        await to_guess(page)
    await page.locator(".answer-form button[type=submit]").click()
    await expect(page.locator(".received .received-title")).to_be_visible()


async def next_step(console: Page, pages: list[Page], index: int) -> None:
    await console.locator(".controls .button-primary").click()
    for page in [console, *pages]:
        await at_step(page, index)


async def go(console: Page, pages: list[Page], index: int) -> None:
    """Jump to a step from the console's step list."""
    await console.locator(".step-link").nth(index).click()
    for page in [console, *pages]:
        await at_step(page, index)


async def reveal(console: Page, screen: Page) -> None:
    await console.locator("#toggle-reveal").click()
    await expect(screen.locator(".screen-results .chart")).to_be_visible()


async def no_overflow(page: Page) -> None:
    """Layout holds: nothing wider than the viewport, and every card inside its list."""
    wide = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert wide <= 1, f"{page.url} scrolls sideways by {wide}px"
    escaped = await page.evaluate("""() => [...document.querySelectorAll('.card')].filter(card => {
        const box = card.getBoundingClientRect(), list = card.parentElement.getBoundingClientRect();
        return box.right > list.right + 1 || box.width > window.innerWidth; }).length""")
    assert escaped == 0, f"{page.url}: {escaped} card(s) overflow"


@pytest.mark.timeout(300)  # about 30 s; the margin is for a machine busy with other work
async def test_facilitator_and_three_phones_run_a_builtin_scenario(
    base: str, browser: Browser
) -> None:
    watch = Watch()
    console = await device(browser, watch, DESKTOP)
    await console.goto(f"{base}/")
    await expect(console.locator("h1")).to_have_text("Slow down, notice, and understand each other")
    await shoot(console, "home")
    await console.get_by_role("link", name="Open the facilitator console").click()
    await expect(console.locator(".scenario-card")).to_have_count(2)
    await shoot(console, "console-choose")
    code = await create(console, base, "snapped-at-friend")
    assert console.url.split("#")[1].count(".") == 1  # SESSION.TOKEN: a refresh rejoins

    screen = await device(browser, watch, DESKTOP)
    await screen.goto(f"{base}/screen/#{code}")
    await expect(screen.locator(".screen-code")).to_have_text(code)
    await expect(screen.locator(".screen-qr svg.qr")).to_be_visible()

    phones = [await device(browser, watch, PHONE) for _ in range(3)]
    await phones[0].goto(f"{base}/join/")
    await shoot(phones[0], "join-code")
    await phones[0].locator("#code").fill(code.lower())
    await phones[0].locator(".join-form button").click()
    for phone in phones[1:]:
        await phone.goto(f"{base}/join/{code}")  # the QR code's link
    for phone in phones:
        await expect(phone.locator(".waiting h1")).to_be_visible()
    await expect(console.locator("#lobby-count")).to_have_text("3 people are here")
    await expect(screen.locator("#screen-presence")).to_have_text("3 people are here")
    await shoot(console, "console-lobby")
    await shoot(screen, "screen-lobby")
    await shoot(phones[0], "join-waiting")
    a11y: list[str] = []
    for page, where in ((console, "console lobby"), (screen, "projector lobby"),
                        (phones[0], "phone waiting")):
        await accessible(page, where, a11y)

    everyone = [screen, *phones]
    await console.get_by_role("button", name="Start the session").click()
    for page in [console, *everyone]:
        await at_step(page, 0)
    await expect(phones[0].locator(".story-text strong")).to_have_text("Noor")
    await shoot(screen, "screen-story")
    await shoot(phones[1], "join-story")

    # 1: check-in with a guess about the room
    await next_step(console, everyone, 1)
    feelings = [("anxious", 4, "anxious"), ("hurt", 3, "angry"), ("worried", 2, "calm")]
    for phone, (word, level, _) in zip(phones, feelings, strict=True):
        await pick(phone, "word", word)
        await pick(phone, "intensity", level)
    await shoot(phones[0], "join-checkin")
    await accessible(phones[0], "phone check-in", a11y)
    for phone, (_, _, guess) in zip(phones, feelings, strict=True):
        await to_guess(phone)
        await pick(phone, "guess", guess)
    await shoot(phones[0], "join-checkin-guess")
    for phone in phones:
        await send(phone)
    await expect(console.locator("#live-count .count-big")).to_have_text("3")
    await expect(console.locator(".heatmap")).to_be_visible()
    await shoot(phones[0], "join-answer-received")
    await reveal(console, screen)
    await expect(screen.locator(".heat-filled")).to_have_count(3)
    await expect(screen.locator(".chart-headline")).to_contain_text("high energy, unpleasant")
    await expect(phones[0].locator(".feedback")).to_contain_text(
        "You guessed high energy, unpleasant")
    await shoot(screen, "screen-checkin")
    await shoot(console, "console-checkin")
    await shoot(phones[0], "join-revealed", full_page=True)
    for page, where in ((screen, "projector check-in"), (console, "console check-in"),
                        (phones[0], "phone revealed")):
        await accessible(page, where, a11y)

    # 2: first thoughts, free text; one card is hidden by the facilitator
    await next_step(console, everyone, 2)
    thoughts = ["She is tired of me.", "Maybe I did something wrong.", "She is busy and stressed."]
    for phone, text in zip(phones, thoughts, strict=True):
        await phone.locator("textarea").fill(text)
        await send(phone)
    await expect(phones[0].locator(".counter")).to_have_text(f"{len(thoughts[0])} / 280")
    await expect(console.locator(".card")).to_have_count(3)
    # A classroom scenario: the cards wait for the facilitator's approval.
    await console.locator(".mod-approve-all").click()
    await expect(console.locator(".mod-room .card")).to_have_count(3)
    await console.locator(".card", has_text=thoughts[1]).locator(".mod-hide").click()
    await expect(console.locator(".card-hidden")).to_have_count(1)
    await reveal(console, screen)
    await expect(screen.locator(".card")).to_have_count(2)
    await expect(screen.locator(".card", has_text=thoughts[1])).to_have_count(0)
    await expect(screen.locator(".word-cloud li").first).to_be_visible()
    await shoot(screen, "screen-perspective")
    await shoot(console, "console-perspective")
    await accessible(console, "console cards", a11y)

    # 3: how sure (scale)
    await next_step(console, everyone, 3)
    for phone, value in zip(phones, (4, 5, 3), strict=True):
        await phone.locator("input[type=range]").fill(str(value))
        await send(phone)
    await reveal(console, screen)
    await expect(screen.locator(".chart-headline")).to_have_text("Average 4 · median 4")
    await shoot(screen, "screen-scale")

    # 4: other explanations, several options, with a guess of the most common
    await next_step(console, everyone, 4)
    await expect(screen.locator(".screen-options li")).to_have_count(7)
    await shoot(screen, "screen-choice-collecting")
    chosen = [(["deadline", "tired"], "deadline"), (["bad-news"], "annoyed-with-you"),
              (["deadline", "saturday", "annoyed-with-you"], "deadline")]
    for phone, (options, guess) in zip(phones, chosen, strict=True):
        for option in options:
            await pick(phone, "option", option)
        await to_guess(phone)
        await pick(phone, "guess", guess)
        await send(phone)
    await shoot(phones[2], "join-choice", full_page=True)
    await reveal(console, screen)
    top = screen.locator(".bar-top")
    await expect(top).to_have_count(1)
    await expect(top.locator(".bar-label")).to_have_text("She is stressed about a deadline")
    await expect(top.locator(".bar-number").first).to_have_text("67% · 2")
    await expect(phones[0].locator(".feedback")).to_contain_text("among the most chosen")
    await shoot(screen, "screen-choice")
    await shoot(console, "console-choice")
    await accessible(screen, "projector choice", a11y)
    await accessible(phones[0], "phone choice revealed", a11y)

    # 5 to 7: Noor's side, how sure again, what to say; one phone passes each time
    await next_step(console, everyone, 5)
    for phone in phones[:2]:
        await phone.locator("textarea").fill("I wish I had not snapped. Saturday worries me.")
        await send(phone)
    await phones[2].get_by_role("button", name="Pass").click()
    await expect(phones[2].locator(".received-pass")).to_be_visible()
    await expect(console.locator("#live-count")).to_contain_text("1 passed")
    # a phone loses its network while the room moves on; back online, it catches up by itself
    away = phones[2]
    await offline(away)
    await console.locator(".controls .button-primary").click()
    for page in [console, screen, *phones[:2]]:
        await at_step(page, 6)
    await away.context.set_offline(False)
    await at_step(away, 6)
    await expect(away.locator("body[data-resumed='replay']")).to_have_count(1)  # missed events sent
    for phone, value in zip(phones, (2, 1, 2), strict=True):
        await phone.locator("input[type=range]").fill(str(value))
        await send(phone)
    await next_step(console, everyone, 7)
    for phone in phones:
        await phone.locator("textarea").fill("You seemed stressed at lunch. Is everything OK?")
        await send(phone)
    await reveal(console, screen)

    # the downloads hold what was answered, and nothing hidden
    async with console.expect_download() as waiting:
        await (await session_button(console, "Download JSON")).click()
    exported = json.loads(Path(await (await waiting.value).path()).read_text())
    steps = {s["index"]: s for s in exported["steps"]}
    assert exported["participants"] == 3
    assert steps[1]["answers"]["words"] == {"anxious": 1, "hurt": 1, "worried": 1}
    assert steps[1]["guesses"]["words"] == {"anxious": 1, "angry": 1, "calm": 1}
    assert sorted(c["text"] for c in steps[2]["answers"]["cards"]) == sorted(
        [thoughts[0], thoughts[2]])
    assert steps[3]["answers"]["histogram"] == [0, 0, 1, 1, 1]
    assert steps[4]["answers"]["options"] == {
        "deadline": 2, "bad-news": 1, "tired": 1, "on-screen": 0, "feels-unheard": 0,
        "saturday": 1, "annoyed-with-you": 1}
    assert (steps[5]["count"], steps[5]["passes"]) == (2, 1)
    assert steps[6]["answers"]["histogram"] == [1, 2, 0, 0, 0]
    async with console.expect_download() as waiting:
        await (await session_button(console, "Download CSV")).click()
    download = await waiting.value
    assert download.suggested_filename == f"attune-{code}.csv"
    rows = list(csv.DictReader(io.StringIO(Path(await download.path()).read_text())))
    cell = {(r["step"], r["series"], r["key"]): r["value"] for r in rows}
    assert cell[("2", "answers", "word:anxious")] == "1"
    assert cell[("5", "answers", "option:deadline")] == "2"
    assert cell[("4", "answers", "mean")] == "4.0"
    texts = [r["value"] for r in rows if r["step"] == "3" and r["key"] == "text"]
    assert sorted(texts) == sorted([thoughts[0], thoughts[2]])

    # the printable report: one section per answer step, each with its chart
    report = await console.context.new_page()
    watch.attach(report)
    await report.goto(f"{base}/console/report.html#{console.url.split('#')[1]}")
    await expect(report.locator(".report-step")).to_have_count(7)
    await expect(report.locator(".report-step > .chart")).to_have_count(6)
    await expect(report.locator(".report-step .chart-waiting")).to_have_count(1)  # 2 < 3 answers
    await report.emulate_media(media="print")
    await shoot(report, "report-print", full_page=True)
    await report.emulate_media(media="screen")

    await console.get_by_role("button", name="End session").click()
    await console.get_by_role("button", name="Click again to end for everyone").click()
    await expect(console.locator(".ended-panel")).to_be_visible()
    await expect(phones[0].locator(".waiting h1")).to_have_text("The session has ended")
    await expect(screen.locator(".screen-end")).to_be_visible()
    await shoot(console, "console-ended")
    await accessible(report, "report", a11y)
    assert not a11y, "WCAG 2.1 AA problems found by axe-core:\n" + "\n".join(a11y)
    watch.check()


@pytest.mark.timeout(300)
async def test_every_kind_refresh_reconnect_hostile_text_and_pacer(
    base: str, browser: Browser
) -> None:
    watch = Watch()
    console = await device(browser, watch, DESKTOP)
    code = await create(console, base, "every-kind")
    screen = await device(browser, watch, DESKTOP)
    await screen.goto(f"{base}/screen/#{code}")
    phones = [await device(browser, watch, PHONE) for _ in range(2)]
    still = await device(browser, watch, PHONE, reduced_motion="reduce")
    phones.append(still)
    sent: list[str] = []
    phones[0].on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(str(frame))))
    for phone in phones:
        await phone.goto(f"{base}/join/#{code}")
        await expect(phone.locator(".waiting h1")).to_be_visible()
    everyone = [screen, *phones]
    await console.get_by_role("button", name="Start the session").click()
    for page in [console, *everyone]:
        await at_step(page, 0)

    # check-in: answered, then refreshed: the answer is still there and still counted once
    await next_step(console, everyone, 1)
    # the first phone answers with the keyboard only: the emotion words are real radio buttons
    await phones[0].locator("input[name=word][value=relieved]").focus()
    await phones[0].keyboard.press("ArrowRight")  # the next word in the group
    await expect(phones[0].locator("input[name=word][value=calm]")).to_be_checked()
    await phones[0].locator(".answer-form button[type=submit]").focus()
    await phones[0].keyboard.press("Enter")  # "Next: guess the room"
    await expect(phones[0].locator(".guess-question")).to_be_focused()
    await phones[0].locator(".answer-form button[type=submit]").focus()
    await phones[0].keyboard.press("Enter")  # sent without a guess
    await expect(phones[0].locator(".received")).to_be_visible()
    for phone, word in zip(phones[1:], ("tired", "calm"), strict=True):
        await pick(phone, "word", word)
        await send(phone)
    await phones[0].reload()
    await at_step(phones[0], 1)
    await expect(phones[0].locator("input[name=word][value=calm]")).to_be_checked()
    await expect(phones[0].locator(".received")).to_be_visible()
    await expect(console.locator("#presence")).to_have_text("3 connected · 3 joined")
    await expect(console.locator("#live-count .count-big")).to_have_text("3")

    # scale with a guess of the average: the guesses are drawn beside reality
    await next_step(console, everyone, 2)
    for phone, (value, guess) in zip(phones, ((2, 4), (3, 4.5), (5, 4)), strict=True):
        await phone.locator("input[name=scale]").fill(str(value))
        await to_guess(phone)
        await phone.locator("input[name=guess]").fill(str(guess))
        await send(phone)
    await reveal(console, screen)
    await expect(screen.locator(".mean-guess")).to_have_text("guessed 4.2")
    await expect(screen.locator(".mean-real")).to_have_text("average 3.3")
    await expect(phones[0].locator(".feedback")).to_contain_text("You guessed 4;")
    await shoot(screen, "screen-scale-guesses")

    # free text: a draft survives a refresh and a dropped network; hostile text stays text
    await go(console, everyone, 4)
    draft = "Sam might be worried about being late"
    await phones[0].locator("textarea").fill(draft)
    await phones[0].reload()
    await at_step(phones[0], 4)
    await expect(phones[0].locator("textarea")).to_have_value(draft)
    await offline(phones[0])
    await expect(phones[0].locator("#connection")).to_contain_text("Reconnecting")
    await phones[0].locator(".answer-form button[type=submit]").click()
    await expect(phones[0].locator(".pending")).to_be_visible()
    await shoot(phones[0], "join-reconnecting")
    a11y: list[str] = []
    await accessible(phones[0], "phone reconnecting", a11y)
    await phones[0].context.set_offline(False)
    await expect(phones[0].locator(".received")).to_be_visible(timeout=10000)
    await expect(phones[0].locator("#connection")).to_be_hidden()

    await phones[1].locator("textarea").fill(HOSTILE)
    await send(phones[1])
    await still.locator("textarea").fill("Ça va ? 他在想什么 — شكرا")
    await send(still)
    await expect(console.locator(".card")).to_have_count(3)
    await reveal(console, screen)
    await expect(phones[1].locator(".my-results .card")).to_have_count(3)
    for page in [console, screen, phones[1]]:
        card = page.locator(".card", has_text="<img src=x onerror=alert(1)>")
        await expect(card).to_have_count(1)
        await expect(card.locator(".card-text")).to_have_text(HOSTILE)
        assert await page.evaluate("document.querySelectorAll('img').length") == 0
        assert await page.evaluate("document.querySelectorAll('.card script').length") == 0
        await no_overflow(page)
    await shoot(screen, "screen-hostile-text")
    await shoot(console, "console-hostile-text")
    await accessible(screen, "projector free text", a11y)

    # breathing in lockstep; the reduced-motion phone counts down in text, with no circle
    await next_step(console, everyone, 5)
    await expect(phones[0].locator(".pacer-circle")).to_be_visible()
    await expect(still.locator(".pacer-circle")).to_have_count(0)
    await expect(still.locator(".pacer-still .pacer-count")).to_have_text(re.compile(r"^\d+$"))
    phases = [await page.locator(".pacer").get_attribute("data-phase") for page in
              (screen, phones[0], still)]
    assert len(set(phases)) == 1, phases
    await shoot(screen, "screen-breathe")
    await shoot(still, "join-breathe-reduced-motion")
    await accessible(still, "phone breathing, reduced motion", a11y)

    # the console's URL holds SESSION.TOKEN: a refresh rejoins at the same step; arrows move on
    await console.reload()
    await at_step(console, 5)
    await expect(console.locator(".step-link.current")).to_contain_text("Breathing")
    # The reloaded page draws its saved step at once; a key pressed before it has rejoined would
    # only say "not connected" (CI at load lost the race once).
    await console.locator("body[data-connection='open']").wait_for(state="attached")
    await console.keyboard.press("ArrowRight")
    for page in [console, *everyone]:
        await at_step(page, 6)
    await expect(screen.locator(".timer-time")).to_have_text(re.compile(r"^[01]:\d\d$"))
    await shoot(screen, "screen-timer")

    # reflect: the note stays on the phone and is never sent
    await next_step(console, everyone, 7)
    secret = "Only for me: I noticed my jaw was tight."
    await phones[0].locator("#note").fill(secret)
    await expect(phones[0].locator(".reflect .hint")).to_have_text("Saved on this device.")
    await shoot(phones[0], "join-reflect")
    await accessible(phones[0], "phone reflect", a11y)
    await phones[0].reload()
    await at_step(phones[0], 7)
    await expect(phones[0].locator("#note")).to_have_value(secret)
    assert not [frame for frame in sent if "jaw" in frame]

    async with console.expect_download() as waiting:
        await (await session_button(console, "Download JSON")).click()
    exported = json.loads(Path(await (await waiting.value).path()).read_text())
    checkin = next(s for s in exported["steps"] if s["kind"] == "checkin")
    assert checkin["answers"]["words"] == {"calm": 2, "tired": 1}
    scale = next(s for s in exported["steps"] if s["kind"] == "scale")
    assert scale["answers"]["histogram"] == [0, 1, 1, 0, 1]
    assert scale["guesses"]["mean"] == pytest.approx(4.17, abs=0.01)
    texts = next(s for s in exported["steps"] if s["kind"] == "perspective")["answers"]["cards"]
    assert sorted(c["text"] for c in texts) == sorted(
        [draft, HOSTILE, "Ça va ? 他在想什么 — شكرا"])
    assert "jaw" not in json.dumps(exported)

    report = await console.context.new_page()
    watch.attach(report)
    await report.goto(f"{base}/console/report.html#{console.url.split('#')[1]}")
    await expect(report.locator(".card", has_text="<img src=x")).to_have_count(1)
    assert await report.evaluate("document.querySelectorAll('img').length") == 0
    await no_overflow(report)

    # leaving withdraws every answer of that phone; the room forgets it
    leaver = phones[1]
    await leaver.get_by_role("button", name="Leave and remove my answers").click()
    await leaver.get_by_role("button", name="Leave and remove", exact=True).click()
    await expect(leaver.locator("h1")).to_have_text("You have left")
    await expect(console.locator("#presence")).to_have_text("2 connected · 2 joined")
    assert await leaver.evaluate("Object.keys(sessionStorage).length") == 0
    assert not a11y, "WCAG 2.1 AA problems found by axe-core:\n" + "\n".join(a11y)
    watch.check()


async def test_upload_a_scenario_file(base: str, browser: Browser) -> None:
    watch = Watch()
    console = await device(browser, watch, DESKTOP)
    await console.goto(f"{base}/console/")
    broken = (
        b"id: broken\ntitle: Broken\nsummary: x\naudience: [workshop]\nduration_minutes: 5\n"
        b"languages: [en]\nsteps:\n  - kind: scale\n    prompt: Hi\n    mni: 1\n"
    )
    await console.locator("#scenario-file").set_input_files(
        files=[FilePayload(name="broken.yaml", mimeType="text/yaml", buffer=broken)])
    problem = console.locator(".chooser .problem")
    await expect(problem).to_contain_text("Unknown field “mni”")
    await expect(problem).to_contain_text("(line 10 of the file)")
    await console.locator("#scenario-file").set_input_files(DATA / "every-kind.yaml")
    await expect(console.locator(".big-code")).to_be_visible()
    await expect(console.locator(".step-link")).to_have_count(8)
    watch.errors = [e for e in watch.errors if "status of 422" not in e]  # the refused upload
    watch.check()


async def test_language_switch_and_french_numbers(base: str, browser: Browser) -> None:
    watch = Watch()
    console = await device(browser, watch, DESKTOP, locale="fr-FR")
    await console.goto(f"{base}/console/")
    await expect(console.locator("h1")).to_have_text("Démarrer une séance")
    await console.locator("#language-switch").select_option("zh")
    await expect(console.locator("h1")).to_have_text("开始一场活动")
    await expect(console.locator(".scenario-card")).to_have_count(2)
    await shoot(console, "console-choose-zh")
    a11y: list[str] = []
    await accessible(console, "console in Chinese", a11y)
    assert not a11y, "\n".join(a11y)
    await console.locator("#language-switch").select_option("fr")
    await expect(console.locator("h1")).to_have_text("Démarrer une séance")
    mean = await console.evaluate(
        "import('/js/i18n.js').then(m => m.t('scale.summary', {mean: 3.5, median: 4}))")
    assert mean == "Moyenne 3,5 · médiane 4"
    watch.check()
