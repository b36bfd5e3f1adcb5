"""Bad input gets a typed error or a documented close code, is counted, and harms nobody."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from attune.client import Client, Created, Refusal
from attune.core import protocol as p
from tests.support.http import metric
from tests.support.servers import ONE_BACKEND, Running

SCALE = 2


async def counted(server: Running, code: str) -> float:
    return await asyncio.to_thread(metric, server, "attune_errors", code)


async def setup(server: Running) -> tuple[Created, Client, Client]:
    """A session on its scale step with one answer in, which every case must leave intact."""
    created = await server.session()
    host = await server.facilitator(created)
    phone = await server.participant(created)
    await host.command(p.Start())
    await host.command(p.Goto(step=SCALE))
    await phone.expect(p.StepEvent, lambda e: e.step.index == SCALE)
    await phone.answer(SCALE, p.ScaleValue(value=4))
    return created, host, phone


async def intact(server: Running, created: Created, host: Client) -> None:
    """The session still runs and still holds the one answer."""
    check = await server.participant(created)
    await check.answer(SCALE, p.ScaleValue(value=2))
    results = await host.expect(p.Results, lambda r: r.count == 2)
    assert results.count == 2


@pytest.mark.parametrize(("frame", "code"), [
    ("{not json", "malformed"),
    ('{"type": "explode"}', "malformed"),
    ('{"type": "answer", "step": "two", "submission": "x", "value": {"kind": "scale", '
     '"value": 1}}', "malformed"),
    ('{"type": "answer", "step": 2, "submission": "x", "value": {"kind": "scale", "value": 1}, '
     '"extra": 1}', "malformed"),
    ('{"type": "answer", "step": 2, "submission": "x", "value": {"kind": "perspective", '
     f'"text": "{"x" * 5000}"}}}}', "malformed"),
    (b"\x00\x01binary", "malformed"),
    ('{"type": "next"}', "forbidden"),
    ('{"type": "hide_card", "step": 4, "card": "abc"}', "forbidden"),
    ('{"type": "hello", "role": "participant", "code": "AAAAAA"}', "already-joined"),
    ('{"type": "answer", "step": 0, "submission": "x", "value": {"kind": "scale", "value": 1}}',
     "not-current-step"),
    ('{"type": "answer", "step": 2, "submission": "y", "value": {"kind": "scale", "value": 99}}',
     "invalid-answer"),
])
@ONE_BACKEND
async def test_participant_bad_messages(server: Running, frame: str | bytes, code: str) -> None:
    created, host, phone = await setup(server)
    before = await counted(server, code)
    await phone.send_raw(frame)
    error = await phone.expect(p.Error)
    assert error.code == code and error.message
    assert await counted(server, code) == before + 1
    await intact(server, created, host)


@ONE_BACKEND
async def test_answer_to_a_closed_step_and_to_a_story(server: Running) -> None:
    created, host, phone = await setup(server)
    await host.command(p.CloseResponses())
    await phone.expect(p.ResponsesEvent)
    with pytest.raises(Refusal, match="responses-closed"):
        await phone.answer(SCALE, p.ScaleValue(value=1))
    await host.command(p.Goto(step=0))
    await phone.expect(p.StepEvent)
    with pytest.raises(Refusal, match="not-answerable"):
        await phone.answer(0, p.ScaleValue(value=1))
    await host.command(p.Goto(step=SCALE, reopen=True))
    await intact(server, created, host)


@ONE_BACKEND
async def test_screen_cannot_answer_or_command(server: Running) -> None:
    created, host, _ = await setup(server)
    screen = await server.screen(created)
    await screen.send(p.Reveal())
    assert (await screen.expect(p.Error)).code == "forbidden"
    await screen.send(p.Answer(step=SCALE, submission="s", value=p.ScaleValue(value=1)))
    assert (await screen.expect(p.Error)).code == "forbidden"
    await intact(server, created, host)


@ONE_BACKEND
async def test_facilitator_errors_are_typed(server: Running) -> None:
    created, host, _ = await setup(server)
    await host.send(p.Goto(step=50, ref="r1"))
    error = await host.expect(p.Error)
    assert (error.code, error.ref) == ("no-such-step", "r1")
    await host.send(p.Start())
    assert (await host.expect(p.Error)).code == "forbidden"
    await intact(server, created, host)


@ONE_BACKEND
async def test_message_before_hello(server: Running) -> None:
    client = Client(server.base)
    await client.open()
    await client.send(p.Next())
    assert (await client.expect(p.Error)).code == "not-joined"


async def test_unknown_code_and_bad_token(server: Running) -> None:
    created = await server.session()
    before = await counted(server, "unknown-session")
    with pytest.raises(Refusal, match="unknown-session"):
        await Client.participant("QQQQQQ", base=server.base)
    assert await counted(server, "unknown-session") == before + 1
    with pytest.raises(Refusal, match="bad-token"):
        await Client.facilitator(Created(created.session, created.code, "wrong-token", "", "",
                                         "", server.base))
    with pytest.raises(Refusal, match="unknown-session"):
        await Client.facilitator(Created("nope", created.code, created.token, "", "", "",
                                         server.base))


@ONE_BACKEND
async def test_oversized_frame_closes_with_1009(server: Running) -> None:
    created, host, phone = await setup(server)
    await phone.send_raw("x" * (65 * 1024))
    with pytest.raises(ConnectionError):
        await phone.expect(p.Ack)
    assert phone.closed == 1009
    await intact(server, created, host)


@ONE_BACKEND
async def test_hello_timeout_closes_with_4001(server: Running) -> None:
    server.settings.hello_timeout_s = 0.3
    ws_url = server.base.replace("http", "ws") + "/ws"
    async with connect(ws_url) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001


@ONE_BACKEND
async def test_foreign_origin_is_refused_before_accept(server: Running) -> None:
    ws_url = server.base.replace("http", "ws") + "/ws"
    with pytest.raises(InvalidStatus) as refused:
        async with connect(ws_url, origin="https://evil.example"):  # type: ignore[arg-type]
            pass
    assert refused.value.response.status_code == 403
    async with connect(ws_url, origin=server.base):  # type: ignore[arg-type]
        pass
    server.settings.allowed_origins = ["https://school.example"]
    async with connect(ws_url, origin="https://school.example"):  # type: ignore[arg-type]
        pass


@ONE_BACKEND
async def test_wrong_paths_and_plain_requests_to_ws_get_http_answers(server: Running) -> None:
    with pytest.raises(InvalidStatus) as elsewhere:
        async with connect(server.base.replace("http", "ws") + "/elsewhere"):
            pass
    assert elsewhere.value.response.status_code == 404
    status, body = await asyncio.to_thread(plain_get, f"{server.base}/ws")
    assert status == 426 and b"WebSocket" in body, "a browser opening /ws learns what it is"


def plain_get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@ONE_BACKEND
async def test_flooding_is_throttled_then_closed_with_1008(server: Running) -> None:
    created, host, phone = await setup(server)
    for i in range(120):
        await phone.send(p.Ping(t=i))
    error = await phone.expect(p.Error, timeout=5)
    assert error.code == "rate-limited"
    with pytest.raises(ConnectionError):
        while True:
            assert (await phone.expect(p.Error, timeout=5)).code == "rate-limited"
    assert phone.closed == 1008
    await intact(server, created, host)
