"""Themes over a real server and real sockets, once per backend: grouping on demand and on
reveal, the facilitator's edits reaching the projector and the export, and a server without the
grouper saying so."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml

from attune.client import Client
from attune.config import Settings
from attune.core import protocol as p
from tests.support.http import aget
from tests.support.paths import DATA
from tests.support.servers import Running, free_port, start_server

STORY = (DATA / "themes" / "story.yaml").read_text(encoding="utf-8")


@pytest.fixture
def settings(backend_url: str) -> Settings:
    """The suite's server, with the themes worker (conftest's leaves it off)."""
    return Settings(port=free_port(), backend=backend_url, scenarios=Path(DATA), themes=True)
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
    settings = Settings(port=free_port(), backend=backend_url, scenarios=Path(DATA), themes=False)
    uv, task, _ = await start_server(settings)
    try:
        running = Running(f"http://127.0.0.1:{settings.port}", _, settings)
        created = await running.session(scenario_yaml=STORY)
        host = await running.facilitator(created)
        welcome = host.seen[0]
        assert isinstance(welcome, p.Welcome) and not welcome.themes
        await host.command(p.Start())
        await host.command(p.GroupThemes(step=0))
        error = await host.expect(p.Error)
        assert error.code == "themes-unavailable" and "attune[themes]" in error.message
    finally:
        uv.should_exit = True
        await asyncio.wait_for(task, 10)
