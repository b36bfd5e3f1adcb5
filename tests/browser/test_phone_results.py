"""What a phone shows once the facilitator reveals a step, in Chromium, in en/fr/zh.

- Its private feedback on a tie: two scripted participants and the phone answer so that two
  options tie for the most chosen and the phone guessed a third; the phone says the room was split
  between both instead of naming one of them the winner.
- Free text: the first few cards, and the rest folded under "Read N more answers", so the next
  question is not hundreds of cards further down."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, ViewportSize, expect

from attune.client import Client, create_session
from attune.core import protocol as p
from tests.support.browser import SHOTS, at_step
from tests.support.paths import DATA

pytestmark = [
    pytest.mark.browser,
    pytest.mark.served(DATA / "every-kind.yaml", min_responses=3),
]

CHOICE, TEXT = 3, 4
"""The choice step of ``every-kind.yaml`` (Alpha, Beta, Gamma, several allowed, with a guess) and
its perspective step."""
PEOPLE = 12
MORE = {"en": "Read 7 more answers", "fr": "Lire 7 autres réponses", "zh": "查看其余 7 条回答"}
SPLIT = {
    "en": "the room was split between Alpha and Beta",
    "fr": "le groupe était partagé entre Alpha et Bêta",
    "zh": "甲和乙",
}


@pytest.mark.parametrize("language", ["en", "fr", "zh"])
async def test_phone_after_reveal(base: str, browser: Browser, language: str) -> None:
    created = await create_session(base, "every-kind", language=language)
    host = await Client.facilitator(created)
    others = [await Client.participant(created.code, base=base) for _ in range(PEOPLE)]
    context = await browser.new_context(viewport=ViewportSize(width=390, height=844),
                                        is_mobile=True, has_touch=True, locale=language)
    try:
        phone = await context.new_page()
        await phone.goto(f"{base}/join/#{created.code}")
        await host.command(p.Start())
        await host.command(p.Goto(step=CHOICE))
        await at_step(phone, CHOICE)
        for option in ("a", "b"):
            await phone.locator(f"input[name='option'][value='{option}'] + label").click()
        await phone.locator(".answer-form button[type=submit]").click()
        await phone.locator("input[name='guess'][value='c'] + label").click()
        await phone.locator(".answer-form button[type=submit]").click()
        await expect(phone.locator(".received .received-title")).to_be_visible()
        for person, option in zip(others[:2], "ab", strict=True):
            await person.answer(CHOICE, p.ChoiceValue(options=[option]))
        await host.command(p.Reveal())
        feedback = phone.locator(".feedback")
        await expect(feedback).to_contain_text(SPLIT[language])
        await feedback.scroll_into_view_if_needed()
        SHOTS.mkdir(parents=True, exist_ok=True)
        await phone.screenshot(path=SHOTS / f"feedback-split-{language}-phone.png")

        await host.command(p.Goto(step=TEXT))
        await at_step(phone, TEXT)
        await phone.locator("textarea").fill("Sam is tired and wishes the bus would come.")
        await phone.locator(".answer-form button[type=submit]").click()
        await expect(phone.locator(".received .received-title")).to_be_visible()
        for i, person in enumerate(others):
            await person.answer(TEXT, p.TextValue(text=f"Perhaps Sam thinks of {i} things."))
        await host.command(p.Reveal())
        cards = phone.locator(".chart-text .card")
        more = phone.locator(".cards-more > summary")
        await expect(more).to_have_text(MORE[language])
        await expect(cards.locator("visible=true")).to_have_count(6)
        box = await more.bounding_box()
        assert box is not None and box["height"] >= 44, f"'more' is {box} tall"
        await more.scroll_into_view_if_needed()
        await phone.screenshot(path=SHOTS / f"text-folded-{language}-phone.png")
        await more.click()
        await expect(cards.locator("visible=true")).to_have_count(PEOPLE + 1)
    finally:
        await context.close()
        for client in (host, *others):
            await client.close()
