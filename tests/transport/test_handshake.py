"""The opening handshake: what RFC 6455 asks of a request, the answer to each way of getting it
wrong, and a handshake that arrives in pieces or with a frame behind it."""

from __future__ import annotations

import asyncio
import gc
import weakref
from http import HTTPStatus

import pytest
from websockets.asyncio.client import connect

from attune.core import protocol as p
from attune.transport import handshake
from tests.support.http import metric
from tests.support.servers import ONE_BACKEND, Running
from tests.support.waiting import until

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
"""The key of RFC 6455's example; its answer is ``s3pPLMBiTxaQ9kYGzzhZRbK+xOo=``."""


def request(*lines: str, start: str = "GET /ws HTTP/1.1") -> bytes:
    return "\r\n".join([start, *lines, "", ""]).encode("latin-1")


GOOD = ("Host: 127.0.0.1", "Upgrade: websocket", "Connection: keep-alive, Upgrade",
        f"Sec-WebSocket-Key: {KEY}", "Sec-WebSocket-Version: 13")


def test_a_good_request_gets_rfc_6455s_answer() -> None:
    head = handshake.parse(request(*GOOD, "X-Forwarded-For: 203.0.113.7",
                                   "x-forwarded-for: 198.51.100.1"))
    assert head.path == "/ws" and head.get_all("host") == ["127.0.0.1"]
    assert head.get_all("x-forwarded-for") == ["203.0.113.7", "198.51.100.1"], "kept in order"
    assert handshake.accept(head) == (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
    )


@pytest.mark.parametrize(("head", "status"), [
    (request(*GOOD, start="GET /ws"), HTTPStatus.BAD_REQUEST),
    (request(*GOOD, start="GET /ws HTTP/1.0"), HTTPStatus.BAD_REQUEST),
    (request(*GOOD, "no colon here"), HTTPStatus.BAD_REQUEST),
    (request(*GOOD, "Bad Name: x"), HTTPStatus.BAD_REQUEST),
    (request(*GOOD, start="POST /ws HTTP/1.1"), HTTPStatus.METHOD_NOT_ALLOWED),
    (request(*GOOD[:1], *GOOD[2:]), HTTPStatus.UPGRADE_REQUIRED),
    (request(*GOOD[:2], "Connection: keep-alive", *GOOD[3:]), HTTPStatus.UPGRADE_REQUIRED),
    (request(*GOOD[:4], "Sec-WebSocket-Version: 8"), HTTPStatus.UPGRADE_REQUIRED),
    (request(*GOOD[:3], "Sec-WebSocket-Key: short", *GOOD[4:]), HTTPStatus.BAD_REQUEST),
    (request(*GOOD, f"Sec-WebSocket-Key: {KEY}"), HTTPStatus.BAD_REQUEST),
])
def test_each_wrong_request_gets_its_status_and_a_reason(head: bytes, status: HTTPStatus) -> None:
    with pytest.raises(handshake.BadHandshake) as refused:
        handshake.accept(handshake.parse(head))
    assert refused.value.status == status
    response = refused.value.response
    assert response.startswith(f"HTTP/1.1 {status.value} ".encode())
    body = response.partition(b"\r\n\r\n")[2]
    assert body.startswith(b"Failed to open a WebSocket connection: ")
    assert f"Content-Length: {len(body)}\r\n".encode() in response
    if status == HTTPStatus.UPGRADE_REQUIRED and b"version" in body:
        assert b"Sec-WebSocket-Version: 13\r\n" in response


async def exchange(server: Running, *chunks: bytes) -> bytes:
    """Write ``chunks`` one read apart and return everything the server says until it closes
    or goes quiet."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.settings.port)
    try:
        for chunk in chunks:
            writer.write(chunk)
            await writer.drain()
            await asyncio.sleep(0.02)
        received = b""
        while True:
            try:
                data = await asyncio.wait_for(reader.read(65536), 1.0)
            except TimeoutError:
                return received
            if not data:
                return received
            received += data
    finally:
        writer.close()


def frame(payload: bytes) -> bytes:
    """A masked client text frame (zero mask)."""
    assert len(payload) < 126
    return bytes((0x81, 0x80 | len(payload))) + b"\0\0\0\0" + payload


@ONE_BACKEND
async def test_a_handshake_in_pieces_and_a_hello_in_the_same_packet_both_work(
    server: Running,
) -> None:
    created = await server.session()
    hello = p.encoder.encode(p.Hello(role="participant", code=created.code))
    whole = request(*GOOD)
    pieces = [whole[i:i + 7] for i in range(0, len(whole), 7)]
    for chunks in ([*pieces, frame(hello)], [whole + frame(hello)]):
        received = await exchange(server, *chunks)
        assert received.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
        assert b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in received
        assert b'"type":"welcome"' in received, "the hello behind the head was read"


@ONE_BACKEND
async def test_refused_handshakes_are_answered_closed_and_counted(server: Running) -> None:
    before = await asyncio.to_thread(metric, server, "attune_closes", "426")
    received = await exchange(server, request(*GOOD[:4], "Sec-WebSocket-Version: 8"))
    assert received.startswith(b"HTTP/1.1 426 Upgrade Required\r\n")
    assert b"Sec-WebSocket-Version: 13\r\n" in received
    assert await asyncio.to_thread(metric, server, "attune_closes", "426") == before + 1
    received = await exchange(server, b"GET /ws HTTP/1.1\r\nX-Filler: "
                              + b"a" * (handshake.MAX_HEAD + 10))
    assert received.startswith(b"HTTP/1.1 431 ")
    received = await exchange(server, request(*GOOD[:3], "Sec-WebSocket-Key: ???", *GOOD[4:]))
    assert received.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    await until(lambda: not server.app.state.endpoint.sockets, "nothing is left behind", 5)


@ONE_BACKEND
async def test_a_closed_sockets_protocol_is_freed_without_the_cyclic_collector(
    server: Running,
) -> None:
    """A storm drops thousands of sockets at once: they must not wait for a full collection."""
    created = await server.session()
    endpoint = server.app.state.endpoint
    gc.disable()
    try:
        async with connect(server.base.replace("http", "ws") + "/ws") as ws:
            await ws.send(p.encoder.encode(p.Hello(role="participant", code=created.code)))
            await ws.recv()
            (conn,) = endpoint.sockets
            protocol = weakref.ref(conn.ws)
            del conn
        for _ in range(100):
            if not endpoint.sockets:
                break
            await asyncio.sleep(0.01)
        assert protocol() is None
    finally:
        gc.enable()
