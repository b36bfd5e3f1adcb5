"""uvicorn's HTTP protocol with a deadline on the request head.

uvicorn times out idle keep-alive connections, but not a client that opens a socket and never
finishes its request (or its WebSocket handshake): each would hold a socket and a file descriptor
forever. Here every connection must deliver a complete request head within ``HEAD_TIMEOUT``.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.h11_impl import H11Protocol

HEAD_TIMEOUT = 10.0


class GuardedH11Protocol(H11Protocol):
    head_timeout = HEAD_TIMEOUT

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_deadline = self.loop.call_later(self.head_timeout, self._head_overdue)

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_deadline.cancel()
        super().connection_lost(exc)

    def _head_overdue(self) -> None:
        """No request arrived in time, and the socket was not upgraded to a WebSocket."""
        if self.cycle is None and self.transport.get_protocol() is self:
            self.transport.close()
