"""The peers Attune is measured against, each as small as its stack allows.

Every peer keeps its connected sockets and, when any client sends a message (the benchmark's
trigger), broadcasts one step event to all of them: ``{"type":"step","seq":N,"started_at":T,
"pad":"..."}``, padded to the size of Attune's own step frame, with ``started_at`` taken just
before the broadcast starts, as Attune does. A socket.io event carries the same object.

- ``floor``: a bare asyncio server; the handshake by hand, then one pre-built frame written to
  every transport. Nothing Python can serve is much cheaper: this is the physical floor.

The raw peers also answer ``{"type":"answer",...}`` with an ack, as Attune does, so ingest has a
floor too: one frame in, one small frame out.
- ``websockets``: the ``websockets`` library's own asyncio server and ``broadcast()``.
- ``starlette``: what a developer typically writes with Starlette on uvicorn (uvicorn's defaults):
  a set of ``WebSocket``s and a loop of ``await ws.send_text()``.
- ``socketio``: python-socketio's ASGI server on uvicorn, ``emit`` to a room everyone joins.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
from typing import Any, cast

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC11B65"
BACKLOG = 2048
"""uvicorn's default listen backlog, used for every server so none refuses a burst sooner."""


class Payload:
    """Step events of a fixed size."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.seq = 0

    def fields(self) -> dict[str, Any]:
        self.seq += 1
        head = {"type": "step", "seq": self.seq, "started_at": round(time.time() * 1000, 3)}
        bare = len(_dumps({**head, "pad": ""}))
        return {**head, "pad": "x" * max(0, self.size - bare)}

    def text(self) -> str:
        return _dumps(self.fields())


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"))


def server_frame(payload: bytes) -> bytes:
    """An unmasked text frame, as a server sends it (RFC 6455 section 5.2)."""
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 65536:
        return bytes((0x81, 126)) + n.to_bytes(2, "big") + payload
    return bytes((0x81, 127)) + n.to_bytes(8, "big") + payload


ANSWER = b'{"type":"answer"'


def ack(answer: bytes | str) -> str:
    """The acknowledgement of an answer, as Attune words it: the peers' ingest path is "decode
    the answer, reply with an ack", so their cost per answer is the transport's floor."""
    data = json.loads(answer)
    return json.dumps({"type": "ack", "seq": 0, "step": data["step"],
                       "submission": data["submission"]}, separators=(",", ":"))


def unmask(payload: bytes, mask: bytes) -> bytes:
    """RFC 6455 section 5.3: XOR with the 4-byte masking key, repeated."""
    if mask == b"\x00\x00\x00\x00" or not payload:
        return payload
    n = len(payload)
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(payload, "big") ^ key).to_bytes(n, "big")


# --- floor ---------------------------------------------------------------------------------------


class Floor(asyncio.Protocol):
    """One socket of the floor server."""

    sockets: set[asyncio.Transport]
    payload: Payload

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.open = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.sockets.discard(self.transport)

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.buffer += data
        if not self.open:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            key = b""
            for line in self.buffer[:end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"sec-websocket-key":
                    key = value.strip()
            accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
            self.transport.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                 b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept
                                 + b"\r\n\r\n")
            self.open = True
            self.sockets.add(self.transport)
            self.buffer = self.buffer[end + 4:]
        while len(self.buffer) >= 6:
            length = self.buffer[1] & 0x7F
            head = 2 + {126: 2, 127: 8}.get(length, 0) + 4
            if length >= 126:
                length = int.from_bytes(self.buffer[2:head - 4], "big")
            if len(self.buffer) < head + length:
                return
            opcode = self.buffer[0] & 0x0F
            mask = self.buffer[head - 4:head]
            payload = unmask(self.buffer[head:head + length], mask)
            self.buffer = self.buffer[head + length:]
            if opcode == 8:
                self.transport.close()
                return
            if opcode == 1:
                if payload.startswith(ANSWER):
                    self.transport.write(server_frame(ack(payload).encode()))
                else:
                    self.broadcast()

    def broadcast(self) -> None:
        frame = server_frame(self.payload.text().encode())
        for transport in self.sockets:
            transport.write(frame)


async def serve_floor(port: int, size: int) -> None:
    Floor.sockets = set()
    Floor.payload = Payload(size)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Floor, "127.0.0.1", port, backlog=BACKLOG)
    async with server:
        await server.serve_forever()


# --- websockets ----------------------------------------------------------------------------------


async def serve_websockets(port: int, size: int) -> None:
    from websockets.asyncio.server import ServerConnection, broadcast, serve

    sockets: set[ServerConnection] = set()
    payload = Payload(size)

    async def handler(ws: ServerConnection) -> None:
        sockets.add(ws)
        try:
            async for message in ws:
                if isinstance(message, str) and message.startswith('{"type":"answer"'):
                    await ws.send(ack(message))
                else:
                    broadcast(sockets, payload.text())
        finally:
            sockets.discard(ws)

    async with serve(handler, "127.0.0.1", port, compression=None, max_size=64 * 1024,
                     backlog=BACKLOG) as server:
        await server.serve_forever()


# --- starlette -----------------------------------------------------------------------------------


def starlette_app(size: int) -> Any:
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    sockets: set[WebSocket] = set()
    payload = Payload(size)

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        sockets.add(websocket)
        try:
            while True:
                message = await websocket.receive_text()
                if message.startswith('{"type":"answer"'):
                    await websocket.send_text(ack(message))
                    continue
                text = payload.text()
                for other in list(sockets):
                    try:
                        await other.send_text(text)
                    except (WebSocketDisconnect, RuntimeError):
                        sockets.discard(other)
        except WebSocketDisconnect:
            pass
        finally:
            sockets.discard(websocket)

    return Starlette(routes=[WebSocketRoute("/ws", endpoint)])


# --- python-socketio -----------------------------------------------------------------------------


def socketio_app(size: int) -> Any:
    import socketio

    # python-socketio ships no type information: its server is used as Any.
    sio: Any = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins="*")
    payload = Payload(size)

    async def connect(sid: str, environ: dict[str, Any]) -> None:
        await sio.enter_room(sid, "session")

    async def go(sid: str, *args: Any) -> None:
        fields = payload.fields()
        del fields["type"]
        await sio.emit("step", fields, room="session")

    sio.on("connect", connect)
    sio.on("go", go)

    return socketio.ASGIApp(sio)
