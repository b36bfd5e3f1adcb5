"""Prototypes of server changes, measured beside the real server so the figures decide.

Nothing here is imported by ``server/``. Both prototypes run Attune's own ``Node``, session rules
and HTTP API (``server.app.create_app``); only the path from a broadcast to the sockets differs.

- ``attune-wsown``: ``/ws`` served by the ``websockets`` library's own asyncio server (on the port
  the clients use) instead of through ASGI, with Attune's unchanged ``Connection`` and writer
  task; uvicorn still serves the HTTP API on a second port in the same process and event loop.
  It answers "what would leaving ASGI for the WebSocket path gain by itself".
- ``attune-direct``: still uvicorn with ``websockets-sansio`` and Starlette, one port, but the
  uvicorn protocol object is handed to the endpoint (a subclass adds it to the ASGI scope's
  ``extensions``), and ``DirectConnection.send`` writes the broadcast's frame, built once as
  bytes, straight to each socket's transport when nothing is queued and the transport is not
  paused; otherwise it falls back to the queue and writer task, which keep their order and bound.

The receive loop below is ``server.ws.endpoint``'s, minus metrics, fed by either server.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from server import protocol as p
from server.connection import Close, Connection, Send
from server.errors import CLOSE_HELLO_TIMEOUT, CLOSE_POLICY, BackendUnavailable, Refused
from server.node import Node
from server.ws import BURST, RATE, STRIKES

Receive = Callable[[], Awaitable[str | bytes | None]]


async def serve_socket(node: Node, conn: Connection, receive: Receive) -> None:
    """Read one socket's messages until it closes, as ``server.ws.endpoint`` does."""
    tokens, last, strikes = BURST, time.monotonic(), 0

    def refuse(error: Refused, ref: str | None = None) -> None:
        replica = node.replicas.get(conn.session or "")
        seq = replica.session.seq if replica is not None else 0
        conn.send(p.encoder.encode(
            p.Error(seq=seq, code=error.code, message=error.message, ref=ref)).decode())

    try:
        while conn.closing is None:
            timeout = node.settings.hello_timeout_s if conn.role is None else None
            try:
                text = await asyncio.wait_for(receive(), timeout)
            except TimeoutError:
                conn.close(CLOSE_HELLO_TIMEOUT)
                break
            if text is None:
                break
            now = time.monotonic()
            tokens = min(BURST, tokens + (now - last) * RATE)
            last = now
            if tokens < 1:
                strikes += 1
                if strikes >= STRIKES:
                    conn.close(CLOSE_POLICY)
                    break
                refuse(Refused("rate-limited", "Too many messages; slow down."))
                continue
            tokens -= 1
            try:
                if not isinstance(text, str):
                    raise msgspec.DecodeError("expected a JSON text frame, got binary")
                message = p.decoder.decode(text)
            except msgspec.DecodeError as exc:
                refuse(Refused("malformed", str(exc)))
                continue
            try:
                if conn.role is None:
                    if not isinstance(message, p.Hello):
                        raise Refused("not-joined", "The first message must be hello.")
                    await node.hello(conn, message)
                else:
                    await node.message(conn, message)
            except Refused as error:
                ref = getattr(message, "ref", None) or getattr(message, "submission", None)
                refuse(error, ref)
            except (BackendUnavailable, TimeoutError, OSError):
                refuse(Refused("unavailable", "The server's store is not reachable; retrying."))
    finally:
        node.detach(conn)
        if conn.closing is not None:
            await asyncio.wait([conn.writer], timeout=1)
        conn.writer.cancel()


# --- attune-direct: uvicorn, with a fast path to the transport ----------------------------------


class ExposedProtocol(WebSocketsSansIOProtocol):
    """uvicorn's ``websockets-sansio`` protocol that lends itself to the app through the scope,
    so the app can write pre-built frames to the transport."""

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None:
            scope["extensions"]["attune.protocol"] = self


_cached: tuple[str, bytes] = ("", b"")


def text_frame(text: str) -> bytes:
    """The server frame for ``text``, built once per broadcast: the node hands the same ``str``
    object to every socket, so the last one built is reused while the broadcast lasts."""
    global _cached
    if _cached[0] is text:
        return _cached[1]
    payload = text.encode()
    n = len(payload)
    if n < 126:
        head = bytes((0x81, n))
    elif n < 65536:
        head = bytes((0x81, 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x81, 127)) + n.to_bytes(8, "big")
    _cached = (text, head + payload)
    return _cached[1]


class DirectConnection(Connection):
    """``Connection`` whose ``send`` writes straight to the transport when it can keep order:
    no frame queued or being written, the transport not paused, the socket open."""

    def __init__(self, send: Send, close: Close, protocol: WebSocketsSansIOProtocol) -> None:
        super().__init__(send, close)
        self.protocol = protocol
        self.busy = False

    def send(self, frame: str) -> None:
        proto = self.protocol
        if (self.closing is None and not self._events and not self.busy
                and proto.writable.is_set() and not proto.close_sent
                and not proto.transport.is_closing()):
            proto.transport.write(text_frame(frame))
            return
        super().send(frame)

    async def _write(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                self.busy = True
                while self._events:
                    await self._send(self._events.popleft())
                while self._states and self.closing is None and not self._events:
                    kind = next(iter(self._states))
                    await self._send(self._states.pop(kind))
                self.busy = False
                if self.closing is not None:
                    await self._close(self.closing)
                    return
        except Exception:
            return


def direct_app(settings: Any) -> Any:
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket

    from server.app import create_app

    app = create_app(settings)
    node: Node = app.state.node

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        proto = websocket.scope["extensions"]["attune.protocol"]

        async def close(code: int) -> None:
            await websocket.close(code)

        async def receive() -> str | bytes | None:
            frame = await websocket.receive()
            if frame["type"] == "websocket.disconnect":
                return None
            text: str | bytes | None = frame.get("text") or frame.get("bytes")
            return text

        await serve_socket(node, DirectConnection(websocket.send_text, close, proto), receive)

    app.router.routes = [WebSocketRoute("/ws", endpoint) if getattr(r, "path", "") == "/ws" else r
                         for r in app.router.routes]
    return app


# --- attune-wsown: the websockets library's own server --------------------------------------------


async def serve_wsown(app: Any, port: int) -> None:
    """Serve Attune's ``/ws`` with ``websockets.asyncio.server`` on ``port``, same event loop."""
    from websockets.asyncio.server import ServerConnection, serve
    from websockets.exceptions import ConnectionClosed

    node: Node = app.state.node

    async def handler(ws: ServerConnection) -> None:
        async def close(code: int) -> None:
            await ws.close(code)

        async def send(text: str) -> None:
            await ws.send(text)

        async def receive() -> str | bytes | None:
            try:
                return await ws.recv()
            except ConnectionClosed:
                return None

        await serve_socket(node, Connection(send, close), receive)

    async with serve(handler, "127.0.0.1", port, compression=None, max_size=64 * 1024,
                     ping_interval=20, ping_timeout=20, backlog=2048) as server:
        await server.serve_forever()
