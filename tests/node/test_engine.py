"""Session behaviour over a real server and real sockets, once per backend (see ``backend_url``)."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
import urllib.request
from typing import TypeVar

import pytest

from attune.client import Client, Refusal, create_session
from attune.core import protocol as p
from tests.support.http import aget
from tests.support.servers import Running
from tests.support.waiting import latest

T = TypeVar("T", bound=p.Message)
CHECKIN, SCALE, CHOICE, TEXT, BREATHE = 1, 2, 3, 4, 5


async def room(server: Running, people: int = 3) -> tuple[Client, list[Client], Client]:
    created = await server.session()
    host = await server.facilitator(created)
    phones = [await server.participant(created) for _ in range(people)]
    screen = await server.screen(created)
    return host, phones, screen


async def goto(host: Client, others: list[Client], step: int) -> None:
    command: p.FacilitatorCommand = p.Start() if host.step is None else p.Goto(step=step)
    await host.command(command)
    if step and isinstance(command, p.Start):
        await host.expect(p.StepEvent)
        await host.command(p.Goto(step=step))
    for client in [host, *others]:
        await client.expect(p.StepEvent, lambda e: e.step.index == step)


async def test_everyone_sees_the_same_step_in_the_same_order(server: Running) -> None:
    host, phones, screen = await room(server)
    await host.command(p.Start())
    await host.command(p.Next())
    await host.command(p.Next())
    for client in [host, *phones, screen]:
        events = [await client.expect(p.StepEvent) for _ in range(3)]
        assert [(e.seq, e.step.index) for e in events] == [(1, 0), (2, 1), (3, 2)]
    facilitator_view = host.step
    assert facilitator_view is not None and phones[0].step is not None
    assert phones[0].step.notes is None


async def test_answers_aggregate_live_and_reveal(server: Running) -> None:
    host, phones, screen = await room(server)
    await goto(host, [*phones, screen], CHOICE)
    for phone, option in zip(phones, "abb", strict=True):
        ack = await phone.answer(CHOICE, p.ChoiceValue(options=[option]),
                                 guess=p.ChoiceValue(options=["b"]))
        assert ack.step == CHOICE and not ack.duplicate
    live = await host.expect(p.Results, lambda r: r.count == 3)
    assert isinstance(live.answers, p.ChoiceAggregate)
    assert live.answers.options == {"a": 1, "b": 2, "c": 0}
    before = [m for m in screen.seen if isinstance(m, p.Results)]
    assert all(m.answers is None and m.guesses is None for m in before), "hidden until revealed"
    assert not any(isinstance(m, p.Results) for m in phones[0].seen), "phones see nothing yet"
    await host.command(p.Reveal())
    shown = await screen.expect(p.Results, lambda r: r.answers is not None)
    assert shown.answers == live.answers
    assert isinstance(shown.guesses, p.ChoiceAggregate) and shown.guesses.options["b"] == 3
    feedback = await phones[0].expect(p.Feedback)
    assert (feedback.guess, feedback.actual, feedback.close) == ("b", "b", True)


async def test_pushes_are_coalesced_and_end_on_the_latest_state(server: Running) -> None:
    host, phones, _ = await room(server, people=10)
    await goto(host, phones, SCALE)
    host.seen.clear()
    started = asyncio.get_running_loop().time()
    await asyncio.gather(*(
        phone.answer(SCALE, p.ScaleValue(value=1 + i % 5)) for i, phone in enumerate(phones)
    ))
    final = await host.expect(p.Results, lambda r: r.count == 10)
    elapsed = asyncio.get_running_loop().time() - started
    pushes = [m for m in host.seen if isinstance(m, p.Results)]
    assert len(pushes) <= elapsed / 0.1 + 2, f"{len(pushes)} pushes in {elapsed:.2f}s"
    assert isinstance(final.answers, p.ScaleAggregate)
    assert final.answers.histogram == [2, 2, 2, 2, 2]


async def test_late_joiner_lands_on_the_current_step(server: Running) -> None:
    created = await server.session()
    host = await server.facilitator(created)
    await goto(host, [], SCALE)
    late = await server.participant(created)
    assert late.welcome is not None and late.welcome.snapshot is not None
    snapshot = late.welcome.snapshot
    assert snapshot.step is not None and snapshot.step.index == SCALE
    assert snapshot.responses_open and snapshot.status == "running"
    await late.answer(SCALE, p.ScaleValue(value=4))


async def test_resume_replays_missed_events_in_order(server: Running) -> None:
    host, phones, _ = await room(server, people=1)
    phone = phones[0]
    await goto(host, [phone], CHECKIN)
    await phone.answer(CHECKIN, p.CheckinValue(word="calm"))
    token = phone.token
    await phone.drop()
    await host.command(p.CloseResponses())
    await host.command(p.Next())
    await host.command(p.Next())
    welcome = await phone.resume()
    assert welcome.replay and welcome.snapshot is None and welcome.token is None
    assert phone.token == token
    missed = [await phone.expect(p.Message) for _ in range(3)]
    assert [type(m) for m in missed] == [p.ResponsesEvent, p.StepEvent, p.StepEvent]
    assert phone.seq == host.seq
    ack = await phone.answer(CHOICE, p.ChoiceValue(options=["a"]))
    assert not ack.duplicate


async def test_refresh_keeps_identity_and_own_answers(server: Running) -> None:
    host, phones, _ = await room(server, people=1)
    phone = phones[0]
    await goto(host, [phone], TEXT)
    await phone.answer(TEXT, p.TextValue(text="Sam might feel left out"))
    await phone.close()
    refreshed = Client(server.base)
    assert phone.hello is not None
    welcome = await refreshed.join(p.Hello(role="participant", code=phone.hello.code,
                                           resume=p.Resume(token=phone.token)))
    assert not welcome.replay and welcome.snapshot is not None
    assert welcome.snapshot.answers == {TEXT: p.TextValue(text="Sam might feel left out")}
    await refreshed.answer(TEXT, p.TextValue(text="Sam might feel proud"))
    results = await host.expect(p.Results, lambda r: r.count == 1)
    assert isinstance(results, p.Results)
    assert welcome.token is None, "a refresh is the same participant: no new token"
    await latest(host, p.Presence, lambda m: (m.joined, m.connected) == (1, 1))
    assert all(m.joined <= 1 for m in host.seen if isinstance(m, p.Presence)), "never a second"


async def test_stale_resume_gets_a_flagged_snapshot(server: Running) -> None:
    host, phones, _ = await room(server, people=1)
    phone = phones[0]
    await goto(host, [phone], CHECKIN)
    await phone.drop()
    await host.command(p.Next())
    await host.expect(p.StepEvent, lambda e: e.step.index == SCALE)
    server.clock.advance(server.settings.resume_window_s + 1)
    welcome = await phone.resume()
    assert not welcome.replay and welcome.snapshot is not None
    assert welcome.snapshot.step is not None and welcome.snapshot.step.index == SCALE


async def test_forged_resume_token_joins_as_new(server: Running) -> None:
    created = await server.session()
    client = Client(server.base)
    await client.open()
    await client.send(p.Hello(role="participant", code=created.code,
                              resume=p.Resume(token="deadbeef.forged")))
    error = await client.expect(p.Error)
    assert error.code == "bad-resume"
    welcome = await client.expect(p.Welcome)
    assert welcome.token and not welcome.token.startswith("deadbeef")


async def test_a_retried_submission_counts_once(server: Running) -> None:
    host, phones, _ = await room(server, people=1)
    await goto(host, phones, SCALE)
    acks = [await phones[0].answer(SCALE, p.ScaleValue(value=2), submission="same")
            for _ in range(3)]
    assert [a.duplicate for a in acks] == [False, True, True]
    results = await host.expect(p.Results, lambda r: r.count == 1)
    assert results.count == 1


async def test_pass_is_always_possible(server: Running) -> None:
    host, phones, _ = await room(server, people=1)
    await goto(host, phones, TEXT)
    ack = await phones[0].skip(TEXT)
    assert ack.step == TEXT
    results = await host.expect(p.Results, lambda r: r.passes == 1)
    assert results.count == 0


async def test_breathe_step_carries_a_server_clock_start(server: Running) -> None:
    host, phones, _ = await room(server, people=1)
    offset = await phones[0].sync_clock()
    assert abs(offset) < 1000, "same machine: the clocks agree within a second"
    await goto(host, phones, BREATHE)
    step = phones[0].step
    assert isinstance(step, p.BreatheView) and step.pacer is not None and step.pacer.cycles == 2
    event = next(m for m in reversed(phones[0].seen) if isinstance(m, p.StepEvent))
    local_start = event.started_at - offset
    assert abs(time.time() * 1000 - local_start) < 2000, "the pacer starts now, on every clock"


async def test_session_end_closes_the_code(server: Running) -> None:
    created = await server.session()
    host = await server.facilitator(created)
    phone = await server.participant(created)
    await host.command(p.Start())
    await host.command(p.End())
    await phone.expect(p.EndedEvent)
    with pytest.raises(Refusal) as ended:
        await server.participant(created)
    with pytest.raises(Refusal) as wrong:
        await Client.participant("ZZZZZZ", base=server.base)
    assert ended.value.error.code == wrong.value.error.code == "unknown-session"
    assert ended.value.error.message == wrong.value.error.message


async def test_delete_removes_the_session_and_closes_clients(server: Running) -> None:
    created = await server.session()
    phone = await server.participant(created)
    status, _ = await asyncio.to_thread(_delete, f"{server.base}/api/sessions/{created.session}",
                                        "wrong")
    assert status == 403
    status, _ = await asyncio.to_thread(_delete, f"{server.base}/api/sessions/{created.session}",
                                        created.token)
    assert status == 204
    with pytest.raises(ConnectionError):
        await phone.expect(p.StepEvent)
    assert phone.closed == 4004
    with pytest.raises(Refusal):
        await server.participant(created)
    _, metrics = await aget(f"{server.base}/metrics")
    assert b'attune_connections{role="participant"} 0.0' in metrics, "the gauge came down"


def _delete(url: str, token: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, method="DELETE",
                                     headers={"authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


async def test_no_payload_carries_another_participants_id(server: Running) -> None:
    """Every message of a whole scenario run, to every role."""
    host, phones, screen = await room(server)
    for step in range(0, 8):
        await goto(host, [*phones, screen], step)
        if step in (CHECKIN, SCALE, CHOICE, TEXT):
            values: dict[int, p.AnswerValue] = {
                CHECKIN: p.CheckinValue(word="calm"), SCALE: p.ScaleValue(value=3),
                CHOICE: p.ChoiceValue(options=["a"]), TEXT: p.TextValue(text="a thought"),
            }
            for phone in phones:
                await phone.answer(step, values[step])
            await host.command(p.Reveal())
            await screen.expect(p.Results, lambda r: r.answers is not None)
    await host.command(p.End())
    for client in [host, screen, *phones]:
        await client.expect(p.EndedEvent)
    ids = {phone.token.partition(".")[0] for phone in phones if phone.token}
    assert len(ids) == 3
    for client in [host, screen, *phones]:
        wire = "".join(p.encoder.encode(m).decode() for m in client.seen)
        own = client.token.partition(".")[0] if client.token else None
        leaked = [i for i in ids if i in wire and i != own]
        assert not leaked, f"{client.role} saw another participant's id"


async def test_export_matches_the_answers(server: Running) -> None:
    created = await server.session()
    host = await server.facilitator(created)
    phones = [await server.participant(created) for _ in range(3)]
    await goto(host, phones, TEXT)
    for i, phone in enumerate(phones):
        await phone.answer(TEXT, p.TextValue(text=f"thought number {i}"))
    url = f"{server.base}/api/sessions/{created.session}/export"
    assert (await aget(url))[0] == 403
    status, body = await aget(url, {"authorization": f"Bearer {created.token}"})
    assert status == 200
    data = json.loads(body)
    text = next(s for s in data["steps"] if s["index"] == TEXT)
    assert sorted(c["text"] for c in text["answers"]["cards"]) == [
        f"thought number {i}" for i in range(3)
    ]
    status, csv_body = await aget(url + "?format=csv", {"authorization": f"Bearer {created.token}"})
    assert status == 200 and "thought number 2" in csv_body.decode()
    assert created.token not in body.decode()


# --- HTTP API -------------------------------------------------------------------------------


async def test_create_session_returns_code_id_and_strong_token(server: Running) -> None:
    created = await server.session()
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{6}", created.code)
    assert len(created.token) >= 22, "at least 128 bits"
    assert created.join_url.endswith(f"/join/{created.code}")
    status, body = await aget(f"{server.base}/api/scenarios")
    assert status == 200
    assert [s["id"] for s in json.loads(body)] == ["every-kind", "triads"]


async def test_uploaded_scenario_is_validated(server: Running) -> None:
    with pytest.raises(RuntimeError, match=r"(?s)HTTP 422.*upload:1: missing required field 'title'"
                       r".*upload:2: .*duration_minutes"):
        await create_session(server.base, scenario_yaml="id: x\nduration_minutes: soon\n")
    with pytest.raises(RuntimeError, match="HTTP 404"):
        await create_session(server.base, "no-such-scenario")


async def test_admin_key_guards_session_creation(server: Running) -> None:
    server.settings.admin_key = "sesame"
    with pytest.raises(RuntimeError, match="HTTP 401"):
        await create_session(server.base, "every-kind")
    created = await create_session(server.base, "every-kind", admin_key="sesame")
    assert created.code


async def test_health_ready_metrics_and_security_headers(server: Running) -> None:
    assert (await aget(f"{server.base}/healthz"))[0] == 200
    assert (await aget(f"{server.base}/readyz"))[0] == 200
    status, body = await aget(f"{server.base}/metrics")
    assert status == 200 and b"attune_errors_total" in body
    response = await asyncio.to_thread(urllib.request.urlopen, f"{server.base}/healthz")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_broadcasts_go_straight_to_ready_transports(server: Running) -> None:
    """The fan-out fast path is in use: a healthy socket is written directly, not queued."""
    created = await server.session()
    host = await server.facilitator(created)
    phone = await server.participant(created)
    await host.command(p.Start())
    await phone.expect(p.StepEvent)
    conns = [conn for conn, client in server.app.state.endpoint.sockets.items()
             if client.member is not None and client.member.session == created.session]
    assert len(conns) == 2 and all(c.transport is not None and c.outbox.ready for c in conns)
    sock = conns[0].transport.get_extra_info("socket")
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) <= 2 * 64 * 1024, "bounded"
    for _ in range(100):  # the last message's handling ends just after its reply is written
        if not any(c.waiting for c in conns):
            break
        await asyncio.sleep(0.01)
    assert not any(c.waiting for c in conns), "an idle socket holds no task"
