"""Prototypes of server changes, measured beside the real server so the figures decide.

Nothing here is imported by ``server/``. Both prototypes run Attune's own ``Node``, session rules
and HTTP API (``server.app.create_app``); only the path from a broadcast to the sockets differs.

- ``attune-wsown``: ``/ws`` served by the ``websockets`` library's own asyncio server (on the port
  the clients use) instead of through ASGI, with Attune's unchanged ``Connection`` and writer
  task; uvicorn still serves the HTTP API on a second port in the same process and event loop.
  It answers "what would leaving ASGI for the WebSocket path gain by itself";
  ``attune-wsown-direct`` adds the broadcast fast path below.
- ``attune-direct``: still uvicorn with ``websockets-sansio`` and Starlette, one port, but the
  uvicorn protocol object is handed to the endpoint (a subclass adds it to the ASGI scope's
  ``extensions``); a broadcast encodes its frame once as bytes and writes it straight to every
  socket whose transport is ready (nothing queued, not paused), as the floor does; others fall
  back to the queue and writer task, which keep their order and bound. Replies (acks) take the
  same direct path, and the protocol reads up to ``READ_AHEAD`` messages ahead instead of
  pausing and resuming the socket around every message.

The receive loop below is ``server.ws.endpoint``'s, minus metrics, fed by either server.
"""

from __future__ import annotations

import asyncio
import time
import types
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

READ_AHEAD = 4
"""Messages a socket may have waiting for the app before reading from it pauses. uvicorn pauses
after every single message and resumes when the app takes it, two ``epoll_ctl`` calls per
message; a short read-ahead keeps the bound (4 x 64 KiB) without that cost."""


class ExposedProtocol(WebSocketsSansIOProtocol):
    """uvicorn's ``websockets-sansio`` protocol that lends itself to the app through the scope
    (so the app can write pre-built frames to the transport), tells its connection when the
    transport's buffer fills and drains, and reads a few messages ahead."""

    connection: DirectConnection | None = None

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None:
            scope["extensions"]["attune.protocol"] = self

    def send_receive_event_to_app(self) -> None:
        paused, self.read_paused = self.read_paused, True  # the parent then does not pause
        try:
            super().send_receive_event_to_app()
        finally:
            self.read_paused = paused
        if not self.read_paused and self.queue.qsize() >= READ_AHEAD:
            self.read_paused = True
            self.transport.pause_reading()

    def pause_writing(self) -> None:
        super().pause_writing()
        if self.connection is not None:
            self.connection.ready = False

    def resume_writing(self) -> None:
        super().resume_writing()
        if self.connection is not None:
            self.connection.settle()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.connection is not None:
            self.connection.ready = False
        super().connection_lost(exc)


_cached: tuple[str, bytes] = ("", b"")


def frame_of(payload: bytes) -> bytes:
    """An unmasked text frame (RFC 6455 section 5.2) around ``payload``."""
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 65536:
        return bytes((0x81, 126)) + n.to_bytes(2, "big") + payload
    return bytes((0x81, 127)) + n.to_bytes(8, "big") + payload


def text_frame(text: str) -> bytes:
    """The frame for ``text``, cached by identity: the node hands the same ``str`` object to
    every socket it sends one reply or push to."""
    global _cached
    if _cached[0] is not text:
        _cached = (text, frame_of(text.encode()))
    return _cached[1]


class DirectConnection(Connection):
    """``Connection`` that writes straight to the transport while it is ``ready``: nothing
    queued or being written, the transport accepting data, the socket open. Otherwise frames
    take the queue and the writer task, which keep their order and their bound."""

    def __init__(self, send: Send, close: Close, protocol: ExposedProtocol) -> None:
        super().__init__(send, close)
        self.protocol = protocol
        self.transport = protocol.transport
        self.busy = False
        self.ready = False
        protocol.connection = self
        self.settle()

    def settle(self) -> None:
        proto = self.protocol
        self.ready = (self.closing is None and not self._events and not self.busy
                      and proto.writable.is_set() and not proto.close_sent
                      and not self.transport.is_closing())

    def send(self, frame: str) -> None:
        if self.ready:
            self.transport.write(text_frame(frame))
            return
        self.ready = False
        super().send(frame)

    def close(self, code: int) -> None:
        self.ready = False
        super().close(code)

    async def _write(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                self.busy, self.ready = True, False
                while self._events:
                    await self._send(self._events.popleft())
                while self._states and self.closing is None and not self._events:
                    kind = next(iter(self._states))
                    await self._send(self._states.pop(kind))
                self.busy = False
                if self.closing is not None:
                    await self._close(self.closing)
                    return
                self.settle()
        except Exception:
            return


def fast_broadcast(node: Node, replica: Any, broadcast: Any) -> None:
    """``Node._broadcast`` with the participants' frame built once as bytes and written to
    every ready transport in one loop, as the floor server does."""
    from server.node import encode

    moderator = encode(broadcast.facilitator).decode()
    body = encode(broadcast.others)
    frame = frame_of(body)
    others = body.decode()
    for conn in replica.conns.values():
        if conn.role == "facilitator":
            conn.send(moderator)
        elif conn.ready:
            conn.transport.write(frame)
        else:
            conn.send(others)
    event = broadcast.others
    if isinstance(event, p.StepEvent):
        node._mark(replica, event.step.index)
    elif isinstance(event, p.RevealEvent) and event.revealed:
        node._mark(replica, replica.session.index)
        for conn in replica.conns.values():
            node._send_feedback(replica, conn)


def direct_app(settings: Any) -> Any:
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket

    from server.app import create_app

    app = create_app(settings)
    node: Node = app.state.node
    node._broadcast = types.MethodType(fast_broadcast, node)  # type: ignore[method-assign]

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


class WsDirectConnection(DirectConnection):
    """``DirectConnection`` for a connection of the ``websockets`` library's own server."""

    def __init__(self, send: Send, close: Close, ws: Any) -> None:
        Connection.__init__(self, send, close)
        self.ws = ws
        self.transport = ws.transport
        self.busy = False

    @property  # type: ignore[override]
    def ready(self) -> bool:
        from websockets.protocol import State

        return (self.closing is None and not self._events and not self.busy
                and not self.ws.paused and self.ws.protocol.state is State.OPEN)

    @ready.setter
    def ready(self, value: bool) -> None:
        pass

    def settle(self) -> None:
        pass


async def serve_wsown(app: Any, port: int, direct: bool = False) -> None:
    """Serve Attune's ``/ws`` with ``websockets.asyncio.server`` on ``port``, same event loop;
    ``direct``: with the broadcast fast path of ``attune-direct``."""
    from websockets.asyncio.server import ServerConnection, serve
    from websockets.exceptions import ConnectionClosed

    node: Node = app.state.node
    if direct:
        node._broadcast = types.MethodType(fast_broadcast, node)  # type: ignore[method-assign]

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

        conn = WsDirectConnection(send, close, ws) if direct else Connection(send, close)
        await serve_socket(node, conn, receive)

    async with serve(handler, "127.0.0.1", port, compression=None, max_size=64 * 1024,
                     ping_interval=20, ping_timeout=20, backlog=2048) as server:
        await server.serve_forever()
