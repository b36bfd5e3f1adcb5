"""Groups steps in real Chromium: a facilitator's console, a projector and seven phones run the
built-in listening triads through two rotations and the debrief; then the phone, the projector and
the console are looked at in en, fr and zh at 390x844, 1280x720 and 1920x1080, with the projector
checked against the layout rules (docs/ui.md) by the fit suite's probe and for what the back of the
room needs: most of the height used, no text cut short, 44 px targets (room_checks.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial

import pytest
from playwright.async_api import Browser, Page, ViewportSize, expect

from attune.client import Client, Created, create_session
from attune.core import protocol as p
from tests.browser.room_checks import room_problems
from tests.support.browser import PHONE, SHOTS, Watch, at_step
from tests.support.layout import projector_problems
from tests.support.paths import BUILTIN, ROOT
from tests.support.rooms import join_views, ready_for_groups, start_to

pytestmark = [
    pytest.mark.browser,
    pytest.mark.served(BUILTIN / "listening-triads.yaml", BUILTIN / "remote-listening-rooms.yaml",
                       BUILTIN / "partner-story-exchange.yaml", min_responses=3),
]

PROJECTORS = [ViewportSize(width=1280, height=720), ViewportSize(width=1920, height=1080)]
CONSOLE = ViewportSize(width=1280, height=800)
GROUPS = 1
"""The groups step of scenarios/listening-triads.yaml."""
LOCALES = {"en": "en-GB", "fr": "fr-FR", "zh": "zh-CN"}
ROOMS = {"en": 13, "fr": 13, "zh": 48}
"""People in the room per language: 13 make 4 triads, 48 make 16 (a grid of many)."""


def grouped_in(number: int) -> Callable[[p.GroupView], bool]:
    return lambda view: view.round == number and view.status == "grouped"


async def page_of(browser: Browser, watch: Watch, size: ViewportSize, language: str = "en",
                  ) -> Page:
    mobile = size == PHONE
    context = await browser.new_context(viewport=size, is_mobile=mobile, has_touch=mobile,
                                        locale=LOCALES[language])
    return watch.attach(await context.new_page())


async def room_at_groups(browser: Browser, watch: Watch, base: str, created: Created,
                         language: str, others: list[Client]) -> tuple[Page, Page, Page]:
    """The console (by its facilitator link), a 1920x1080 projector and a phone on a session
    moved to its groups step, with the script phones ``others`` ready there."""
    console = await page_of(browser, watch, CONSOLE, language)
    await console.goto(f"{base}/console/#{created.session}.{created.token}")
    views = await join_views(console, partial(page_of, browser, watch, language=language),
                             base, created.code, PROJECTORS[1])
    await start_to(views, GROUPS)
    await ready_for_groups(others, GROUPS)
    return views.console, views.screen, views.phone


async def card_of(phone: Page) -> tuple[str, str, str]:
    """(group number, role name, next role line) as the phone shows them."""
    card = phone.locator(".group-card")
    await expect(card).to_be_visible()
    number = await card.get_attribute("data-number") or ""
    role = (await phone.locator(".group-role-name").text_content() or "").strip()
    following = phone.locator(".group-next")
    upcoming = (await following.text_content() or "").strip() if await following.count() else ""
    return number, role, upcoming


async def phone_problems(phone: Page, where: str) -> list[str]:
    """Nothing wider than the phone, and every button or checkbox row at least 44 px tall."""
    found: list[str] = []
    wide = await phone.evaluate("document.documentElement.scrollWidth - innerWidth")
    if wide > 1:
        found.append(f"{where}: scrolls sideways by {wide}px")
    small = await phone.evaluate("""() => [...document.querySelectorAll(
        '.groups-phone button, .check-item, .answer-form button')].filter(el => {
          const r = el.getBoundingClientRect(); return r.height > 0 && r.height < 44; })
        .map(el => el.textContent.trim().slice(0, 30))""")
    found += [f"{where}: tap target under 44 px: {name!r}" for name in small]
    return found


async def projector_checks(screen: Page, where: str, shot: str) -> list[str]:
    """At each projector size: the fit probe with the join strip shown, and what the back of the
    room needs (tests/browser/room_checks.py: the height used, no cut text, 44 px targets)."""
    found: list[str] = []
    for size in PROJECTORS:
        found += await projector_problems(screen, [size], where, shot, join_strip=True)
        found += await room_problems(screen, f"{where} {size['width']}x{size['height']}")
    return found


@pytest.mark.timeout(600)  # a minute or two; the margin is for a machine busy with other work
async def test_a_facilitator_and_seven_phones_run_triads_through_two_rotations(
    base: str, browser: Browser,
) -> None:
    watch = Watch()
    created = await create_session(base, "listening-triads")
    console = await page_of(browser, watch, CONSOLE)
    await console.goto(f"{base}/console/#{created.session}.{created.token}")
    screen = await page_of(browser, watch, PROJECTORS[0])
    await screen.goto(f"{base}/screen/#{created.code}")
    phones = [await page_of(browser, watch, PHONE) for _ in range(7)]
    for phone in phones:
        await phone.goto(f"{base}/join/{created.code}")
        await expect(phone.locator(".waiting h1")).to_be_visible()
    await console.locator("[data-keep=start]").click()
    await at_step(console, 0)
    await console.locator("[data-keep=next]").click()
    for page in [console, screen, *phones]:
        await at_step(page, GROUPS)

    # Forming with nobody ready is a typed refusal, shown to the facilitator.
    await console.locator("[data-action=groups_form]").click()
    await expect(console.locator("#toast")).to_contain_text("At least two people")
    for phone in phones:
        await phone.locator("[data-action=ready]").click()
        await expect(phone.locator(".groups-phone[data-status=ready]")).to_be_visible()
    await expect(console.locator("#groups-counts")).to_contain_text("7 ready")
    await expect(screen.locator(".groups-big")).to_have_text("7")
    await console.locator("[data-action=groups_form]").click()

    cards = [await card_of(phone) for phone in phones]
    sizes: dict[str, int] = {}
    for number, _, _ in cards:
        sizes[number] = sizes.get(number, 0) + 1
    assert sorted(sizes.values()) == [3, 4], sizes
    for phone, (number, _, _) in zip(phones, cards, strict=True):
        others = sizes[number] - 1
        await expect(phone.locator(".group-card-find")).to_contain_text(f"Find {others} other")
    await expect(screen.locator(".group-tile")).to_have_count(2)
    await expect(console.locator(".groups-table tbody tr")).to_have_count(2)

    await console.locator("[data-action=groups_start]").click()
    await expect(screen.locator(".round-timer[data-state=running]")).to_be_visible()
    await expect(phones[0].locator(".round-timer[data-state=running]")).to_be_visible()
    await console.locator("[data-action=groups_pause]").click()
    await expect(screen.locator(".round-timer[data-state=paused]")).to_be_visible()
    # Paused, the time left holds still: +30 s shows as exactly 30 s more on the projector.
    left = screen.locator(".round-timer .round-time")
    minutes, seconds = (await left.text_content() or "").split(":")
    more = int(minutes) * 60 + int(seconds) + 30
    await console.locator("[data-action=groups_extend]").click()
    await expect(left).to_have_text(f"{more // 60}:{more % 60:02d}")

    for round_ in (2, 3):
        await console.locator("[data-action=groups_next]").click()
        await expect(screen.locator(".groups-status .groups-round")).to_have_text(
            f"Round {round_} of 3")
        now = [await card_of(phone) for phone in phones]
        for (number, _, upcoming), (again, role, _) in zip(cards, now, strict=True):
            assert again == number  # the group stays; the role moves on
            assert upcoming == f"Next round you will be: {role}"
        cards = now
    # After the last round there is no "next round", only "end groups".
    await expect(console.locator("[data-action=groups_next]")).to_have_count(0)
    # Each member of a triad held each role once over the three rounds: checked in the pure
    # tests; here the last round has no next role.
    assert all(upcoming == "" for _, _, upcoming in cards)

    await console.locator("[data-action=groups_end]").click()
    for value, phone in zip([5, 4, 4, 3, 5, 4, 2], phones, strict=True):
        await phone.locator("input[name=scale]").fill(str(value))
        await phone.locator(".answer-form button[type=submit]").click()
        await expect(phone.locator(".received .received-title")).to_be_visible()
    await console.locator("#toggle-reveal").click()
    await expect(screen.locator(".screen-results .chart")).to_be_visible()
    await expect(phones[0].locator(".my-results .chart")).to_be_visible()
    watch.check()


@pytest.mark.timeout(600)
@pytest.mark.parametrize("language", ["en", "fr", "zh"])
async def test_groups_views_fit_and_look_right(base: str, browser: Browser, language: str) -> None:
    """One phone in the browser, the rest script phones; screenshots of every groups view."""
    watch = Watch()
    created = await create_session(base, "remote-listening-rooms", language=language)
    people = ROOMS[language]
    others = [await Client.participant(created.code, base=base) for _ in range(people - 1)]
    console, screen, phone = await room_at_groups(browser, watch, base, created, language, others)
    failures: list[str] = []
    shots = SHOTS / "groups"
    shots.mkdir(parents=True, exist_ok=True)

    async def projector(view: str) -> None:
        shot = str(shots / f"screen-{view}-{language}-{{width}}.png")
        failures.extend(await projector_checks(screen, f"{language} {view}", shot))

    await phone.screenshot(path=shots / f"join-ready-{language}.png", animations="disabled")
    failures += await phone_problems(phone, f"{language} phone ready")
    await phone.locator("[data-action=ready]").click()
    await expect(console.locator("#groups-counts")).to_contain_text(str(people))
    await projector("gathering")
    await console.locator("[data-action=groups_form]").click()
    await expect(phone.locator(".group-card")).to_be_visible()
    await console.locator("[data-action=groups_start]").click()
    await expect(screen.locator(".round-timer[data-state=running]")).to_be_visible()
    await phone.screenshot(path=shots / f"join-group-{language}.png", animations="disabled",
                           full_page=True)
    failures += await phone_problems(phone, f"{language} phone group")
    await projector("round")
    await expect(console.locator(".groups-table tbody tr")).to_have_count(people // 3)
    await console.screenshot(path=shots / f"console-round-{language}.png", animations="disabled",
                             full_page=True)
    await console.locator("[data-action=groups_end]").click()
    await expect(phone.locator(".answer-form")).to_be_visible()
    await phone.screenshot(path=shots / f"join-debrief-{language}.png", animations="disabled")
    await projector("debrief")
    for client in others:
        await client.close()
    watch.check()
    assert not failures, "\n".join(failures)


@pytest.mark.timeout(300)
async def test_waiting_and_alone_are_said_on_the_phone(base: str, browser: Browser) -> None:
    """Nobody is left alone silently: a late joiner when every group is full, and the last one
    of a group whose others left, each read what happens to them."""
    watch = Watch()
    created = await create_session(base, "listening-triads")
    host = await Client.facilitator(created)
    first, late = [await page_of(browser, watch, PHONE) for _ in range(2)]
    for phone in (first, late):
        await phone.goto(f"{base}/join/{created.code}")
        await expect(phone.locator(".waiting h1")).to_be_visible()
    others = [await Client.participant(created.code, base=base) for _ in range(3)]
    await host.command(p.Start())
    await host.command(p.Next())
    await ready_for_groups(others, GROUPS)
    await at_step(first, GROUPS)
    await first.locator("[data-action=ready]").click()
    await host.expect(p.GroupCounts, lambda c: c.ready == 4)
    await host.command(p.GroupsForm())  # four people: one triad of four, which is full
    await expect(first.locator(".group-card-find")).to_contain_text("Find 3 other")
    await at_step(late, GROUPS)
    await late.locator("[data-action=ready]").click()
    await expect(late.locator(".groups-phone[data-status=waiting]")).to_be_visible()
    await expect(late.locator(".group-wait")).to_contain_text("next round")
    shots = SHOTS / "groups"
    shots.mkdir(parents=True, exist_ok=True)
    await late.screenshot(path=shots / "join-waiting-en.png", animations="disabled")
    for client in others:
        await client.send(p.Leave())
    await expect(first.locator(".groups-phone[data-status=alone]")).to_be_visible()
    await expect(first.locator(".group-wait")).to_contain_text("another group")
    await first.screenshot(path=shots / "join-alone-en.png", animations="disabled")
    await host.command(p.GroupsNext())  # the two are put together
    for phone in (first, late):
        await expect(phone.locator(".group-card-find")).to_contain_text("Find 1 other")
    await host.close()
    watch.check()


TRIADS = 12
"""Twelve triads (36 people: one phone in the browser, the rest script phones)."""


def noticed(number: int, item: int, round_: int) -> bool:
    """Which items the script observers tick: a fixed pattern, so the totals are known."""
    return round_ == number % 3 and (number + item) % (item + 2) != 0


@pytest.mark.timeout(600)
@pytest.mark.parametrize("language", ["en", "fr", "zh"])
async def test_checklist_ticks_become_totals_that_fit_at_the_debrief(
    base: str, browser: Browser, language: str,
) -> None:
    """Observers tick on their phones through three rounds (the browser phone by tapping); at the
    debrief the console and the projector show, per item, in how many of the 12 triads it was
    noticed, and the projector passes the fit probe at both sizes."""
    watch = Watch()
    created = await create_session(base, "listening-triads", language=language)
    others = [await Client.participant(created.code, base=base) for _ in range(TRIADS * 3 - 1)]
    console, screen, phone = await room_at_groups(browser, watch, base, created, language, others)
    await phone.locator("[data-action=ready]").click()
    await expect(console.locator("#groups-counts")).to_contain_text(str(TRIADS * 3))
    await console.locator("[data-action=groups_form]").click()
    failures: list[str] = []
    shots = SHOTS / "groups"
    shots.mkdir(parents=True, exist_ok=True)
    expected: list[set[int]] = [set() for _ in range(4)]
    tapped = False
    for round_ in range(3):
        views = [await client.expect(p.GroupView, grouped_in(round_)) for client in others]
        for client, view in zip(others, views, strict=True):
            if view.role is None or view.role.id != "observer":
                continue
            for item in range(len(view.role.checklist)):
                if noticed(view.number, item, round_):
                    assert item in (await client.tick(GROUPS, item)).ticked
                    expected[item].add(view.number)
        await phone.locator(f".groups-phone[data-status=grouped][data-round='{round_}']").wait_for(
            state="attached", timeout=15_000)
        if await phone.locator(".group-checklist").count():
            # The browser phone observes this round: it ticks the first and last items.
            number = int(await phone.locator(".group-card").get_attribute("data-number") or 0)
            boxes = phone.locator(".check-item")
            for index in (0, await boxes.count() - 1):
                await boxes.nth(index).click()
                await phone.locator(f".groups-phone[data-ticked~='{index}']").wait_for(
                    state="attached")  # the server has the tick
                expected[index].add(number)
            await phone.reload()  # the ticks come back from the server
            await expect(phone.locator(".check-item input:checked")).to_have_count(2)
            await phone.screenshot(path=shots / f"join-checklist-{language}.png",
                                   animations="disabled", full_page=True)
            failures += await phone_problems(phone, f"{language} phone checklist")
            tapped = True
        if round_ < 2:
            await console.locator("[data-action=groups_next]").click()
    assert tapped, "the browser phone observed no round"
    await console.locator("[data-action=groups_end]").click()
    totals = console.locator("#groups-totals .bar-row")
    await expect(totals).to_have_count(4)
    await expect(screen.locator(".groups-totals .bar-row")).to_have_count(4)
    # "n of 12 groups" for each item, in the projector's language.
    of = json.loads((ROOT / "web" / "i18n" / f"{language}.json").read_text())["groups.totals.of"]
    said = [of["other"].replace("{n}", str(len(s))).replace("{count}", str(TRIADS))
            for s in expected]
    await expect(screen.locator(".groups-totals .bar-number")).to_have_text(said)
    await console.screenshot(path=shots / f"console-totals-{language}.png", animations="disabled",
                             full_page=True)
    async def projector(view: str) -> None:
        shot = str(shots / f"screen-{view}-{language}-{{width}}.png")
        failures.extend(await projector_checks(screen, f"{language} {view}", shot))

    await projector("totals")
    # With the debrief answered and revealed, the totals share the stage with its chart.
    await expect(phone.locator(".answer-form")).to_be_visible()
    for i, client in enumerate(others):
        await client.answer(GROUPS, p.ScaleValue(value=1 + i % 5))
    await console.locator("#toggle-reveal").click()
    await expect(screen.locator(".screen-results .chart")).to_be_visible()
    await expect(screen.locator(".groups-totals .bar-row")).to_have_count(4)
    await projector("totals-revealed")

    # The printable breakout-room list: group numbers and sizes, never a name.
    await console.evaluate("""() => { window.print = () => {
        window.attunePrinted = [...document.querySelectorAll('#groups-print li')]
          .map(li => li.textContent); }; }""")
    await console.locator(".groups-list-head button").click()
    printed = await console.evaluate("window.attunePrinted")
    assert len(printed) == TRIADS and all("3" in line for line in printed), printed
    await console.evaluate("window.dispatchEvent(new Event('afterprint'))")
    assert not await console.locator("#groups-print").count()
    # The session report carries the totals too.
    report = await page_of(browser, watch, CONSOLE, language)
    await report.goto(f"{base}/console/report.html#{created.session}.{created.token}")
    await expect(report.locator(".groups-totals .bar-row")).to_have_count(4)
    await report.screenshot(path=shots / f"report-totals-{language}.png", full_page=True,
                            animations="disabled")
    for client in others:
        await client.close()
    watch.check()
    assert not failures, "\n".join(failures)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_roles_private_question_stays_on_the_phone(
    base: str, browser: Browser, language: str,
) -> None:
    """The retelling role of partner-story-exchange has a short private answer: written on the
    phone, there again after a reload, and never sent over the socket."""
    watch = Watch()
    created = await create_session(base, "partner-story-exchange", language=language)
    host = await Client.facilitator(created)
    others = [await Client.participant(created.code, base=base) for _ in range(3)]
    phone = await page_of(browser, watch, PHONE, language)
    sent: list[str] = []
    phone.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(str(frame))))
    await phone.goto(f"{base}/join/{created.code}")
    await expect(phone.locator(".waiting h1")).to_be_visible()
    await host.command(p.Start())  # the groups step is the first one here
    await ready_for_groups(others, 0)
    await at_step(phone, 0)
    await phone.locator("[data-action=ready]").click()
    await host.expect(p.GroupCounts, lambda c: c.ready == 4)
    await host.command(p.GroupsForm())
    await expect(phone.locator(".group-card")).to_be_visible()
    if not await phone.locator(".group-note").count():
        await host.command(p.GroupsNext())  # pairs swap roles: now this phone retells
    note = phone.locator(".group-note textarea")
    await expect(note).to_be_visible()
    words = "missed: the smell of rain 雨"
    await note.fill(words)
    await phone.reload()
    await expect(phone.locator(".group-note textarea")).to_have_value(words)
    shots = SHOTS / "groups"
    shots.mkdir(parents=True, exist_ok=True)
    await phone.screenshot(path=shots / f"join-note-{language}.png", full_page=True,
                           animations="disabled")
    failures = await phone_problems(phone, f"{language} phone note")
    assert not [frame for frame in sent if "smell of rain" in frame]
    for client in [host, *others]:
        await client.close()
    watch.check()
    assert not failures, "\n".join(failures)
