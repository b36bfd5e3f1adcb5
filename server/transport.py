"""The WebSocket transport under ``/ws``: uvicorn's sans-I/O protocol, opened up for fan-out.

Measured in ``bench/`` (see ``docs/benchmarks.md``): going through ASGI costs about 45 us of
server CPU per frame and socket, five times the physical floor of writing bytes to a transport.
So this protocol lends itself to the endpoint through the ASGI scope, and a ``Connection`` writes
a frame built once per broadcast straight to every transport that is ready for it, exactly as the
floor does. Everything else (the handshake, the Origin check before accept, pings, close
codes, frames over 64 KiB) stays uvicorn's and ``websockets``'.

It also reads a few messages ahead: uvicorn pauses and resumes reading around every message,
two system calls per answer; ``READ_AHEAD`` keeps the memory bound with a fraction of the cost.
"""

from __future__ import annotations

import random
import socket
from typing import Any, Protocol

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

READ_AHEAD = 4
"""Messages a socket may have waiting for the app before reading from it pauses (4 x 64 KiB)."""
SCOPE_KEY = "attune.transport"
SEND_BUFFER = 64 * 1024
"""Kernel send buffer per socket. Left to autotune, a phone that stops reading can pin 4 MiB
of kernel memory until its ping times out; frames are small, so 64 KiB costs nothing."""


class Listener(Protocol):
    def writable_changed(self) -> None:
        """The transport's buffer filled up or drained, or the socket is going away."""


def frame(payload: bytes) -> bytes:
    """An unmasked final text frame around ``payload`` (RFC 6455 section 5.2)."""
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 65536:
        return bytes((0x81, 126)) + n.to_bytes(2, "big") + payload
    return bytes((0x81, 127)) + n.to_bytes(8, "big") + payload


class AttuneWebSocketProtocol(WebSocketsSansIOProtocol):
    listener: Listener | None = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)

    def start_keepalive(self) -> None:
        """The first ping at a random point of the interval: a room joins at once, and its
        10,000 sockets must not ping and pong together every 20 s ever after."""
        if self.ping_interval is not None and self.ping_interval > 0:
            delay = random.uniform(0.5, 1.0) * self.ping_interval
            self.ping_timer = self.loop.call_later(delay, self.send_keepalive_ping)

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)  # absent when the handshake was refused
        if scope is not None:
            scope["extensions"][SCOPE_KEY] = self

    def ready(self) -> bool:
        """True when bytes written now go straight out: open, not paused, no close sent."""
        return self.writable.is_set() and not self.close_sent and not self.transport.is_closing()

    def write(self, data: bytes) -> None:
        self.transport.write(data)

    def send_receive_event_to_app(self) -> None:
        paused, self.read_paused = self.read_paused, True  # the parent must not pause yet
        try:
            super().send_receive_event_to_app()
        finally:
            self.read_paused = paused
        if not self.read_paused and self.queue.qsize() >= READ_AHEAD:
            self.read_paused = True
            self.transport.pause_reading()

    def pause_writing(self) -> None:
        super().pause_writing()
        if self.listener is not None:
            self.listener.writable_changed()

    def resume_writing(self) -> None:
        super().resume_writing()
        if self.listener is not None:
            self.listener.writable_changed()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if self.listener is not None:
            self.listener.writable_changed()
