"""Groups steps over a real server and real sockets, once per backend (see ``backend_url``)."""

from __future__ import annotations

import asyncio
import json
import re
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

import attune.node
from attune.client import Client
from attune.core import protocol as p
from tests.support.http import aget
from tests.support.servers import Running

GROUPS, DEBRIEF_AFTER = 1, 2


async def triad_room(server: Running, people: int = 7) -> tuple[Client, list[Client], Client]:
    created = await server.session("triads")
    host = await server.facilitator(created)
    phones = [await server.participant(created) for _ in range(people)]
    screen = await server.screen(created)
    await host.command(p.Start())
    await host.command(p.Next())
    for client in [host, *phones, screen]:
        await client.expect(p.StepEvent, lambda e: e.step.index == GROUPS)
        await client.expect(p.GroupsEvent, lambda e: e.phase == "gathering")
    return host, phones, screen


async def formed(host: Client, phones: list[Client]) -> list[p.GroupView]:
    for phone in phones:
        assert (await phone.ready(GROUPS)).status == "ready"
    await host.command(p.GroupsForm())
    await host.expect(p.GroupsEvent, lambda e: e.phase == "grouped")
    return [await phone.expect(p.GroupView, lambda v: v.status == "grouped") for phone in phones]


def export(base: str, host: Client) -> dict[str, Any]:
    assert host.hello is not None and host.hello.session and host.hello.token
    request = urllib.request.Request(f"{base}/api/sessions/{host.hello.session}/export",
                                     headers={"authorization": f"Bearer {host.hello.token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        data: dict[str, Any] = json.loads(response.read())
    return data


def own_id(phone: Client) -> str:
    assert phone.token is not None
    return phone.token.partition(".")[0]


def in_round(number: int) -> Callable[[p.GroupsEvent | p.GroupView], bool]:
    return lambda message: message.round == number


def ticked(count: int) -> Callable[[p.GroupCounts], bool]:
    return lambda counts: counts.ticked == count


async def test_a_triad_exercise_forms_rotates_and_debriefs(server: Running) -> None:
    host, phones, screen = await triad_room(server)
    views = await formed(host, phones)
    numbers = sorted({v.number for v in views})
    assert numbers == [1, 2]  # 7 people in triads: a group of 4 and one of 3
    for view in views:
        assert view.colour and view.word and view.role is not None and view.role.prompt
        assert view.others == sum(1 for v in views if v.number == view.number) - 1
        assert view.next_role
    counts = await host.expect(p.GroupCounts, lambda c: c.grouped == 7)
    assert sorted(counts.sizes) == [3, 4] and counts.ready == 7
    shown = await screen.expect(p.GroupCounts, lambda c: c.grouped == 7)
    assert shown.sizes == [] and shown.groups == 2

    await host.command(p.GroupsStart())
    running = await screen.expect(p.GroupsEvent, lambda e: e.started_at is not None)
    assert running.round == 0 and running.seconds == 240
    await host.command(p.GroupsPause())
    paused = await screen.expect(p.GroupsEvent, lambda e: e.started_at is None)
    assert paused.elapsed >= 0
    await host.command(p.GroupsExtend())
    assert (await screen.expect(p.GroupsEvent)).seconds == 270

    for round_ in (1, 2):
        before = {id(phone): phone.group for phone in phones}
        await host.command(p.GroupsNext())
        event = await screen.expect(p.GroupsEvent, in_round(round_))
        assert event.started_at is not None and event.seconds == 240
        for phone in phones:
            view = await phone.expect(p.GroupView, in_round(round_))
            old = before[id(phone)]
            assert old is not None and view.number == old.number
            assert view.role is not None and view.role.name == old.next_role
    await host.command(p.GroupsNext(ref="past"))
    error = await host.expect(p.Error)
    assert (error.code, error.ref) == ("no-more-rounds", "past")

    await host.command(p.GroupsEnd())
    await host.expect(p.GroupsEvent, lambda e: e.phase == "debrief")
    await host.expect(p.ResponsesEvent, lambda e: e.open)
    for phone in phones:
        await phone.expect(p.ResponsesEvent, lambda e: e.open)
        await phone.answer(GROUPS, p.ScaleValue(value=4))
    await host.command(p.Reveal())
    results = await screen.expect(p.Results, lambda r: r.answers is not None)
    assert isinstance(results.answers, p.ScaleAggregate) and results.answers.count == 7

    # The debrief is exported like any step, under the question it asked.
    exported = await asyncio.to_thread(export, server.base, host)
    (debrief,) = [s for s in exported["steps"] if s["index"] == GROUPS]
    assert (debrief["kind"], debrief["count"]) == ("groups", 7)
    assert debrief["prompt"] == "How well were you heard?"
    assert debrief["answers"]["mean"] == 4

    # Nothing any phone received names another participant.
    ids = [own_id(phone) for phone in phones]
    for phone in phones:
        seen = b"".join(p.encoder.encode(m) for m in phone.seen).decode()
        assert not [other for other in ids if other != own_id(phone) and other in seen]
    for phone in [*phones, host, screen]:
        await phone.close()


async def test_late_joiners_join_or_wait_and_dropouts_are_told(server: Running) -> None:
    host, phones, screen = await triad_room(server, people=6)
    views = await formed(host, phones[:3])
    assert [v.others for v in views] == [2, 2, 2]
    late = await phones[3].ready(GROUPS)
    assert (late.status, late.number, late.others) == ("grouped", 1, 3)
    assert late.role is not None and late.role.id == "observer"
    for phone in phones[:3]:
        await phone.expect(p.GroupView, lambda v: v.others == 3)
    for phone in phones[4:]:
        waiting = await phone.ready(GROUPS)
        assert (waiting.status, waiting.number) == ("waiting", 0)
    await host.expect(p.GroupCounts, lambda c: c.waiting == 2)
    await host.command(p.GroupsNext())
    for phone in phones[4:]:
        pair = await phone.expect(p.GroupView, lambda v: v.status == "grouped")
        assert (pair.number, pair.others) == (2, 1)
    # Someone leaves for good: the rest of their group is told it is one smaller.
    await phones[0].send(p.Leave())
    for phone in phones[1:4]:
        view = await phone.expect(p.GroupView, lambda v: v.others == 2)
        assert view.status == "grouped" and view.number == 1
    await host.expect(p.GroupCounts, lambda c: c.ready == 5 and c.grouped == 5)
    for client in [host, *phones[1:], screen]:
        await client.close()


async def test_a_refresh_or_a_reconnect_keeps_group_and_role(server: Running) -> None:
    host, phones, screen = await triad_room(server, people=3)
    views = await formed(host, phones)
    phone = phones[0]
    await phone.resume()
    again = await phone.expect(p.GroupView)
    assert (again.number, again.role) == (views[0].number, views[0].role)
    refreshed = Client(server.base)
    assert phone.token is not None
    await refreshed.join(p.Hello(role="participant", code=phone.welcome.code if phone.welcome
                                 else "", resume=p.Resume(token=phone.token)))
    assert refreshed.welcome is not None and refreshed.welcome.snapshot is not None
    assert refreshed.welcome.snapshot.groups is not None
    assert refreshed.welcome.snapshot.groups.phase == "grouped"
    view = await refreshed.expect(p.GroupView)
    assert (view.number, view.role, view.status) == (views[0].number, views[0].role, "grouped")
    for client in [host, *phones, screen, refreshed]:
        await client.close()


async def test_bad_input_gets_typed_errors(server: Running) -> None:
    created = await server.session("triads")
    host = await server.facilitator(created)
    phone = await server.participant(created)
    await host.command(p.Start())
    await phone.expect(p.StepEvent)
    await phone.send(p.Ready(step=0))
    assert (await phone.expect(p.Error)).code == "not-groups-step"
    await host.command(p.GroupsForm())
    assert (await host.expect(p.Error)).code == "not-groups-step"
    await host.command(p.Next())
    await phone.expect(p.GroupsEvent)
    await phone.ready(GROUPS)
    await host.command(p.GroupsForm(ref="f1"))
    error = await host.expect(p.Error)
    assert (error.code, error.ref) == ("too-few-ready", "f1")
    await host.command(p.GroupsNext())
    assert (await host.expect(p.Error)).code == "groups-not-formed"
    await phone.send(p.GroupsForm())
    assert (await phone.expect(p.Error)).code == "forbidden"
    for client in (host, phone):
        await client.close()


async def test_a_malformed_groups_step_is_refused_with_where(server: Running) -> None:
    broken = (
        "id: broken\ntitle: Broken\nsummary: x\naudience: [workshop]\nduration_minutes: 5\n"
        "languages: [en]\nsteps:\n  - kind: groups\n    size: 9\n    seconds: 60\n"
        "    roles: [{id: speaker, name: Speaker, prompt: Talk}]\n"
    )
    with pytest.raises(RuntimeError) as failed:
        await server.session(None, scenario_yaml=broken)  # type: ignore[arg-type]
    assert "422" in str(failed.value) and "steps[0].size" in str(failed.value)
    assert ":9" in str(failed.value)


async def test_groups_survive_a_step_away_and_back(server: Running) -> None:
    host, phones, screen = await triad_room(server, people=2)
    views = await formed(host, phones)
    await host.command(p.Next())
    for phone in phones:
        await phone.expect(p.StepEvent, lambda e: e.step.index == DEBRIEF_AFTER)
    await host.command(p.Back())
    for phone, view in zip(phones, views, strict=True):
        back = await phone.expect(p.GroupView)
        assert back.number == view.number
    await asyncio.gather(*(c.close() for c in [host, *phones, screen]))


async def test_observers_ticks_become_the_rooms_totals_at_the_debrief(server: Running) -> None:
    host, phones, screen = await triad_room(server, people=6)
    views = await formed(host, phones)
    noticed: set[int] = set()
    for round_ in range(3):
        for phone, view in zip(phones, views, strict=True):
            if view.role is not None and view.role.id == "observer" and view.number == 1:
                shown = await phone.tick(GROUPS, 0)
                assert shown.ticked == [0]
                noticed.add(view.number)
                await phone.resume()  # a refresh keeps the tick
                again = await phone.expect(p.GroupView)
                assert again.ticked == [0]
        counts = await host.expect(p.GroupCounts, ticked(round_ + 1))
        assert counts.checklist == []  # the totals wait for the debrief
        if round_ < 2:
            await host.command(p.GroupsNext())
            views = [await phone.expect(p.GroupView, in_round(round_ + 1))
                     for phone in phones]
    await phones[0].send(p.Tick(step=GROUPS, item=5))
    assert (await phones[0].expect(p.Error)).code == "not-in-group"
    await host.command(p.GroupsEnd())
    for client in (host, screen):
        counts = await client.expect(p.GroupCounts, lambda c: bool(c.checklist))
        (total,) = counts.checklist
        assert (total.role, total.groups) == ("Observer", 2)
        assert [(i.text, i.groups) for i in total.items] == [("Reflected feelings", 1)]
    exported = await asyncio.to_thread(export, server.base, host)
    (step,) = [s for s in exported["steps"] if s["index"] == GROUPS]
    assert step["ticked"] == 3 and step["checklist"][0]["items"][0]["groups"] == 1
    ids = [own_id(phone) for phone in phones]
    seen = b"".join(p.encoder.encode(m) for m in [*host.seen, *screen.seen]).decode()
    assert not [who for who in ids if who in seen]
    for client in [host, *phones, screen]:
        await client.close()


async def test_a_forming_worked_out_while_the_room_was_still_is_the_same_forming(
    server: Running, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Once nobody has changed their "I'm ready" for ``PREPARE_AFTER`` seconds, the node works
    the next forming out ahead and forming writes the frames joined then: every phone gets what
    the session says is its view, the ready and the not-ready alike, and the facilitator and
    the screen the event. So do a phone that reconnected, one that joined and one that left
    after the preparation."""
    monkeypatch.setattr(attune.node, "PREPARE_AFTER", 0.05)
    created = await server.session("triads")
    host = await server.facilitator(created)
    screen = await server.screen(created)
    phones = [await server.participant(created) for _ in range(7)]
    idle = await server.participant(created)  # joined, never ready
    leaving = await server.participant(created)
    await host.command(p.Start())
    await host.command(p.Next())
    for client in [host, screen, *phones, idle, leaving]:
        await client.expect(p.GroupsEvent, lambda e: e.phase == "gathering")
    replica = server.app.state.node.replicas[created.session]

    async def worked_out() -> None:
        for _ in range(500):
            if replica.prepared is not None:
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the forming was not worked out ahead within 5 s")

    async def form_and_check(everyone: list[Client]) -> None:
        await host.command(p.GroupsForm())
        event = await host.expect(p.GroupsEvent, lambda e: e.phase == "grouped")
        assert await screen.expect(p.GroupsEvent, lambda e: e.seq == event.seq) == event
        for phone in everyone:
            view = await phone.expect(p.GroupView, lambda v: v.seq == event.seq)
            assert view == replica.session.group_view(own_id(phone))
            assert view.status == ("grouped" if phone in phones else "unready")

    async def fanouts(frames: str) -> bytes:
        metrics = (await aget(f"{server.base}/metrics"))[1]
        found = re.search(rb'attune_group_fanouts_total\{frames="%s"\} (\S+)' % frames.encode(),
                          metrics)
        return found.group(1) if found else b""

    for phone in phones:
        await phone.ready(GROUPS)
    await worked_out()
    await form_and_check([*phones, idle, leaving])
    assert await fanouts("ahead") == b"1.0"
    await worked_out()  # the re-forming, in turn
    await phones[0].resume()
    late = await server.participant(created)
    gone = own_id(leaving)
    await leaving.send(p.Leave())
    for _ in range(500):
        if gone not in replica.session.participants:
            break
        await asyncio.sleep(0.01)
    assert gone not in replica.session.participants
    await form_and_check([*phones, idle, late])
    assert await fanouts("ahead") == b"2.0"
    for client in [host, screen, *phones, idle, late]:
        await client.close()
