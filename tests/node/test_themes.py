"""Themes over a real server and real sockets, once per backend: grouping on demand and on
reveal, the facilitator's edits reaching the projector and the export, and a server without the
grouper saying so."""

from __future__ import annotations

import asyncio
import json

import pytest
import yaml

from attune.client import Client
from attune.config import Settings
from attune.core import protocol as p
from tests.support.http import aget
from tests.support.paths import DATA
from tests.support.servers import Running, serving, settings_for

STORY = (DATA / "themes" / "story.yaml").read_text(encoding="utf-8")


@pytest.fixture
def settings(backend_url: str) -> Settings:
    """The suite's server, with the themes worker (conftest's leaves it off)."""
    return settings_for(backend=backend_url, themes=True)
ANSWERS = yaml.safe_load((DATA / "themes" / "noor.yaml").read_text(encoding="utf-8"))["answers"]


def answers(themes: list[str], per_language: int) -> list[str]:
    return [text for theme in themes for language in ("en", "fr", "zh")
            for text in ANSWERS[theme][language][:per_language]]


async def themed(client: Client, where: object = lambda t: True) -> p.Themes:
    """The next results whose themes satisfy ``where``."""
    def ready(results: p.Results) -> bool:
        answers = results.answers
        return isinstance(answers, p.TextAggregate) and answers.themes is not None \
            and bool(where(answers.themes))  # type: ignore[operator]
    results = await client.expect(p.Results, ready, timeout=30)
    assert isinstance(results.answers, p.TextAggregate) and results.answers.themes is not None
    return results.answers.themes


async def test_group_edit_reveal_and_export(server: Running) -> None:
    created = await server.session(scenario_yaml=STORY)
    host = await server.facilitator(created)
    assert host.seen and isinstance(host.seen[0], p.Welcome) and host.seen[0].themes
    texts = answers(["deadline", "family", "saturday"], per_language=2)
    phones = [await server.participant(created) for _ in texts]
    screen = await server.screen(created)
    await host.command(p.Start())
    for phone, text in zip(phones, texts, strict=True):
        await phone.expect(p.StepEvent)
        await phone.answer(0, p.TextValue(text=text))

    await host.command(p.GroupThemes(step=0))
    grouping = await themed(host, lambda t: sum(len(x.cards) for x in t.themes) == len(texts))
    assert 2 <= len(grouping.themes) <= 8 and grouping.model
    assert all(theme.label for theme in grouping.themes)
    # Not revealed yet: the projector has counts, no themes.
    await asyncio.sleep(0.3)
    assert not any(isinstance(m, p.Results) and isinstance(m.answers, p.TextAggregate)
                   for m in screen.seen)

    await host.command(p.Reveal())
    room = await themed(screen)
    assert [t.id for t in room.themes] == [t.id for t in grouping.themes if not t.folded]
    first, second = grouping.themes[0], grouping.themes[1]
    await host.command(p.RenameTheme(step=0, theme=first.id, label="Deadlines"))
    await themed(screen, lambda t: any(x.label == "Deadlines" for x in t.themes))
    card = second.cards[0]
    await host.command(p.MoveCard(step=0, card=card, theme=first.id))
    moved = await themed(screen, lambda t: card in t.themes[0].cards)
    assert moved.themes[0].cards[-1] == card
    await host.command(p.MergeThemes(step=0, theme=second.id, into=first.id))
    merged = await themed(host, lambda t: all(x.id != second.id for x in t.themes))
    assert len(merged.themes[0].cards) == len(first.cards) + len(second.cards)
    await host.command(p.SplitTheme(step=0, theme=first.id))
    split = await themed(host, lambda t: len(t.themes) == len(merged.themes) + 1)
    assert sum(len(t.cards) for t in split.themes) == len(texts)

    for command in (p.RenameTheme(step=0, theme="t99", label="x"),
                    p.GroupThemes(step=1)):
        await host.command(command)
        error = await host.expect(p.Error)
        assert error.code in ("no-such-theme", "not-answerable")
    await phones[0].send(p.GroupThemes(step=0))
    assert (await phones[0].expect(p.Error)).code == "forbidden"

    url = f"{server.base}/api/sessions/{created.session}/export"
    status, body = await aget(url, {"authorization": f"Bearer {created.token}"})
    assert status == 200
    exported = json.loads(body)["steps"][0]["answers"]["themes"]
    assert [t["label"] for t in exported["themes"]] == [t.label for t in split.themes
                                                         if not t.folded]
    status, csv_body = await aget(url + "?format=csv", {"authorization": f"Bearer {created.token}"})
    rows = csv_body.decode()
    assert all(f"theme:{t['label']}" in rows for t in exported["themes"])


async def test_reveal_groups_a_step_that_asks_for_themes(server: Running) -> None:
    created = await server.session(scenario_yaml=STORY)
    host = await server.facilitator(created)
    texts = answers(["tired", "space"], per_language=2)
    phones = [await server.participant(created) for _ in texts]
    screen = await server.screen(created)
    await host.command(p.Start())
    for phone, text in zip(phones, texts, strict=True):
        await phone.expect(p.StepEvent)
        await phone.answer(0, p.TextValue(text=text))
    await host.command(p.Reveal())
    room = await themed(screen)
    assert room.themes and sum(len(t.cards) for t in room.themes) + len(room.other) == len(texts)


async def test_without_the_grouper_the_console_is_told_plainly(backend_url: str) -> None:
    async with serving(settings_for(backend=backend_url)) as running:
        created = await running.session(scenario_yaml=STORY)
        host = await running.facilitator(created)
        welcome = host.seen[0]
        assert isinstance(welcome, p.Welcome) and not welcome.themes
        await host.command(p.Start())
        await host.command(p.GroupThemes(step=0))
        error = await host.expect(p.Error)
        assert error.code == "themes-unavailable" and "attune-server[themes]" in error.message


CHAIRS = (DATA / "themes" / "chairs.yaml").read_text(encoding="utf-8")


async def test_a_step_that_hands_characters_out_groups_each_characters_answers(
    server: Running,
) -> None:
    """Reveal groups each character's answers apart: every theme of a column holds only that
    character's cards, the step itself carries none, and the export has them per character."""
    created = await server.session(scenario_yaml=CHAIRS)
    host = await server.facilitator(created)
    texts = answers(["deadline", "family", "tired", "saturday"], per_language=1)
    phones = [await server.participant(created) for _ in texts]
    screen = await server.screen(created)
    await host.command(p.Start())
    await host.command(p.Next())
    for phone, text in zip(phones, texts, strict=True):
        await phone.expect(p.Assigned, timeout=10)
        await phone.answer(1, p.TextValue(text=text))
    await host.command(p.Reveal())

    def grouped(results: p.Results) -> bool:
        return len(results.characters) == 2 and all(
            isinstance(c.answers, p.TextAggregate) and c.answers.themes is not None
            for c in results.characters)

    results = await screen.expect(p.Results, grouped, timeout=60)
    assert isinstance(results.answers, p.TextAggregate) and results.answers.themes is None
    for column in results.characters:
        assert isinstance(column.answers, p.TextAggregate) and column.answers.themes
        own = {card.id for card in column.answers.cards}
        themes = column.answers.themes
        assert {c for t in themes.themes for c in t.cards} | set(themes.other) == own
    theme = next(t for c in results.characters
                 for t in c.answers.themes.themes)  # type: ignore[union-attr]
    await host.command(p.RenameTheme(step=1, theme=theme.id, label="Renamed"))
    await screen.expect(p.Results, lambda r: any(
        t.label == "Renamed" for c in r.characters if isinstance(c.answers, p.TextAggregate)
        and c.answers.themes for t in c.answers.themes.themes), timeout=10)
    url = f"{server.base}/api/sessions/{created.session}/export"
    status, body = await aget(url, {"authorization": f"Bearer {created.token}"})
    assert status == 200
    [step] = [s for s in json.loads(body)["steps"] if s["index"] == 1]
    labels = [t["label"] for c in step["characters"] for t in c["answers"]["themes"]["themes"]]
    assert "Renamed" in labels
