"""Moderation over a real server, on every backend: the queue, the lexicon's holds, the help a
writer in distress sees, the spotlight, the export, and typed errors for bad commands."""

from __future__ import annotations

import asyncio
import json
import urllib.request

from attune.client import Client, Created, create_session
from attune.core import protocol as p
from tests.support.servers import Running

TEXT = 4


async def text_step(server: Running, created: Created, people: int) -> tuple[Client, list[Client]]:
    """Host and phones on the free-text step (sessions made after ``floor(server)``)."""
    host = await server.facilitator(created)
    phones = [await server.participant(created) for _ in range(people)]
    await host.command(p.Start())
    await host.expect(p.StepEvent)
    await host.command(p.Goto(step=TEXT))
    for client in [host, *phones]:
        await client.expect(p.StepEvent, lambda e: e.step.index == TEXT)
    return host, phones


async def cards(host: Client, where: object) -> p.TextAggregate:
    results = await host.expect(
        p.Results, lambda r: isinstance(r.answers, p.TextAggregate) and where(r.answers)  # type: ignore[operator]
    )
    assert isinstance(results.answers, p.TextAggregate)
    return results.answers


def floor(server: Running) -> None:
    """Results from the first answer: the server's floor, which a session may only raise."""
    server.settings.min_responses = 1


def exported_cards(created: Created) -> list[object]:
    """The free-text step's cards in the session's JSON export."""
    request = urllib.request.Request(
        f"{created.base}/api/sessions/{created.session}/export",
        headers={"authorization": f"Bearer {created.token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        data = json.loads(response.read())
    step = next(step for step in data["steps"] if step["index"] == TEXT)
    found: list[object] = step["answers"]["cards"]
    return found


async def test_queued_cards_reach_the_room_only_once_approved(server: Running) -> None:
    floor(server)
    created = await create_session(server.base, "every-kind", moderation=True, min_responses=1)
    host, phones = await text_step(server, created, 3)
    screen = await server.screen(created)
    for phone, text in zip(phones, ["Sam feels left out", "Maybe tired", "Worried about the test"],
                           strict=True):
        await phone.answer(TEXT, p.TextValue(text=text))
    held = await cards(host, lambda a: a.held == 3)
    assert {c.held for c in held.cards} == {"queue"}
    await host.command(p.Reveal())
    revealed = await screen.expect(p.Results, lambda r: r.answers is not None)
    assert isinstance(revealed.answers, p.TextAggregate) and revealed.answers.cards == []
    assert await asyncio.to_thread(exported_cards, created) == []
    await host.command(p.ApproveCard(step=TEXT, card=held.cards[0].id))
    one = await screen.expect(p.Results, lambda r: isinstance(r.answers, p.TextAggregate)
                              and len(r.answers.cards) == 1)
    assert one.answers.cards[0].held is None  # type: ignore[union-attr]
    await host.command(p.ApproveAll(step=TEXT))
    await screen.expect(p.Results, lambda r: isinstance(r.answers, p.TextAggregate)
                        and len(r.answers.cards) == 3)
    await host.command(p.Spotlight(step=TEXT, card=held.cards[1].id))
    lit = await screen.expect(p.Results, lambda r: r.spotlight is not None)
    assert lit.spotlight is not None and lit.spotlight.id == held.cards[1].id
    assert len(await asyncio.to_thread(exported_cards, created)) == 3
    for client in [host, screen, *phones]:
        await client.close()


async def test_classroom_scenarios_queue_by_default(server: Running) -> None:
    floor(server)
    created = await create_session(server.base, "every-kind", min_responses=1)
    host, phones = await text_step(server, created, 1)
    await phones[0].answer(TEXT, p.TextValue(text="Sam feels left out"))
    aggregate = await cards(host, lambda a: a.count == 1)
    assert aggregate.cards[0].held is None, "every-kind is for workshops: no queue by default"
    for client in [host, *phones]:
        await client.close()


async def test_insults_and_distress_are_held_without_a_queue(server: Running) -> None:
    floor(server)
    created = await create_session(server.base, "every-kind", moderation=False, min_responses=1)
    host, phones = await text_step(server, created, 3)
    screen = await server.screen(created)
    await phones[0].answer(TEXT, p.TextValue(text="Noor is a selfish idiot"))
    ack = await phones[1].answer(TEXT, p.TextValue(text="I want to hurt myself"))
    assert ack.help and "Childline" in ack.help
    calm = await phones[2].answer(TEXT, p.TextValue(text="Noor is worried"))
    assert calm.help is None
    aggregate = await cards(host, lambda a: a.count == 3)
    assert sorted(str(c.held) for c in aggregate.cards) == ["None", "abuse", "distress"]
    await host.command(p.Reveal())
    shown = await screen.expect(p.Results, lambda r: r.answers is not None)
    assert isinstance(shown.answers, p.TextAggregate)
    assert [c.text for c in shown.answers.cards] == ["Noor is worried"]
    assert "idiot" not in dict(shown.answers.words)
    distress = next(c for c in aggregate.cards if c.held == "distress")
    await host.command(p.ApproveCard(step=TEXT, card=distress.id, ref="care"))
    error = await host.expect(p.Error)
    assert (error.code, error.ref) == ("held-for-care", "care")
    for client in [host, screen, *phones]:
        await client.close()


async def test_bad_moderation_commands_are_typed_errors(server: Running) -> None:
    floor(server)
    created = await create_session(server.base, "every-kind", moderation=True, min_responses=1)
    host, phones = await text_step(server, created, 1)
    await phones[0].answer(TEXT, p.TextValue(text="Sam feels left out"))
    aggregate = await cards(host, lambda a: a.count == 1)
    refusals: list[tuple[p.FacilitatorCommand, str]] = [
        (p.ApproveCard(step=TEXT, card="does-not-exist"), "no-such-card"),
        (p.ApproveCard(step=1, card="x"), "no-such-card"),
        (p.ApproveAll(step=2), "no-such-card"),
        (p.Spotlight(step=TEXT, card=aggregate.cards[0].id), "not-approved"),
        (p.Spotlight(step=3, card=None), "not-current-step"),
    ]
    for command, code in refusals:
        await host.send(command)
        error = await host.expect(p.Error)
        assert error.code == code, command
    await phones[0].send(p.ApproveAll(step=TEXT))
    assert (await phones[0].expect(p.Error)).code == "forbidden"
    await host.send_raw('{"type": "approve_card", "step": 4}')
    assert (await host.expect(p.Error)).code == "malformed"
    for client in [host, *phones]:
        await client.close()


async def test_min_responses_per_session_never_below_the_floor(server: Running) -> None:
    assert server.settings.min_responses == 3
    low = await create_session(server.base, "every-kind", min_responses=1)
    high = await create_session(server.base, "every-kind", min_responses=5)
    for created, wanted in ((low, 3), (high, 5)):
        host = await server.facilitator(created)
        assert host.welcome is not None and host.welcome.min_responses == wanted
        await host.close()
    try:
        await create_session(server.base, "every-kind", min_responses=0)
    except RuntimeError as error:
        assert "400" in str(error)
    else:
        raise AssertionError("min_responses 0 was accepted")
