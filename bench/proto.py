"""Prototypes of server changes, measured beside the real server so the figures decide.

Nothing here is imported by ``server/``. The prototypes run Attune's own ``Node``, session rules
and HTTP API (``server.app.create_app``); only the WebSocket server under the node differs.

- ``attune-wsown``: ``/ws`` served by the ``websockets`` library's own asyncio server (on the port
  the clients use) instead of uvicorn through ASGI, with Attune's ``Connection`` writing through
  its queue and writer task; uvicorn still serves the HTTP API on a second port in the same
  process and event loop. It answers "what would leaving ASGI for the WebSocket path gain".
- ``attune-wsown-direct``: the same, with the direct-write fast path: ``WsTransport`` gives
  ``Connection`` what ``server.transport.AttuneWebSocketProtocol`` gives it under uvicorn.

The fast path itself (a broadcast framed once and written to every ready transport, acks and
pushes written directly, a short read-ahead) was first measured here as ``attune-direct`` and
is now the shipped server (``server/transport.py``); see ``docs/benchmarks.md``.

The receive loop below is ``server.ws``'s, minus metrics and per-address limits.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from server import protocol as p
from server.connection import Connection, Outgoing
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
        conn.send(Outgoing(p.Error(seq=seq, code=error.code, message=error.message, ref=ref)))

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


# --- attune-wsown: the websockets library's own server --------------------------------------------


class WsTransport:
    """What ``Connection`` needs of a transport for direct writes (``server.transport``'s
    ``AttuneWebSocketProtocol`` under uvicorn), for a ``websockets`` server connection."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.listener: Any = None
        ws.attune_transport = self

    def ready(self) -> bool:
        from websockets.protocol import State

        ws = self.ws
        return (not ws.paused and ws.protocol.state is State.OPEN
                and not ws.transport.is_closing())

    def write(self, data: bytes) -> None:
        self.ws.transport.write(data)


def _notifying_connection() -> Any:
    from websockets.asyncio.server import ServerConnection

    class NotifyingConnection(ServerConnection):
        """Tells the ``Connection`` when the transport's buffer fills or drains."""

        attune_transport: WsTransport | None = None

        def _changed(self) -> None:
            transport = self.attune_transport
            if transport is not None and transport.listener is not None:
                transport.listener.writable_changed()

        def pause_writing(self) -> None:
            super().pause_writing()
            self._changed()

        def resume_writing(self) -> None:
            super().resume_writing()
            self._changed()

        def connection_lost(self, exc: Exception | None) -> None:
            super().connection_lost(exc)
            self._changed()

    return NotifyingConnection


async def serve_wsown(app: Any, port: int, direct: bool = False) -> None:
    """Serve Attune's ``/ws`` with ``websockets.asyncio.server`` on ``port``, same event loop;
    ``direct``: with the direct-write fast path."""
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

        transport = WsTransport(ws) if direct else None
        await serve_socket(node, Connection(send, close, transport), receive)  # type: ignore[arg-type]

    async with serve(handler, "127.0.0.1", port, compression=None, max_size=64 * 1024,
                     ping_interval=20, ping_timeout=20, backlog=2048,
                     create_connection=_notifying_connection() if direct else None) as server:
        await server.serve_forever()
