"""Every place Attune relies on uvicorn's insides, in one module.

uvicorn accepts TCP connections and runs the HTTP app; Attune's protocol classes take over from
there. What this module relies on, none of it a documented API
(``tests/transport/test_uvicorn_glue.py`` checks each item and names the one an uvicorn release
changed):

- uvicorn builds its ``http`` protocol class as ``cls(config=, server_state=, app_state=,
  _loop=)`` for every connection, and its ``ws`` protocol class as ``cls(config=, server_state=,
  app_state=)`` when h11 meets an upgrade; ``app_state`` is the lifespan state (``ENDPOINT_KEY``);
- ``server_state.connections`` is the set of live protocols; on shutdown uvicorn calls
  ``shutdown()`` on each and waits for the set to empty;
- ``config.ws_max_size``, ``config.proxy_headers``, ``config.forwarded_allow_ips``,
  ``config.ws_protocol_class``;
- ``H11Protocol``'s ``loop``, ``transport``, ``cycle`` (``None`` until a request head is
  parsed), ``headers``, ``connections``, ``ws_protocol_class``, ``config``, ``server_state``,
  ``app_state``, and its ``handle_websocket_upgrade(event)`` hook.

A connection whose first bytes are ``GET /ws`` goes to the WebSocket protocol at once
(``FirstBytes``): no HTTP protocol object is built and h11 parses nothing, because
``attune.transport.handshake`` reads the request head anyway. Parsing it twice, re-serializing it
for the upgrade as uvicorn does, and building an h11 connection per socket were a quarter of the
CPU a reconnect storm costs (see "Optimisation log" in ``docs/benchmarks.md``). Everything else
goes to uvicorn's h11 protocol (``GuardedH11Protocol``), which upgrades WebSockets on other paths
or split across packets the usual way.

uvicorn times out idle keep-alive connections, but not a client that opens a socket and never
finishes its request: each would hold a socket and a file descriptor forever. Here every
connection must send its first bytes, and then a complete request head, within
``HEAD_TIMEOUT`` each; a WebSocket has the hello timeout for its handshake and ``hello``.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from attune.transport.connection import Connection
from attune.transport.proxies import TrustedProxies
from attune.transport.ws import Endpoint

HEAD_TIMEOUT = 10.0
WEBSOCKET_PATH = (b"GET /ws ", b"GET /ws?")
ENDPOINT_KEY = "attune.endpoint"
"""Where the lifespan state carries the ``Endpoint`` every socket reports to."""


def websocket(config: Any, server_state: Any, app_state: dict[str, Any]) -> Connection:
    """uvicorn's ``ws`` protocol class: a ``Connection`` reporting to the lifespan's endpoint,
    which learns uvicorn's settings from the first one."""
    endpoint: Endpoint = app_state[ENDPOINT_KEY]
    if endpoint.proxies is None:
        endpoint.configure(config.ws_max_size, TrustedProxies(
            config.forwarded_allow_ips if config.proxy_headers else []))
    return Connection(endpoint, server_state.connections)


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

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        """As uvicorn's, except that the socket belongs to the WebSocket before it reads a byte:
        whatever happens in the handshake, asyncio then tells the WebSocket the socket is gone."""
        self._head_deadline.cancel()
        self.connections.discard(self)
        head = [event.method, b" ", event.target, b" HTTP/1.1\r\n"]
        for name, value in self.headers:
            head += [name, b": ", value, b"\r\n"]
        head.append(b"\r\n")
        protocol = self.ws_protocol_class(  # type: ignore[call-arg, misc]
            config=self.config, server_state=self.server_state, app_state=self.app_state
        )
        protocol.connection_made(self.transport)
        self.transport.set_protocol(protocol)
        protocol.data_received(b"".join(head))


class FirstBytes(asyncio.Protocol):
    """uvicorn's ``http`` protocol class: it hands the socket over on its first bytes."""

    def __init__(
        self, config: Any, server_state: Any, app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.config = config
        self.server_state = server_state
        self.app_state = app_state
        self.transport: asyncio.Transport | None = None
        self.deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's TCPTransport has every method of asyncio.Transport but is not a subclass.
        self.transport = transport = cast(asyncio.Transport, transport)
        self.server_state.connections.add(self)
        loop = asyncio.get_running_loop()
        self.deadline = loop.call_later(GuardedH11Protocol.head_timeout, transport.close)

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None and self.deadline is not None
        self.deadline.cancel()
        self.server_state.connections.discard(self)
        kind = self.config.ws_protocol_class if data.startswith(WEBSOCKET_PATH) \
            else GuardedH11Protocol
        protocol = kind(config=self.config, server_state=self.server_state,
                        app_state=self.app_state)
        protocol.connection_made(self.transport)
        self.transport.set_protocol(protocol)
        protocol.data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
        self.server_state.connections.discard(self)

    def shutdown(self) -> None:
        """uvicorn is stopping and this client has not said anything yet."""
        if self.transport is not None:
            self.transport.close()


def protocols() -> dict[str, object]:
    """The ``http`` and ``ws`` settings for ``uvicorn.Config``."""
    return {"http": FirstBytes, "ws": websocket}
