"""The room sees everything: the projector and phones, measured in real Chromium.

One session per language (en, fr, zh) of ``tests/data/fit/long-content.yaml`` (the longest prompts
and labels a scenario has, 12 choice options, a breathing prompt, a check-in with a guess) is run
by 300 participants over real sockets, who write 300 free-text answers. At every step, before and
after the reveal, the projector is loaded at 1024x768, 1280x720, 1366x768, 1920x1080 and
3840x2160, and this checks in the browser, from the layout itself, that:

- the page does not scroll and nothing visible lies outside the viewport;
- nothing is cut: no fitted box (head, stage, paged or filled list) holds more than it shows;
- the join strip is on screen on every step, and the code is on one line;
- no word of a word cloud is broken mid-word (here and on phones);
- the question, and every option label of a choice step, are on screen;
- body text is at least 2.5% of the viewport height at 1920x1080.

Phones (390x844, 360x640 and 844x390 landscape) join the same sessions and check that the
question is shown above the answer on every step kind and that tap targets are at least 44 px.

Screenshots of every view at every size go to a temporary folder (printed at the end), or to
``ATTUNE_SCREENSHOTS``; the suite never writes into the checkout.
"""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import pytest
from playwright.async_api import Browser, Page, ViewportSize, expect
from playwright.async_api import TimeoutError as PlaywrightTimeout

from attune.client import Client, create_session
from attune.core import protocol as p
from attune.core import scenario
from attune.core.emotions import VOCABULARY
from tests.support.browser import SHOTS, Watch
from tests.support.layout import PROJECTOR_PROBLEMS, ZH_COMMA, settle
from tests.support.paths import DATA, ROOT

pytestmark = [
    pytest.mark.browser,
    pytest.mark.served(DATA / "fit" / "long-content.yaml", min_responses=3),
]

PROJECTORS = [
    ViewportSize(width=1024, height=768), ViewportSize(width=1280, height=720),
    ViewportSize(width=1366, height=768), ViewportSize(width=1920, height=1080),
    ViewportSize(width=3840, height=2160),
]
PHONES = [
    ViewportSize(width=390, height=844), ViewportSize(width=360, height=640),
    ViewportSize(width=844, height=390),
]
PEOPLE = 300
FIT_DATA = DATA / "fit"
"""Beside, not in, tests/data: the other suites serve that folder and expect its scenarios only."""
LONG = scenario.loads((FIT_DATA / "long-content.yaml").read_text(encoding="utf-8"))

PHRASES = {
    "en": [
        "I can't believe they moved the meeting again",
        "nobody tells me anything until it's too late", "I'm so tired",
        "I feel overwhelmed and I don't want Sam to see it", "I was rude and I know it",
        "I'll apologise after the meeting", "why does this always happen to me",
        "the numbers aren't ready", "I'm scared the client will think I'm not good enough",
        "I wish someone had warned me", "I need five minutes of quiet", "Sam doesn't deserve this",
    ],
    "fr": [
        "je n'arrive pas à croire qu'ils aient encore déplacé la réunion",
        "personne ne me dit rien à temps", "je suis tellement fatiguée",
        "je me sens débordée et je ne veux pas que Sam le voie",
        "j'ai été désagréable et je le sais", "je m'excuserai après la réunion",
        "pourquoi ça m'arrive toujours", "les chiffres ne sont pas prêts",
        "j'ai peur que le client me trouve incompétente", "j'aurais aimé qu'on me prévienne",
        "il me faut cinq minutes de calme", "Sam ne mérite pas ça",
    ],
    "zh": [
        "真不敢相信会议又改时间了", "没有人提前告诉我任何事情", "我太累了",
        f"我觉得不知所措{ZH_COMMA}不想让 Sam 看出来", f"我刚才很没礼貌{ZH_COMMA}我自己知道",
        "开完会我要去道歉", "为什么这种事总是发生在我身上", "数据还没准备好",
        "我怕客户觉得我不够好",
        "真希望有人提前提醒我", "我需要安静五分钟", "Sam 不该被这样对待",
    ],
}


def free_text(language: str, rng: random.Random) -> str:
    """A plausible answer: one to four phrases, now and then one as long as the step allows."""
    joiner = ZH_COMMA if language == "zh" else ". "
    text = joiner.join(rng.sample(PHRASES[language], rng.randint(1, 4)))
    if rng.random() < 0.08:
        text = (text + joiner) * 8
    if len(text) > 280:
        text = text[:280].rsplit(" " if language != "zh" else joiner, 1)[0]
    return text


async def run_room(base: str, language: str) -> tuple[p.Hello, Client, list[Client]]:
    """A session of the long scenario with PEOPLE participants; returns facilitator and people."""
    created = await create_session(base, "long-content", language=language)
    host = await Client.facilitator(created)
    people: list[Client] = []
    for start in range(0, PEOPLE, 50):
        people += await asyncio.gather(*(Client.participant(created.code, base=base)
                                         for _ in range(start, min(PEOPLE, start + 50))))
    return p.Hello(role="screen", code=created.code), host, people


def answers_for(
    step: Any, language: str, rng: random.Random
) -> tuple[p.AnswerValue, p.AnswerValue | None]:
    words = list(VOCABULARY)
    match step:
        case scenario.Checkin():
            return (p.CheckinValue(word=rng.choice(words[:12]), intensity=rng.randint(1, 5)),
                    p.CheckinValue(word=rng.choice(words)))
        case scenario.Scale():
            return (p.ScaleValue(value=rng.randint(step.min, step.max)),
                    p.ScaleValue(value=rng.randint(3, 8)))
        case scenario.Choice():
            ids = [o.id for o in step.options]
            return (p.ChoiceValue(options=rng.sample(ids, rng.randint(1, 3))),
                    p.ChoiceValue(options=[rng.choice(ids)]))
        case _:
            return p.TextValue(text=free_text(language, rng)), None


ONE_LINE = """(el) => {
  const lines = new Set([...el.getClientRects()].map((r) => Math.round(r.top)));
  const range = document.createRange();
  range.selectNodeContents(el);
  const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
  return lines.size === 1 && tops.size === 1;
}"""

IN_VIEW = """(el) => {
  const r = el.getBoundingClientRect();
  const style = getComputedStyle(el);
  return r.width > 0 && r.height > 0 && r.left >= -1 && r.top >= -1 && r.right <= innerWidth + 1
    && r.bottom <= innerHeight + 1 && style.visibility !== 'hidden';
}"""

FONT_PX = "(el) => parseFloat(getComputedStyle(el).fontSize)"

BROKEN_WORDS = """(els) => els.filter((el) => el.offsetParent !== null
    && el.getBoundingClientRect().height > 1.9 * parseFloat(getComputedStyle(el).fontSize))
    .map((el) => el.textContent)"""
"""Words of a word cloud taller than one line: a word broken mid-word (each is one word)."""


async def broken_words(page: Page) -> list[str]:
    words: list[str] = await page.locator(".word-cloud li, .emotion-word").evaluate_all(
        BROKEN_WORDS)
    return words


async def check_projector(
    page: Page, view: str, step: Any, language: str, failures: list[str]
) -> None:
    for size in PROJECTORS:
        await page.set_viewport_size(size)
        await settle(page)
        where = f"{language} {view} {size['width']}x{size['height']}"
        failures += [f"{where}: {problem}" for problem in await page.evaluate(PROJECTOR_PROBLEMS)]
        failures += [f"{where}: a word broken mid-word: {w}" for w in await broken_words(page)]
        codes = page.locator(".strip-code:visible, .screen-code:visible")
        if await codes.count() != 1:
            failures.append(f"{where}: no join code on screen")
        elif not await codes.first.evaluate(ONE_LINE):
            failures.append(f"{where}: the join code wraps")
        if step is not None:
            if not await page.locator(".join-strip").is_visible():
                failures.append(f"{where}: no join strip")
            question = page.locator(".screen-head h1")
            if not await question.evaluate(IN_VIEW):
                failures.append(f"{where}: the question is not on screen")
            if isinstance(step, scenario.Choice):
                labels = page.locator(".screen-options li, .bar-label")
                if await labels.count() != len(step.options):
                    failures.append(f"{where}: {await labels.count()} option labels, "
                                    f"not {len(step.options)}")
                for i in range(await labels.count()):
                    if not await labels.nth(i).evaluate(IN_VIEW):
                        failures.append(f"{where}: option {i + 1} is not on screen")
            if size["height"] == 1080:
                body = page.locator(".screen-head .step-prompt, .story-text p, .screen-options li, "
                                    ".bar-label, .card-text, .screen-hint, .pacer-phase")
                for i in range(await body.count()):
                    px = await body.nth(i).evaluate(FONT_PX)
                    if px < 0.025 * 1080:
                        failures.append(f"{where}: body text at {px:.1f}px, under 2.5% of 1080")
                        break
        name = f"fit-{language}-{view}-{size['width']}x{size['height']}.png"
        await page.screenshot(path=SHOTS / name, animations="disabled")


WAKE_SPY = """(() => {
  // Counts the page's screen wake lock requests and releases around the browser's own API
  // (headless Chromium has no screen to keep on and refuses, which the page must survive).
  const wake = window.attuneWake = { requested: 0, held: 0 };
  const real = navigator.wakeLock;
  const sentinel = () => {
    const lock = new EventTarget();
    lock.release = async () => { wake.held -= 1; lock.dispatchEvent(new Event("release")); };
    return lock;
  };
  Object.defineProperty(navigator, "wakeLock", { configurable: true, value: {
    async request(type) {
      wake.requested += 1;
      if (real) await real.request(type).then((l) => l.release(), () => null);
      wake.held += 1;
      return sentinel();
    },
  } });
})();"""
"""Holds a counted lock; the real API is still asked, so a throw in it shows as a page error."""

TAP_TARGETS = (".answer-form .chip label, .answer-form .option label, .answer-form .segment label, "
               ".answer-form button, .answer-form input[type=range], .answer-form textarea, "
               ".results-arrived, .leave-slot button")


async def check_phone(
    page: Page, view: str, step: Any, language: str, failures: list[str]
) -> None:
    for size in PHONES:
        await page.set_viewport_size(size)
        await page.evaluate("window.scrollTo(0, 0)")
        await settle(page)
        where = f"{language} phone {view} {size['width']}x{size['height']}"
        width = await page.evaluate("document.scrollingElement.scrollWidth")
        if width > size["width"] + 1:
            failures.append(f"{where}: scrolls sideways ({width}px)")
        failures += [f"{where}: a word broken mid-word: {w}" for w in await broken_words(page)]
        if getattr(step, "prompt", None):
            question = page.locator(".step > .step-question, .step > .step-title.step-question")
            answer = page.locator(".answer-form, .pacer, .timer, .reflect").first
            if await question.count() != 1 or not await question.is_visible():
                failures.append(f"{where}: no question on the page")
            elif await answer.count() and await question.evaluate(
                    "(q, a) => q.getBoundingClientRect().bottom > a.getBoundingClientRect().top",
                    await answer.element_handle()):
                failures.append(f"{where}: the question is not above the answer")
        small = await page.evaluate(f"""() => [...document.querySelectorAll({TAP_TARGETS!r})]
            .filter((el) => el.offsetParent !== null && !el.closest('.visually-hidden'))
            .map((el) => [el.textContent.trim().slice(0, 30), el.getBoundingClientRect()])
            .filter(([, r]) => r.height < 44 || r.width < 44)
            .map(([text, r]) => `${{text}} ${{Math.round(r.width)}}x${{Math.round(r.height)}}`)""")
        failures += [f"{where}: tap target under 44 px: {target}" for target in small]
        name = f"fit-{language}-phone-{view}-{size['width']}x{size['height']}.png"
        await page.screenshot(path=SHOTS / name, animations="disabled", full_page=True)


async def answer_on_phone(
    page: Page, step: Any, language: str, rng: random.Random, failures: list[str]
) -> None:
    """Answer through the phone's UI: one question per screen, then the guess; text past the
    limit is refused with a warning, never cut."""
    where = f"{language} phone {type(step).__name__.lower()}"
    submit = page.locator(".answer-form button[type=submit]")
    if isinstance(step, scenario.Perspective):
        box = page.locator("textarea[name=text]")
        await box.fill(free_text(language, rng) * 3 + "x" * 300)
        await expect(page.locator(".counter-over")).to_be_visible()
        if not await submit.is_disabled():
            failures.append(f"{where}: text over the limit can be sent")
        if len(await box.input_value()) <= step.max_length:
            failures.append(f"{where}: text over the limit was cut")
        await box.fill(free_text(language, rng))
    elif isinstance(step, scenario.Checkin):
        await page.locator("input[name=word] + label").first.click()
        await page.locator("input[name=intensity] + label").nth(2).click()
    elif isinstance(step, scenario.Choice):
        await page.locator("input[name=option] + label").first.click()
    if getattr(step, "predict", None):
        await submit.click()  # "Next: guess the room"
        guess = page.locator(".guess-part")
        await expect(guess).to_be_visible()
        if await page.locator(".answer-part").is_visible():
            failures.append(f"{where}: the answer and the guess are on one screen")
        await check_phone(page, f"{type(step).__name__.lower()}-guess", step, language, failures)
        if isinstance(step, scenario.Checkin):
            await page.locator("input[name=guess] + label").nth(3).click()
        elif isinstance(step, scenario.Choice):
            await page.locator("input[name=guess] + label").nth(1).click()
    await submit.click()
    await expect(page.locator(".received .received-title")).to_be_visible()


EVERY_CARD = """async (cards) => {
  // Turn the pages fast and note every card shown, until all `cards` have come up.
  const seen = new Set();
  const start = performance.now();
  let pages = 0;
  while (performance.now() - start < 20000) {
    const list = document.querySelector('.fit-pages');
    for (const li of list.children) seen.add(li.dataset.card);
    const text = document.querySelector('.pager-text').textContent;
    pages = Math.max(pages, Number((text.match(/\\d+/g) || [0, 0])[1] || 0));
    if (seen.size >= cards) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return { cards, seen: seen.size, pages };
}"""


async def check_every_card_shown(page: Page, language: str, failures: list[str]) -> None:
    """Free-text cards are paged, never cut: every card comes up on some page, in turn."""
    await page.locator(".fit-pages").evaluate("(list) => { list.dataset.every = '80'; }")
    await page.set_viewport_size(ViewportSize(width=1920, height=1079))  # re-fit at that pace
    found = await page.evaluate(EVERY_CARD, PEOPLE + 1)  # the room's answers and the phone's
    if found["seen"] != found["cards"] or found["pages"] < 2:
        failures.append(f"{language} projector cards: {found}")


@pytest.mark.timeout(600)  # about 60 s per language; the margin is for a machine busy elsewhere
@pytest.mark.parametrize("language", ["en", "fr", "zh"])
async def test_projector_and_phones_fit_long_content(
    base: str, browser: Browser, language: str
) -> None:
    rng = random.Random(f"fit-{language}")
    hello, host, people = await run_room(base, language)
    watch = Watch()
    locale = {"en": "en-GB", "fr": "fr-FR", "zh": "zh-CN"}[language]
    screen = watch.attach(await (await browser.new_context(
        viewport=PROJECTORS[0], locale=locale)).new_page())
    phone_context = await browser.new_context(
        viewport=PHONES[0], is_mobile=True, has_touch=True, locale=locale)
    await phone_context.add_init_script(WAKE_SPY)
    phone = watch.attach(await phone_context.new_page())
    messages = json.loads((ROOT / "web" / "i18n" / f"{language}.json").read_text(encoding="utf-8"))
    failures: list[str] = []
    try:
        await screen.goto(f"{base}/screen/#{hello.code}")
        await phone.goto(f"{base}/join/#{hello.code}")
        await screen.locator(".screen-code").wait_for()
        await phone.locator(".waiting").wait_for()
        await check_projector(screen, "lobby", None, language, failures)
        # Codes are random: the widest letters must fit on one line too.
        lobby_code = screen.locator(".screen-code")
        real = await lobby_code.text_content()
        await lobby_code.evaluate("(el) => { el.textContent = 'WWMWWM'; }")
        await check_projector(screen, "lobby-widest-code", None, language, failures)
        await lobby_code.evaluate("(el, code) => { el.textContent = code; }", real)
        await host.command(p.Start())
        for index, step in enumerate(LONG.steps):
            if index:
                await host.command(p.Goto(step=index))
            await screen.locator(f".screen-step[data-step='{index}']").wait_for()
            await phone.locator(f".step[data-step='{index}']").wait_for()
            kind = type(step).__name__.lower()
            await check_projector(screen, f"{index + 1}-{kind}", step, language, failures)
            await check_phone(phone, f"{index + 1}-{kind}", step, language, failures)
            wake = await phone.evaluate("window.attuneWake")
            timed = isinstance(step, scenario.Breathe | scenario.Timer)
            if timed and wake["held"] != 1:
                failures.append(f"{language} phone {kind}: no screen wake lock held ({wake})")
            if not timed and wake["held"]:
                failures.append(f"{language} phone {kind}: a wake lock is still held ({wake})")
            answerable = scenario.Checkin | scenario.Scale | scenario.Choice | scenario.Perspective
            if not isinstance(step, answerable):
                continue
            await answer_on_phone(phone, step, language, rng, failures)
            picked = [answers_for(step, language, rng) for _ in people]
            await asyncio.gather(*(person.answer(index, value, guess)
                                   for person, (value, guess) in zip(people, picked, strict=True)))
            await host.command(p.Reveal())
            await screen.locator(".screen-results .chart").wait_for()
            await phone.locator(".my-results .chart").wait_for()
            # The reveal comes into view wherever the phone was, and is announced.
            await expect(phone.locator("#announcer")).to_have_text(messages["results.shown"])
            try:
                await phone.wait_for_function(f"() => ({IN_VIEW})(document.querySelector("
                                              "'.my-results h2'))", timeout=5000)
            except PlaywrightTimeout:
                failures.append(f"{language} phone {kind}: the revealed results stay out of view")
            await check_projector(screen, f"{index + 1}-{kind}-revealed", step, language, failures)
            await check_phone(phone, f"{index + 1}-{kind}-revealed", step, language, failures)
            if isinstance(step, scenario.Perspective):
                await check_every_card_shown(screen, language, failures)
    finally:
        print(f"\nfit screenshots: {SHOTS}")
        await asyncio.gather(*(person.close() for person in people), host.close())
        await screen.context.close()
        await phone.context.close()
    watch.check()
    assert not failures, "\n".join(failures)
