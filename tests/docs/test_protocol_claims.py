"""What docs/protocol.md says about the wire beyond its examples, checked on a real server: a
binary frame, ``pong``, what ``end`` leaves open, which ``ref`` an error echoes, which ``seq`` a
replay ``welcome`` carries. The wire rules do not depend on the backend, so this runs once."""

from __future__ import annotations

import json

import pytest
from websockets.asyncio.client import connect

from attune.core import protocol as p
from tests.support.servers import Running

SCALE = 2


@pytest.fixture
def backend_url() -> str:
    return "memory://"


async def test_a_binary_frame_is_malformed_and_the_socket_stays_open(server: Running) -> None:
    created = await server.session()
    phone = await server.participant(created)
    await phone.send_raw(b'{"type": "ping", "t": 1}')
    error = await phone.expect(p.Error)
    assert (error.code, error.ref) == ("malformed", None)
    await phone.send(p.Ping(t=2))
    assert (await phone.expect(p.Pong)).t == 2, "still open"


async def test_pong_has_no_seq(server: Running) -> None:
    created = await server.session()
    async with connect(server.base.replace("http", "ws", 1) + "/ws") as ws:
        await ws.send(p.encoder.encode(p.Hello(role="screen", code=created.code)).decode())
        assert json.loads(await ws.recv())["type"] == "welcome"
        await ws.send('{"type": "ping", "t": 5}')
        pong = json.loads(await ws.recv())
        while pong["type"] != "pong":
            pong = json.loads(await ws.recv())
        assert set(pong) == {"type", "t", "server"}


async def test_end_leaves_every_socket_open(server: Running) -> None:
    created = await server.session()
    host, phone, screen = (await server.facilitator(created), await server.participant(created),
                           await server.screen(created))
    await host.command(p.Start())
    await host.command(p.End())
    for client in (host, phone, screen):
        await client.expect(p.EndedEvent)
        await client.send(p.Ping(t=7))
        assert (await client.expect(p.Pong)).t == 7
        assert client.closed is None
    again = await server.facilitator(created)  # by session id: the console can come back
    assert again.welcome is not None and again.welcome.snapshot is not None
    assert again.welcome.snapshot.status == "ended"


async def test_answer_and_pass_errors_echo_the_submission(server: Running) -> None:
    created = await server.session()
    host = await server.facilitator(created)
    phone = await server.participant(created)
    await host.command(p.Start())
    await phone.send(p.Answer(step=SCALE, submission="sub-1", value=p.ScaleValue(value=3)))
    error = await phone.expect(p.Error)
    assert (error.code, error.ref) == ("not-current-step", "sub-1")
    await phone.send(p.Pass(step=SCALE, submission="sub-2"))
    error = await phone.expect(p.Error)
    assert (error.code, error.ref) == ("not-current-step", "sub-2")


async def test_a_replay_welcome_carries_the_current_seq(server: Running) -> None:
    created = await server.session()
    host = await server.facilitator(created)
    phone = await server.participant(created)
    await host.command(p.Start())
    await phone.expect(p.StepEvent)
    last = phone.seq
    await phone.drop()
    await host.command(p.Next())
    await host.command(p.Next())
    ended_at = (await host.expect(p.StepEvent, lambda e: e.step.index == 2)).seq
    welcome = await phone.resume()
    assert welcome.replay and welcome.seq == ended_at == last + 2
    replayed = [await phone.expect(p.StepEvent) for _ in range(2)]
    assert [e.seq for e in replayed] == [last + 1, last + 2]
