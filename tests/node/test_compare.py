"""Before/after shifts and assigned characters over a real server, once per backend."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections import Counter

from attune.client import Client, Refusal, create_session
from attune.core import protocol as p
from tests.support.http import aget
from tests.support.servers import Running
from tests.support.waiting import latest

SCENARIO = """
id: compare-protocol
title: Compare and characters
summary: A check-in twice, a scale twice, and two characters handed out.
audience: [workshop]
duration_minutes: 10
languages: [en]
steps:
  - kind: story
    text: Sam and Noor argue about the shared room.
    characters:
      - {id: sam, name: Sam, description: Wants quiet}
      - {id: noor, name: Noor, description: Wants music}
  - kind: checkin
    id: first-weather
    prompt: How are you now?
  - kind: scale
    id: sure-before
    prompt: How sure are you?
  - kind: checkin
    prompt: And now?
    compare: first-weather
  - kind: scale
    prompt: How sure are you now?
    compare: sure-before
  - kind: checkin
    prompt: How does your character feel?
    characters: [sam, noor]
    assign: each
  - kind: perspective
    prompt: What is your character thinking?
    characters: [sam, noor]
    assign: each
"""
FIRST, SURE, AGAIN, SURE_AGAIN, CHARACTER_CHECKIN, CHARACTER_TEXT = 1, 2, 3, 4, 5, 6
BEFORE = ["stressed"] * 3 + ["calm"] * 3
AFTER = ["calm"] * 6


async def room(server: Running, people: int = 6) -> tuple[str, Client, list[Client], Client, str]:
    created = await create_session(server.base, scenario_yaml=SCENARIO)
    host = await Client.facilitator(created)
    phones = [await Client.participant(created.code, base=server.base) for _ in range(people)]
    screen = await Client.screen(created.code, base=server.base)
    return created.session, host, phones, screen, created.token


async def enter(host: Client, others: list[Client], step: int, reopen: bool = False) -> p.StepEvent:
    await host.command(p.Goto(step=step, reopen=reopen))
    event = await host.expect(p.StepEvent, lambda e: e.step.index == step)
    for client in others:
        await client.expect(p.StepEvent, lambda e: e.step.index == step)
    return event


async def test_checkin_and_scale_shift_reach_the_room_and_each_phone_privately(
    server: Running,
) -> None:
    session, host, phones, screen, token = await room(server)
    await host.command(p.Start())
    for client in [host, *phones, screen]:
        await client.expect(p.StepEvent)
    await enter(host, [*phones, screen], FIRST)
    for phone, word in zip(phones, BEFORE, strict=True):
        await phone.answer(FIRST, p.CheckinValue(word=word))
    await enter(host, [*phones, screen], SURE)
    for n, phone in enumerate(phones):
        await phone.answer(SURE, p.ScaleValue(value=5 if n < 4 else 2))
    event = await enter(host, [*phones, screen], AGAIN)
    assert isinstance(event.step, p.CheckinView)
    assert event.step.compare == FIRST and event.step.compare_title == "How are you now?"
    for phone, word in zip(phones, AFTER, strict=True):
        await phone.answer(AGAIN, p.CheckinValue(word=word))

    results = await latest(host, p.Results, lambda r: r.step == AGAIN and r.count == 6)
    assert isinstance(results.shift, p.CheckinShift)
    shift = results.shift
    assert (shift.compare, shift.pairs, shift.moved, shift.stayed) == (FIRST, 6, 3, 3)
    flows = {(f.before, f.after): f.count for f in shift.flows}
    assert flows[("high-unpleasant", "low-pleasant")] == 3
    assert flows[("low-pleasant", "low-pleasant")] == 3
    assert shift.before is not None and shift.before.quadrants["high-unpleasant"] == 3
    assert all(not isinstance(m, p.Results) or m.shift is None or m.step != AGAIN
               for m in screen.seen if isinstance(m, p.Results) and m.answers is not None), (
        "nothing but the live count reaches the projector before the reveal"
    )

    await host.command(p.Reveal())
    public = await screen.expect(p.Results, lambda r: r.step == AGAIN and r.shift is not None)
    assert public.shift == shift
    for phone, word in zip(phones, BEFORE, strict=True):
        own = await phone.expect(p.OwnShift)
        assert own.before == p.CheckinValue(word=word) and own.after == p.CheckinValue(word="calm")
        assert own.moved == (word == "stressed")
    others = [m for phone in phones for m in phone.seen if isinstance(m, p.OwnShift)]
    assert len(others) == len(phones), "each phone got its own shift, once"

    await enter(host, [*phones, screen], SURE_AGAIN)
    for n, phone in enumerate(phones):
        await phone.answer(SURE_AGAIN, p.ScaleValue(value=2 if n < 3 else 5 if n == 3 else 4))
    scale = await latest(host, p.Results, lambda r: r.step == SURE_AGAIN and r.count == 6)
    assert isinstance(scale.shift, p.ScaleShift)
    assert (scale.shift.pairs, scale.shift.down, scale.shift.same, scale.shift.up) == (
        6, None, None, None
    ), "3 down, 1 stayed, 2 up: every part is hidden, not just the small ones"
    assert scale.shift.mean_change == -0.83

    status, raw = await aget(f"{server.base}/api/sessions/{session}/export?format=json",
                             {"authorization": f"Bearer {token}"})
    assert status == 200
    exported = {step["index"]: step for step in json.loads(raw)["steps"]}
    assert exported[AGAIN]["shift"]["moved"] == 3
    assert exported[SURE_AGAIN]["shift"]["pairs"] == 6
    status, raw = await aget(f"{server.base}/api/sessions/{session}/export?format=csv",
                             {"authorization": f"Bearer {token}"})
    rows = list(csv.reader(io.StringIO(raw.decode())))
    assert [str(AGAIN + 1), "checkin", "And now?", "shift",
            "flow:high-unpleasant>low-pleasant", "3"] in rows
    assert [str(AGAIN + 1), "checkin", "And now?", "shift", "moved", "3"] in rows
    for client in [host, *phones, screen]:
        await client.close()


async def test_going_back_keeps_old_answers_closed_unless_reopened(server: Running) -> None:
    _, host, phones, screen, _ = await room(server, people=3)
    await host.command(p.Start())
    for client in [host, *phones, screen]:
        await client.expect(p.StepEvent)
    first = await enter(host, [*phones, screen], FIRST)
    assert first.responses_open
    await phones[0].answer(FIRST, p.CheckinValue(word="calm"))
    await enter(host, [*phones, screen], SURE)
    await host.command(p.Back())
    back = await host.expect(p.StepEvent, lambda e: e.step.index == FIRST)
    assert not back.responses_open
    for client in [*phones, screen]:
        await client.expect(p.StepEvent, lambda e: e.step.index == FIRST)
    try:
        await phones[0].answer(FIRST, p.CheckinValue(word="angry"))
    except Refusal as refusal:
        assert refusal.error.code == "responses-closed"
    else:
        raise AssertionError("an old answer was changed after going back")
    reopened = await enter(host, [*phones, screen], FIRST, reopen=True)
    assert reopened.responses_open
    await phones[0].answer(FIRST, p.CheckinValue(word="angry"))
    for client in [host, *phones, screen]:
        await client.close()


async def test_characters_are_handed_out_privately_evenly_and_kept(server: Running) -> None:
    session, host, phones, screen, token = await room(server)
    await host.command(p.Start())
    for client in [host, *phones, screen]:
        await client.expect(p.StepEvent)
    event = await enter(host, [screen], CHARACTER_CHECKIN)
    assert isinstance(event.step, p.CheckinView) and event.step.assign == "each"
    assert [c.id for c in event.step.characters] == ["sam", "noor"]
    given = {}
    for n, phone in enumerate(phones):
        assigned = await phone.expect(p.Assigned)
        assert assigned.step == CHARACTER_CHECKIN
        given[n] = assigned.character
    assert sorted(Counter(c.id for c in given.values()).values()) == [3, 3]
    assert not [m for m in [*host.seen, *screen.seen] if isinstance(m, p.Assigned)]
    for n, phone in enumerate(phones):
        assert [m for m in phone.seen if isinstance(m, p.Assigned)] == [
            msgspec_assigned(n, given)], "a phone sees its own character only"

    # Refresh: the token alone brings the same character back; a dropped network too.
    refreshed = Client(server.base)
    assert phones[0].hello is not None and phones[0].token is not None
    await refreshed.join(p.Hello(role="participant", code=phones[0].hello.code,
                                 resume=p.Resume(token=phones[0].token)))
    assert (await refreshed.expect(p.Assigned)).character == given[0]
    await refreshed.close()
    await phones[1].resume()
    assert (await phones[1].expect(p.Assigned)).character == given[1]

    words: dict[str | None, str] = {"sam": "frustrated", "noor": "hurt"}
    for n, phone in enumerate(phones):
        await phone.answer(CHARACTER_CHECKIN, p.CheckinValue(word=words[given[n].id]))
    results = await latest(host, p.Results,
                           lambda r: r.step == CHARACTER_CHECKIN and r.count == 6)
    by_id = {c.id: c for c in results.characters}
    assert by_id["sam"].count == 3 and by_id["sam"].name == "Sam"
    assert isinstance(by_id["sam"].answers, p.CheckinAggregate)
    assert by_id["sam"].answers.words == {"frustrated": 3}
    assert isinstance(by_id["noor"].answers, p.CheckinAggregate)
    assert by_id["noor"].answers.words == {"hurt": 3}

    # The next step hands out the same characters: everyone keeps theirs.
    await host.command(p.Next())
    for n, phone in enumerate(phones):
        assigned = await phone.expect(p.Assigned, lambda a: a.step == CHARACTER_TEXT)
        assert assigned.character == given[n]
    for n, phone in enumerate(phones[:4]):
        await phone.answer(CHARACTER_TEXT, p.TextValue(text=f"As {given[n].name}, I feel {n}"))
    results = await latest(host, p.Results, lambda r: r.step == CHARACTER_TEXT and r.count == 4)
    counts = {c.id: c.count for c in results.characters}
    assert sum(counts.values()) == 4
    if min(counts.values()) < 3:
        assert all(c.answers is None for c in results.characters), (
            "a small character group is hidden, and so is the other: the room minus one "
            "would give it away"
        )
    status, raw = await aget(f"{server.base}/api/sessions/{session}/export?format=json",
                             {"authorization": f"Bearer {token}"})
    assert status == 200
    exported = {step["index"]: step for step in json.loads(raw)["steps"]}
    assert {c["id"] for c in exported[CHARACTER_CHECKIN]["characters"]} == {"sam", "noor"}
    await asyncio.gather(*(client.close() for client in [host, *phones, screen]))


def msgspec_assigned(n: int, given: dict[int, p.Character]) -> p.Assigned:
    return p.Assigned(seq=2, step=CHARACTER_CHECKIN, character=given[n])
