"""The facilitator's tools in real headless Chromium: headcount, moderation queue, spotlight,
"My sessions", and the phone's private help text.

Each test starts its own server (memory backend) with ``tests/data`` as the scenarios folder, and
scripts phones with the protocol client where the phone's screen is not what is being tested, so
each test stays short on a busy machine. Screenshots go to a temporary folder, or to the folder
named by ``ATTUNE_SCREENSHOTS``; the suite never writes into the checkout.
"""

from __future__ import annotations

import asyncio
import re
from functools import partial
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, ViewportSize, WebSocketRoute, expect

from attune.client import Client, create_session
from attune.core import protocol as p
from tests.support.browser import SHOTS, at_step
from tests.support.fault_proxy import FaultProxy
from tests.support.layout import settle
from tests.support.paths import DATA
from tests.support.rooms import join_views

pytestmark = [
    pytest.mark.browser,
    pytest.mark.served(DATA, min_responses=3),
]
expect.set_options(timeout=10_000)

PHONE = ViewportSize(width=390, height=844)
PROJECTOR = ViewportSize(width=1280, height=720)
WIDE = ViewportSize(width=1920, height=1080)
TIMER = 6
"""The `timer` step of tests/data/every-kind.yaml."""


class Errors:
    """Script errors on any page fail the test."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def watch(self, page: Page) -> Page:
        page.on("pageerror", lambda error: self.seen.append(f"{page.url}: {error}"))
        # A 404 is how "My sessions" learns that the server forgot a session: not an error.
        page.on("console", lambda m: self.seen.append(f"{page.url}: {m.text}")
                if m.type == "error" and "404" not in m.text else None)
        return page


async def page(browser: Browser, errors: Errors, size: ViewportSize = PROJECTOR,
               locale: str = "en-GB") -> Page:
    mobile = size == PHONE
    context = await browser.new_context(viewport=size, is_mobile=mobile, has_touch=mobile,
                                        locale=locale, accept_downloads=True)
    return errors.watch(await context.new_page())


async def shoot(view: Page, name: str, sizes: tuple[ViewportSize, ...]) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size in sizes:
        await view.set_viewport_size(size)
        await settle(view)
        await view.screenshot(path=SHOTS / f"{name}-{size['width']}x{size['height']}.png",
                              animations="disabled")


async def open_session(console: Page, base: str, scenario: str = "every-kind",
                       moderation: str | None = None) -> str:
    await console.goto(f"{base}/console/")
    if moderation is not None:
        await console.locator("#session-moderation").select_option(moderation)
    await console.locator(f"button[data-scenario='{scenario}']").click()
    code = console.locator(".big-code")
    await expect(code).to_have_text(re.compile(r"^[A-Z2-9]{6}$"))
    return (await code.text_content() or "").strip()


async def started(browser: Browser, errors: Errors, base: str) -> tuple[Page, Page, Page]:
    """A console that opened an every-kind session, a 1920x1080 projector and a phone on it,
    and the session started from the console's lobby."""
    console = await page(browser, errors)
    code = await open_session(console, base)
    views = await join_views(console, partial(page, browser, errors), base, code, WIDE)
    await console.locator(".lobby .button-primary").click()
    return views.console, views.screen, views.phone


async def test_views_opened_late_show_the_headcount_at_once(base: str, browser: Browser) -> None:
    errors = Errors()
    console = await page(browser, errors)
    code = await open_session(console, base)
    phones = [await Client.participant(code, base=base) for _ in range(3)]
    await expect(console.locator("#presence")).to_have_text("3 connected · 3 joined")
    screen = await page(browser, errors)
    await screen.goto(f"{base}/screen/#{code}")
    await expect(screen.locator("#screen-presence")).to_have_text("3 people are here")
    # A second console, opened when nothing changes any more, and a refreshed one.
    second = await page(browser, errors)
    await second.goto(console.url)
    await expect(second.locator("#presence")).to_have_text("3 connected · 3 joined")
    await phones[0].send(p.Leave())
    await expect(console.locator("#presence")).to_have_text("2 connected · 2 joined")
    await console.reload()
    await expect(console.locator("#presence")).to_have_text("2 connected · 2 joined")
    await expect(screen.locator("#screen-presence")).to_have_text("2 people are here")
    for phone in phones[1:]:
        await phone.close()
    assert not errors.seen, errors.seen


LONG = ("Sam probably feels left out and a little embarrassed, because everyone laughed before "
        "he could explain why he was late; he might be angry at himself more than at us.")
FR = "Elle se sent peut-être trahie, et elle a peur que ses amis ne lui fassent plus confiance."


async def phone_answers(phone: Page, text: str) -> None:
    await phone.locator("textarea").fill(text)
    await phone.locator(".answer-form button[type=submit]").click()
    await expect(phone.locator(".received .received-title")).to_be_visible()


@pytest.mark.timeout(300)
async def test_moderation_queue_spotlight_and_private_help(base: str, browser: Browser) -> None:
    errors = Errors()
    console = await page(browser, errors)
    code = await open_session(console, base, moderation="on")
    screen = await page(browser, errors)
    await screen.goto(f"{base}/screen/#{code}")
    phone = await page(browser, errors, PHONE)
    await phone.goto(f"{base}/join/#{code}")
    others = [await Client.participant(code, base=base) for _ in range(3)]
    await expect(console.locator("#presence")).to_have_text("4 connected · 4 joined")
    await console.locator(".lobby .button-primary").click()
    await at_step(console, 0)
    await console.locator(".step-link").nth(4).click()
    for view in (console, screen, phone):
        await at_step(view, 4)
    for client, text in zip(others, [LONG, "Noor is a selfish idiot", FR], strict=True):
        await client.expect(p.StepEvent, lambda e: e.step.index == 4)
        await client.answer(4, p.TextValue(text=text))
    await phone_answers(phone, "Honestly I want to hurt myself")
    # The writer, and only the writer, sees where help is.
    await expect(phone.locator(".care")).to_be_visible()
    await expect(phone.locator(".care-help")).to_contain_text("Childline")
    await shoot(phone, "join-care", (PHONE,))
    waiting = console.locator(".mod-waiting .mod-card")
    await expect(waiting).to_have_count(4)
    await expect(console.locator(".mod-distress .mod-care")).to_be_visible()
    await expect(console.locator(".mod-distress .mod-approve")).to_have_count(0)
    await expect(console.locator(".mod-abuse .mod-badge")).to_have_text("Held: insult or slur")
    await console.locator("#toggle-reveal").click()
    await expect(screen.locator(".screen-results")).not_to_contain_text("idiot")
    await shoot(console, "console-moderation-queue", (PROJECTOR, WIDE, PHONE))
    await console.set_viewport_size(PROJECTOR)
    await console.locator(".mod-approve-all").click()
    await expect(console.locator(".mod-room .mod-card")).to_have_count(2)
    await expect(console.locator(".mod-waiting .mod-card")).to_have_count(2)
    await expect(screen.locator(".screen-results")).to_contain_text("embarrassed")
    await expect(screen.locator(".screen-results")).not_to_contain_text("hurt myself")
    french = console.locator(".mod-room .mod-card", has_text="trahie")
    await french.locator(".mod-spotlight").click()
    await expect(screen.locator("#spotlight .spotlight-text")).to_have_text(FR)
    await shoot(screen, "screen-spotlight", (PROJECTOR, WIDE))
    await screen.set_viewport_size(PROJECTOR)
    overflow = await screen.evaluate(
        "() => { const b = document.querySelector('.spotlight-card').getBoundingClientRect();"
        " return b.left < 0 || b.top < 0 || b.right > innerWidth || b.bottom > innerHeight; }")
    assert not overflow, "the spotlight card leaves the projector's viewport"
    await console.locator(".mod-room .mod-spotlit .mod-spotlight").click()
    await expect(screen.locator("#spotlight")).to_have_count(0)
    for client in others:
        await client.close()
    assert not errors.seen, errors.seen


@pytest.mark.timeout(300)
async def test_my_sessions_reopens_with_full_control(base: str, browser: Browser) -> None:
    errors = Errors()
    console = await page(browser, errors)
    code = await open_session(console, base)
    url = console.url
    # The suite's server is on 127.0.0.1: the lobby says phones cannot reach it, and how to fix it.
    await expect(console.locator(".reach-warning")).to_contain_text("--host 0.0.0.0")
    # The facilitator link: copy field, file and QR, from the live console's menu.
    await console.locator("#facilitator-link").click()
    dialog = console.locator("#link-dialog")
    await expect(dialog.locator(".link-field")).to_have_value(url)
    await dialog.locator(".link-show-qr").click()
    await expect(dialog.locator(".link-qr svg")).to_be_visible()
    async with console.expect_download() as saved:
        await dialog.locator(".link-save").click()
    path = await (await saved.value).path()
    assert url in Path(path).read_text(encoding="utf-8")
    await shoot(console, "console-link-dialog", (PROJECTOR, PHONE))
    await console.set_viewport_size(PROJECTOR)
    await dialog.locator("form button").click()
    await console.locator(".lobby .button-primary").click()
    await expect(console.locator(".step-link.current")).to_be_visible()
    # Closing the tab loses nothing: the chooser lists the session and reopens it.
    context = console.context
    await console.close()
    again = errors.watch(await context.new_page())
    await again.goto(f"{base}/console/")
    mine = again.locator(".my-session", has_text=code)
    await expect(mine).to_be_visible()
    await expect(mine.locator(".tag")).to_have_text("Running")
    await shoot(again, "console-my-sessions", (PROJECTOR, PHONE))
    await again.set_viewport_size(PROJECTOR)
    await mine.locator(".my-session-open").click()
    await expect(again.locator(".step-link.current")).to_be_visible()
    await again.locator(".controls .button-primary").click()
    await expect(again.locator(".step-link.current .step-number")).to_have_text("2")
    # A session the server no longer holds is said so, and can be forgotten.
    session, token = url.split("#", 1)[1].split(".", 1)
    response = await again.request.delete(f"{base}/api/sessions/{session}",
                                          headers={"authorization": f"Bearer {token}"})
    assert response.status == 204
    await again.goto(f"{base}/console/")
    await expect(mine.locator(".tag")).to_have_text("No longer on the server")
    await mine.locator(".my-session-forget").click()
    await expect(again.locator(".my-session")).to_have_count(0)
    assert not errors.seen, errors.seen


@pytest.mark.timeout(300)
async def test_a_phone_on_a_dead_network_says_so_within_ten_seconds(
    base: str, browser: Browser,
) -> None:
    """Packets silently dropped (a proxy that forwards nothing): no close event ever comes."""
    port = int(base.rsplit(":", 1)[1])
    proxy = FaultProxy("127.0.0.1", port)
    await proxy.start()
    try:
        errors = Errors()
        host = await Client.facilitator(await create_session(base, "every-kind"))
        assert host.welcome is not None
        code = host.welcome.code
        phone = await page(browser, errors, PHONE)
        await phone.goto(f"http://127.0.0.1:{proxy.port}/join/#{code}")
        await expect(phone.locator("body[data-connection='open']")).to_have_count(1)
        await host.command(p.Start())
        await host.command(p.Goto(step=4))
        await at_step(phone, 4)
        proxy.hang()
        started = asyncio.get_running_loop().time()
        await phone.locator("textarea").fill("Sam might feel left out")
        await expect(phone.locator("body[data-connection='reconnecting']")).to_have_count(
            1, timeout=12_000)
        noticed = asyncio.get_running_loop().time() - started
        assert noticed < 10, f"the dead network showed after {noticed:.1f} s"
        send = phone.locator(".answer-form button[type=submit]")
        await expect(send).to_have_text("Send when connected")
        await send.click()
        await expect(phone.locator(".pending")).to_contain_text("will be sent")
        await shoot(phone, "join-dead-network", (PHONE,))
        proxy.heal()
        await expect(phone.locator(".received .received-title")).to_be_visible(timeout=20_000)
        results = await host.expect(p.Results, lambda r: r.step == 4 and r.count == 1,
                                    timeout=10)
        assert results.count == 1, "the queued answer counts once"
        await host.close()
        assert not errors.seen, errors.seen
    finally:
        await proxy.stop()


async def test_a_lost_session_is_said_in_words_people_can_act_on(
    base: str, browser: Browser,
) -> None:
    errors = Errors()
    created = await create_session(base, "every-kind")
    phone = await page(browser, errors, PHONE)
    await phone.goto(f"{base}/join/#{created.code}")
    screen = await page(browser, errors)
    await screen.goto(f"{base}/screen/#{created.code}")
    console = await page(browser, errors)
    await console.goto(created.facilitator_url)
    for view in (phone, screen, console):
        await expect(view.locator("body[data-connection='open']")).to_have_count(1)
    # What a restart of a server that keeps sessions in memory looks like to every view.
    response = await console.request.delete(f"{base}/api/sessions/{created.session}",
                                            headers={"authorization": f"Bearer {created.token}"})
    assert response.status == 204
    await expect(phone.locator(".problem")).to_contain_text("is no longer open")
    await expect(phone.locator(".problem")).to_contain_text("enter the new code")
    await expect(screen.locator(".problem")).to_contain_text("Start a new session")
    await console.reload()
    await expect(console.locator("h1")).to_have_text("This session is not available")
    await expect(console.locator("main")).to_contain_text("lost when the server restarted")
    await shoot(phone, "join-session-gone", (PHONE,))
    assert not errors.seen, errors.seen


@pytest.mark.timeout(300)
async def test_moderator_link_and_phone_remote(base: str, browser: Browser) -> None:
    errors = Errors()
    console = await page(browser, errors)
    await open_session(console, base)
    await console.locator("#facilitator-link").click()
    dialog = console.locator("#link-dialog")
    await dialog.locator(".moderator-make").click()
    field = dialog.locator(".moderator-field")
    await expect(field).to_have_value(re.compile(r"/console/#[0-9a-f]+\.[\w-]+$"))
    moderator_url = await field.input_value()
    await expect(dialog.locator(".moderator-link-box .qr")).to_be_visible()
    await shoot(console, "console-moderator-link", (PROJECTOR,))
    await dialog.locator("form button").click()
    # The co-facilitator's phone: the remote, with the moderator link.
    remote = await page(browser, errors, PHONE)
    await remote.goto(moderator_url.replace("/console/#", "/console/remote.html#"))
    await remote.locator(".remote-start").click()
    await expect(console.locator(".step-link.current .step-number")).to_have_text("1")
    await remote.locator(".remote-next").click()
    await expect(console.locator(".step-link.current .step-number")).to_have_text("2")
    await expect(remote.locator(".remote-next-notes")).to_be_visible()
    await expect(remote.locator(".remote-reveal")).to_be_visible()
    await shoot(remote, "remote", (PHONE,))
    sizes = await remote.evaluate(
        "() => [...document.querySelectorAll('.remote-big')].map(b => b.getBoundingClientRect())"
        ".map(r => Math.min(r.width, r.height))")
    assert min(sizes) >= 44, f"remote buttons smaller than a thumb: {sizes}"
    await remote.locator(".remote-reveal").click()
    await expect(console.locator("#toggle-reveal")).to_have_attribute("aria-pressed", "true")
    # The moderator's console: no End, no exports; the facilitator keeps them.
    helper = await page(browser, errors)
    await helper.goto(moderator_url)
    await expect(helper.locator(".moderator-tag")).to_be_visible()
    await expect(helper.locator(".controls .button-danger")).to_have_count(0)
    await expect(helper.locator("#facilitator-link")).to_have_count(0)
    await expect(console.locator(".controls .button-danger")).to_have_count(1)
    assert not errors.seen, errors.seen


@pytest.mark.timeout(300)
@pytest.mark.parametrize("locale", ["fr-FR", "zh-CN", "en-GB"])
async def test_shortcuts_titles_projector_tools_and_a_toolbar_that_never_wraps(
    base: str, browser: Browser, locale: str,
) -> None:
    errors = Errors()
    console = await page(browser, errors, ViewportSize(width=1440, height=900), locale=locale)
    code = await open_session(console, base)
    await expect(console).to_have_title(re.compile(f"{code}"))
    await console.keyboard.press("?")
    await expect(console.locator("#shortcuts-help")).to_be_visible()
    await expect(console.locator("#shortcuts-help kbd").first).to_be_visible()
    await console.keyboard.press("Escape")
    await console.locator(".lobby .button-primary").click()
    await expect(console.locator(".step-link.current .step-number")).to_have_text("1")
    await console.keyboard.press("n")
    await expect(console.locator(".step-link.current .step-number")).to_have_text("2")
    await console.keyboard.press("r")
    await expect(console.locator("#toggle-reveal")).to_have_attribute("aria-pressed", "true")
    await console.keyboard.press("o")
    await expect(console.locator("#toggle-open")).to_have_attribute("aria-pressed", "false")
    await console.keyboard.press("b")
    await expect(console.locator(".step-link.current .step-number")).to_have_text("1")
    await console.keyboard.press("n")
    await console.keyboard.press("?")
    await shoot(console, f"console-shortcuts-{locale[:2]}", (ViewportSize(width=1440, height=900),))
    await console.keyboard.press("Escape")
    screen = await page(browser, errors, PROJECTOR, locale=locale)
    await screen.goto(f"{base}/screen/#{code}")
    await expect(screen).to_have_title(re.compile(f"{code}"))
    await screen.keyboard.press("q")
    await expect(screen.locator("#join-overlay .join-overlay-code")).to_have_text(code)
    await shoot(screen, f"screen-join-overlay-{locale[:2]}", (PROJECTOR,))
    await screen.keyboard.press("Escape")
    await expect(screen.locator("#join-overlay")).to_have_count(0)
    # From the console: J puts the join code over every projector, and takes it off.
    await console.keyboard.press("j")
    await expect(screen.locator("#join-overlay .join-overlay-code")).to_have_text(code)
    await console.keyboard.press("j")
    await expect(screen.locator("#join-overlay")).to_have_count(0)
    await screen.mouse.move(600, 300)
    await screen.mouse.move(620, 320)
    await expect(screen.locator(".screen-fullscreen")).to_be_visible()
    await screen.locator(".screen-join-button").click()
    await expect(screen.locator("#join-overlay")).to_be_visible()
    assert not errors.seen, errors.seen


@pytest.mark.timeout(300)
async def test_countdown_in_step_on_console_projector_and_phone(
    base: str, browser: Browser,
) -> None:
    errors = Errors()
    console, screen, phone = await started(browser, errors, base)
    await console.locator(".step-link").nth(2).click()
    for view in (console, screen, phone):
        await at_step(view, 2)
    await console.locator(".clock-start[data-seconds='60']").click()
    for view in (console, screen, phone):
        await expect(view.locator("#clock-badge")).to_have_text(re.compile(r"^(1:00|0:5\d)$"))
    await shoot(screen, "screen-countdown", (WIDE, PROJECTOR))
    await shoot(phone, "join-countdown", (PHONE,))
    remote = await page(browser, errors, PHONE)
    await remote.goto(console.url.replace("/console/#", "/console/remote.html#"))
    await expect(remote.locator(".remote-clock .timer-time")).to_have_text(
        re.compile(r"^(1:00|0:5\d)$"))
    await console.locator(".clock-pause").click()
    for view in (screen, phone):
        await expect(view.locator("#clock-badge")).to_contain_text("paused")
    await expect(remote.locator(".remote-pause")).to_have_text("Resume")
    await console.locator(".clock-more").click()
    await expect(phone.locator("#clock-badge")).to_have_text(re.compile(r"^1:(2\d|30) · paused$"))
    await console.locator(".clock-resume").click()
    await expect(screen.locator("#clock-badge")).to_have_text(re.compile(r"^1:[23]\d$"))
    await console.locator(".clock-stop").click()
    for view in (console, screen, phone):
        await expect(view.locator("#clock-badge")).to_have_count(0)
    assert not errors.seen, errors.seen


@pytest.mark.timeout(300)
async def test_a_timer_step_pauses_and_takes_more_time_on_every_device(
    base: str, browser: Browser,
) -> None:
    errors = Errors()
    console, screen, phone = await started(browser, errors, base)
    remote = await page(browser, errors, PHONE)
    await remote.goto(console.url.replace("/console/#", "/console/remote.html#"))
    await console.locator(".step-link").nth(TIMER).click()
    views = (console, screen, phone, remote)
    for view in views:
        await at_step(view, TIMER)
        await expect(view.locator(".timer-time")).to_have_text(re.compile(r"^(1:00|0:5\d)$"))
        # One timer on a timer step: the step's own, not the countdown badge as well.
        await expect(view.locator("#clock-badge")).to_have_count(0)
    await console.locator(".timer-box .clock-pause").click()
    for view in (screen, phone):
        await expect(view.locator(".timer-done")).to_have_text("Paused")
    held = await screen.locator(".timer-time").text_content()
    await screen.wait_for_timeout(1500)
    assert await screen.locator(".timer-time").text_content() == held, "a paused timer holds"
    assert await phone.locator(".timer-time").text_content() == held
    await shoot(screen, "screen-timer-paused", (WIDE, PROJECTOR))
    await shoot(phone, "join-timer-paused", (PHONE,))
    await remote.locator(".remote-more").click()
    for view in (screen, phone):
        await expect(view.locator(".timer-time")).to_have_text(re.compile(r"^1:(2\d|30)$"))
    await shoot(remote, "remote-timer-paused", (PHONE,))
    await console.keyboard.press("t")
    for view in (screen, phone):
        await expect(view.locator(".timer-done")).to_have_text("")
    running = await phone.locator(".timer-time").text_content()
    await expect(phone.locator(".timer-time")).not_to_have_text(running or "", timeout=3000)
    await console.keyboard.press("+")
    await expect(screen.locator(".timer-time")).to_have_text(re.compile(r"^(1:5\d|2:00)$"))
    await console.keyboard.press("?")
    await expect(console.locator("#shortcuts-help")).to_contain_text("Pause or resume the timer")
    await expect(console.locator("#shortcuts-help")).to_contain_text("30 more seconds")
    await console.keyboard.press("Escape")
    await expect(remote.locator(".remote-pause")).to_have_text("Pause")
    assert not errors.seen, errors.seen


LONG_TITLES = """
id: long-titles
title:
  en: "Listening without fixing: a session for Year 10 form groups"
  fr: "Écouter sans chercher à réparer : une séance pour les classes de seconde"
  zh: 倾听而不急于解决问题：高一年级班会的一次练习
summary: {en: A question., fr: Une question., zh: 一个问题。}
audience: [classroom]
duration_minutes: 5
languages: [en, fr, zh]
steps:
  - kind: scale
    prompt:
      en: "How much did you feel heard the last time you told someone something hard?"
      fr: "À quel point vous êtes-vous senti écouté la dernière fois que vous avez confié quelque chose de difficile ?"
      zh: 上一次你向别人讲一件难以启齿的事时，你觉得自己被倾听了多少？
    min: 1
    max: 5
"""  # noqa: RUF001, E501 (real Chinese punctuation; a real French question)
"""A session whose title and question are as long as real ones."""

ONE_LINE = """bar => {
  const shown = [...bar.querySelectorAll('button, a, select, summary, .code-pill, .presence')]
    .filter(el => el.checkVisibility() && !el.closest('.more-list'));
  const boxes = shown.map(el => el.getBoundingClientRect());
  return {
    outside: shown.filter((el, i) => boxes[i].left < 0 || boxes[i].right > innerWidth + 0.5)
      .map(el => el.textContent),
    rows: Math.max(...boxes.map(b => b.top)) < Math.min(...boxes.map(b => b.bottom)) ? 1 : 2,
    spill: bar.scrollWidth - bar.clientWidth,
    height: bar.getBoundingClientRect().height,
  };
}"""
"""Whether a toolbar's visible controls are all in the viewport and on one row."""

SMALL_TARGETS = """bar => [...bar.querySelectorAll('a, button, select, summary')]
  .filter(el => el.checkVisibility() && !el.closest('.more-list'))
  .map(el => [el.id || el.getAttribute('aria-label') || el.textContent.trim().slice(0, 30),
              el.getBoundingClientRect()])
  .filter(([, box]) => box.height < 44 || box.width < 44)
  .map(([name, box]) => `${name}: ${Math.round(box.width)}x${Math.round(box.height)}`)"""
"""The links, buttons, menus and selects of a bar smaller than a 44 px tap target."""

CONSOLE_SIZES = [ViewportSize(width=w, height=h) for w, h in (
    (1024, 768), (1280, 720), (1366, 768), (1440, 900), (1920, 1080))]
"""A small laptop, the two commonest laptop windows, a larger one and a desktop."""


@pytest.mark.timeout(300)
@pytest.mark.parametrize("locale", ["fr-FR", "zh-CN", "en-GB"])
async def test_the_toolbars_stay_on_one_line_at_every_console_width(
    base: str, browser: Browser, locale: str,
) -> None:
    """The step toolbar and the session bar never wrap or leave the window from 1024 to
    1920 px: what does not fit goes into "More", which opens inside the window; every target
    of the header and both bars is at least 44 px, on a laptop too."""
    errors = Errors()
    created = await create_session(base, scenario_yaml=LONG_TITLES, language=locale[:2])
    console = await page(browser, errors, ViewportSize(width=1024, height=768), locale=locale)
    await console.goto(f"{base}/console/#{created.session}.{created.token}")
    await console.locator(".lobby .button-primary").click()
    await expect(console.locator("#toggle-reveal")).to_be_attached()
    for size in CONSOLE_SIZES:
        width = size["width"]
        await console.set_viewport_size(size)
        await settle(console)
        for bar in (".controls", ".topbar"):
            fit = await console.locator(bar).evaluate(ONE_LINE)
            where = f"{bar} at {width}x{size['height']} in {locale}"
            assert fit["outside"] == [], f"{where}: outside the window: {fit['outside']}"
            assert fit["rows"] == 1, f"{where} wraps"
            assert fit["spill"] <= 1, f"{where} is {fit['spill']} px too wide"
            small = await console.locator(bar).evaluate(SMALL_TARGETS)
            assert small == [], f"{where}: targets under 44 px: {small}"
        assert (await console.locator(".topbar").evaluate(ONE_LINE))["height"] < 70
        for bar in (".controls", ".topbar"):
            more = console.locator(f"{bar} .more-menu summary")
            if not await more.count():
                continue
            await more.click()
            listed = console.locator(f"{bar} .more-list .button")
            assert await listed.count() >= 1
            for box in [await listed.nth(i).bounding_box() for i in range(await listed.count())]:
                assert box is not None and box["x"] + box["width"] <= width, "More opens inside"
                assert box["height"] >= 44, "tap target"
            name = "toolbar" if bar == ".controls" else "header"
            await shoot(console, f"console-{name}-more-{locale[:2]}", (size,))
            await console.keyboard.press("Escape")
            await expect(console.locator(f"{bar} .more-menu")).not_to_have_attribute("open", "")
        await shoot(console, f"console-toolbar-{locale[:2]}", (size,))
    # Every control still works from "More": the keyboard opens it to confirm the end.
    await console.set_viewport_size(ViewportSize(width=1024, height=768))
    await settle(console)
    await console.keyboard.press("o")
    await expect(console.locator("#toggle-open")).to_have_attribute("aria-pressed", "false")
    await console.keyboard.press("e")
    await expect(console.locator(".controls .button-danger")).to_be_visible()
    await console.keyboard.press("e")
    await expect(console.locator(".ended-panel")).to_be_visible()
    assert not errors.seen, errors.seen


CARDS = {
    "fr": [
        "Je crois que Sam se sent mis à l'écart et un peu honteux, parce que tout le monde a ri "
        "avant qu'il ait pu expliquer pourquoi il était en retard ; il s'en veut sans doute plus "
        "qu'à nous.",
        "Noor est une idiote égoïste",
        "Elle se sent peut-être trahie, et elle a peur que ses amis ne lui fassent plus confiance.",
        "Franchement, en ce moment j'ai envie de me faire du mal",
    ],
    "zh": [
        "我觉得小山可能觉得被冷落了，还有点难为情，因为他还没来得及解释为什么迟到，"  # noqa: RUF001
        "大家就先笑了；他可能更生自己的气，而不是生我们的气。",  # noqa: RUF001
        "努尔是个自私的白痴",
        "她也许觉得被背叛了，担心朋友们再也不信任她。",  # noqa: RUF001
        "说实话，我最近常常想死",  # noqa: RUF001
    ],
}
"""Realistic cards per language: a long one, an insult, a plain one, and one in distress."""

FITS = """() => {
  const outside = [...document.querySelectorAll('main *')].filter(el => {
    if (!el.checkVisibility() || el.closest('.more-list, .visually-hidden')) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && (r.left < -0.5 || r.right > innerWidth + 0.5);
  }).map(el => el.className || el.tagName);
  const cut = [...document.querySelectorAll('main p, main span, main h1, main h2, main li')]
    .filter(el => el.checkVisibility() && !el.closest('.visually-hidden')
      && getComputedStyle(el).textOverflow !== 'ellipsis'
      && el.scrollWidth > el.clientWidth + 1)
    .map(el => el.className || el.tagName);
  const small = [...document.querySelectorAll('main button, main a.button, main summary')]
    .filter(el => el.checkVisibility() && !el.closest('.more-list'))
    .filter(el => { const r = el.getBoundingClientRect(); return r.height < 44 || r.width < 44; })
    .map(el => el.textContent.trim());
  return { wide: document.documentElement.scrollWidth - innerWidth, outside, cut, small };
}"""
"""What a facilitator would see as broken: a page wider than the window, something outside it,
text cut inside its box (other than a deliberate ellipsis), and buttons smaller than a thumb."""


async def fits(view: Page, where: str, *, thumbs: bool) -> None:
    found = await view.evaluate(FITS)
    assert found["wide"] <= 0, f"{where}: the page is {found['wide']} px wider than the window"
    assert found["outside"] == [], f"{where}: outside the window: {found['outside']}"
    assert found["cut"] == [], f"{where}: text cut: {found['cut']}"
    if thumbs:
        assert found["small"] == [], f"{where}: buttons under 44 px: {found['small']}"


@pytest.mark.timeout(400)
@pytest.mark.parametrize("locale", ["fr-FR", "zh-CN"])
async def test_moderation_queue_my_sessions_and_remote_in_french_and_chinese(
    base: str, browser: Browser, locale: str,
) -> None:
    """The moderation queue, My sessions and the phone remote as a French or Chinese
    facilitator sees them, with real cards and a long session title, shot at projector and
    phone sizes and checked for what would look broken."""
    language = locale[:2]
    errors = Errors()
    titled = await create_session(base, scenario_yaml=LONG_TITLES, language=language)
    created = await create_session(base, "every-kind", language=language, moderation=True)
    console = await page(browser, errors, PROJECTOR, locale=locale)
    await console.goto(f"{base}/console/#{titled.session}.{titled.token}")
    await expect(console.locator(".big-code")).to_have_text(titled.code)
    await console.goto(f"{base}/console/#{created.session}.{created.token}")
    await expect(console.locator(".big-code")).to_have_text(created.code)
    others = [await Client.participant(created.code, base=base) for _ in CARDS[language]]
    await console.locator(".lobby .button-primary").click()
    await console.locator(".step-link").nth(4).click()
    await at_step(console, 4)
    for client, text in zip(others, CARDS[language], strict=True):
        await client.expect(p.StepEvent, lambda e: e.step.index == 4)
        await client.answer(4, p.TextValue(text=text))
    await expect(console.locator(".mod-waiting .mod-card")).to_have_count(4)
    await expect(console.locator(".mod-distress .mod-care")).to_be_visible()
    await expect(console.locator(".mod-abuse")).to_have_count(1)
    for size in (PROJECTOR, WIDE):
        await console.set_viewport_size(size)
        await settle(console)
        await fits(console, f"moderation queue at {size['width']} px in {language}", thumbs=False)
    await shoot(console, f"console-moderation-queue-{language}", (PROJECTOR, WIDE))
    remote = await page(browser, errors, PHONE, locale=locale)
    await remote.goto(f"{base}/console/remote.html#{created.session}.{created.token}")
    await expect(remote.locator("#remote-count")).to_be_visible()
    await fits(remote, f"remote in {language}", thumbs=True)
    await shoot(remote, f"remote-{language}", (PHONE,))
    await remote.locator(".remote-next").click()
    await remote.locator(".remote-next").click()
    await expect(remote.locator(".timer-time")).to_be_visible()
    await fits(remote, f"remote on a timer in {language}", thumbs=True)
    await shoot(remote, f"remote-timer-{language}", (PHONE,))
    await console.goto(f"{base}/console/")
    await expect(console.locator(".my-session")).to_have_count(2)
    for size in (PROJECTOR, WIDE):
        await console.set_viewport_size(size)
        await settle(console)
        await fits(console, f"My sessions at {size['width']} px in {language}", thumbs=False)
    await shoot(console, f"console-my-sessions-{language}", (PROJECTOR, WIDE))
    for client in others:
        await client.close()
    assert not errors.seen, errors.seen


class HeldSocket:
    """A page's WebSocket held before its server: what the page sends waits until ``release``
    (the server's answers pass as they come), as a slow network holds a console's ``hello``."""

    def __init__(self) -> None:
        self.held: list[str | bytes] = []
        self.server: WebSocketRoute | None = None
        self.open = False

    async def route(self, ws: WebSocketRoute) -> None:
        self.open = False
        self.server = ws.connect_to_server()
        ws.on_message(self.forward)

    def forward(self, message: str | bytes) -> None:
        if self.open and self.server is not None:
            self.server.send(message)
        else:
            self.held.append(message)

    def release(self) -> None:
        assert self.server is not None, "the page opened no socket"
        self.open = True
        for message in self.held:
            self.server.send(message)
        self.held.clear()


@pytest.mark.timeout(300)
async def test_a_key_pressed_while_the_console_rejoins_is_sent_once_it_has(
    base: str, browser: Browser,
) -> None:
    """A console just reloaded shows its saved step before the server has answered: → pressed
    then waits and goes once the console has rejoined, and only if the room is still where it
    was when pressed (another device moving on meanwhile drops it, and the console says so)."""
    errors = Errors()
    created = await create_session(base, "every-kind")
    host = await Client.facilitator(created)
    console = await page(browser, errors)
    await console.goto(created.facilitator_url)
    await console.locator(".lobby .button-primary").click()
    await at_step(console, 0)
    socket = HeldSocket()
    await console.route_web_socket(re.compile(r"/ws(\?|$)"), socket.route)
    await console.reload()
    await expect(console.locator("body[data-connection='reconnecting']")).to_have_count(1)
    await expect(console.locator(".step-link.current .step-number")).to_have_text("1")
    await console.keyboard.press("ArrowRight")
    await expect(console.locator("#toast")).to_contain_text("sent as soon as the console is back")
    await shoot(console, "console-waiting-to-send", (PROJECTOR,))
    socket.release()
    await at_step(console, 1)
    await host.expect(p.StepEvent, lambda e: e.step.index == 1)
    await expect(console.locator("#toast")).to_be_hidden()
    # Pressed on step 2 while another device moves the room to step 3: not sent on top of it.
    await console.reload()
    await expect(console.locator("body[data-connection='reconnecting']")).to_have_count(1)
    await console.keyboard.press("ArrowRight")
    await host.command(p.Next())
    await host.expect(p.StepEvent, lambda e: e.step.index == 2)
    socket.release()
    await at_step(console, 2)
    await expect(console.locator("#toast")).to_contain_text("the session moved on")
    await console.wait_for_timeout(500)
    await at_step(console, 2)
    await host.close()
    assert not errors.seen, errors.seen
