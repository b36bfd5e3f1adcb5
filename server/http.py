"""uvicorn's HTTP protocol with a deadline on the request head, and a short way to ``/ws``.

uvicorn times out idle keep-alive connections, but not a client that opens a socket and never
finishes its request: each would hold a socket and a file descriptor forever. Here every
connection must deliver a complete request head within ``HEAD_TIMEOUT``.

A connection whose first bytes are ``GET /ws`` is handed to the WebSocket protocol at once,
before h11 parses anything: ``websockets`` parses the handshake anyway, and parsing it twice
(then re-serializing it for the upgrade, as uvicorn does) was a seventh of the CPU a reconnect
storm costs. Its deadline is then the WebSocket's: handshake and ``hello`` within the hello
timeout.
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

HEAD_TIMEOUT = 10.0
WEBSOCKET_PATH = (b"GET /ws ", b"GET /ws?")


class GuardedH11Protocol(H11Protocol):
    head_timeout = HEAD_TIMEOUT

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._fresh = True
        self._head_deadline = self.loop.call_later(self.head_timeout, self._head_overdue)

    def data_received(self, data: bytes) -> None:
        if self._fresh:
            self._fresh = False
            if data.startswith(WEBSOCKET_PATH):
                self._hand_over(data)
                return
        super().data_received(data)

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        """As uvicorn's, except that the socket belongs to the WebSocket before it reads a byte:
        whatever happens in the handshake, asyncio then tells the WebSocket the socket is gone."""
        head = [event.method, b" ", event.target, b" HTTP/1.1\r\n"]
        for name, value in self.headers:
            head += [name, b": ", value, b"\r\n"]
        head.append(b"\r\n")
        self._hand_over(b"".join(head))

    def _hand_over(self, data: bytes) -> None:
        self._head_deadline.cancel()
        self.connections.discard(self)
        protocol = self.ws_protocol_class(  # type: ignore[call-arg, misc]
            config=self.config, server_state=self.server_state, app_state=self.app_state
        )
        protocol.connection_made(self.transport)
        self.transport.set_protocol(protocol)
        protocol.data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_deadline.cancel()
        super().connection_lost(exc)

    def _head_overdue(self) -> None:
        """No request arrived in time, and the socket was not upgraded to a WebSocket."""
        if self.cycle is None and self.transport.get_protocol() is self:
            self.transport.close()
