"""The ``/ws`` endpoint: who may open a socket, how fast it may talk, what its messages mean.

``attune.transport.connection`` moves the bytes; this decides. The ``Origin`` header is checked
*before* the handshake completes, because CORS does not cover WebSocket handshakes and a foreign
page could otherwise ride a facilitator's browser. Frames over 64 KiB close with 1009 and
permessage-deflate is never negotiated (no compression bombs, no per-socket zlib memory). Deadlines
are one sweep a second over all sockets rather than timers per socket: the handshake and ``hello``
are due within the hello timeout; a quiet client is pinged after 10-20 s (each socket draws its own
delay, so a room that joined together does not ping together) and dropped if nothing comes back
within the ping timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from http import HTTPStatus
from urllib.parse import urlsplit

import msgspec
from websockets.protocol import State

from attune.config import Settings
from attune.core import protocol as p
from attune.core.errors import CLOSE_HELLO_TIMEOUT, CLOSE_POLICY, BackendUnavailable, Refused
from attune.node import Node
from attune.transport.connection import Connection, Outgoing
from attune.transport.handshake import BadHandshake, Head, accept
from attune.transport.limits import AddressLimits
from attune.transport.proxies import TrustedProxies

PATH = "/ws"
RATE = 20.0
"""Messages per second a client may send on average; bursts up to ``BURST``."""
BURST = 40.0
STRIKES = 50
"""Messages refused for flooding before the connection is closed with 1008."""
UNAVAILABLE = Refused("unavailable", "The server's store is not reachable; retrying.")
SWEEP = 1.0
"""Seconds between keepalive sweeps."""


def origin_allowed(headers: Head, allowed: list[str]) -> bool:
    """Same-origin pages, listed origins, and clients that send no Origin (not a browser).
    A request with two Origin or Host headers is refused: which one a check reads is a guess."""
    origins, hosts = headers.get_all("origin"), headers.get_all("host")
    if len(origins) > 1 or len(hosts) > 1:
        return False
    if not origins or origins[0] in allowed or "*" in allowed:
        return True
    return urlsplit(origins[0]).netloc.lower() == (hosts[0] if hosts else "").lower()


class Endpoint:
    """One per server process; every ``Connection`` reports to it."""

    def __init__(self, node: Node, limits: AddressLimits, settings: Settings) -> None:
        self.node = node
        self.limits = limits
        self.settings = settings
        self.metrics = node.metrics
        self.proxies: TrustedProxies | None = None
        """Addresses whose ``X-Forwarded-For`` is believed: uvicorn's ``forwarded_allow_ips``, as
        for HTTP (set by ``configure`` when the first socket opens)."""
        self.max_size = 64 * 1024
        """Largest message a client may send (uvicorn's ``ws_max_size``): 1009 beyond."""
        self.ping_interval = 20.0
        self.ping_timeout = 20.0
        self.sockets: set[Connection] = set()
        self._sweeper: asyncio.Task[None] | None = None

    def configure(self, max_size: int, proxies: TrustedProxies) -> None:
        """The server's settings, learnt from the first socket (see ``uvicorn_glue``)."""
        self.max_size = max_size
        self.proxies = proxies

    @property
    def hello_timeout(self) -> float:
        return self.settings.hello_timeout_s

    async def __aenter__(self) -> Endpoint:
        self._sweeper = asyncio.create_task(self._sweep())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper

    # --- opening and closing ---------------------------------------------------------------

    def opened(self, conn: Connection, head: Head) -> bytes:
        """The 101 response to a handshake, or ``BadHandshake`` saying why not."""
        if head.path != PATH:
            raise BadHandshake(HTTPStatus.NOT_FOUND, f"nothing is served at {head.path}")
        response = accept(head)
        if not origin_allowed(head, self.settings.allowed_origins):
            raise BadHandshake(HTTPStatus.FORBIDDEN, "this page's origin may not connect")
        address = self._address(conn, head)
        if not self.limits.connect(address):
            raise BadHandshake(HTTPStatus.TOO_MANY_REQUESTS,
                               "too many connections from this address")
        conn.address = address
        conn.tokens, conn.tokens_at = BURST, time.monotonic()
        return response

    def _address(self, conn: Connection, headers: Head) -> str:
        assert conn.transport is not None
        peer = conn.transport.get_extra_info("peername")
        address = str(peer[0]) if peer else ""
        if self.proxies is None:
            return address
        return self.proxies.client(address, headers.get_all("x-forwarded-for"))

    def lost(self, conn: Connection) -> None:
        self.sockets.discard(conn)
        self.node.detach(conn)
        if conn.address is not None:
            self.limits.disconnect(conn.address)
            conn.address = None

    def overdue(self, conn: Connection) -> None:
        """No ``hello`` in time: close with 4001, or drop a handshake that never finished."""
        if conn.closing is not None:
            return
        if conn.ws is not None and conn.ws.state is State.OPEN:
            conn.close(CLOSE_HELLO_TIMEOUT)
        elif conn.transport is not None:
            conn.transport.abort()

    def counted_close(self, code: int) -> None:
        self.metrics.series(self.metrics.closes, str(code)).inc()

    async def _sweep(self) -> None:
        """Deadlines for every socket in one pass a second, rather than timers per socket."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(SWEEP)
            now = loop.time()
            hello_by = now - self.hello_timeout
            for conn in list(self.sockets):
                if conn.role is None:
                    if conn.opened < hello_by and conn.runner is None:  # not mid-hello
                        self.overdue(conn)
                else:
                    conn.keepalive(now, self.ping_timeout)

    # --- messages --------------------------------------------------------------------------

    def refuse(self, conn: Connection, error: Refused, ref: str | None = None) -> None:
        self.metrics.series(self.metrics.errors, error.code).inc()
        replica = self.node.replicas.get(conn.session or "")
        seq = replica.session.seq if replica is not None else 0
        conn.send(Outgoing(p.Error(seq=seq, code=error.code, message=error.message, ref=ref)))

    def eager(self, conn: Connection) -> bool:
        """Whether ``received`` may start in the socket's own callback, before any task exists:
        once joined, a message's handling never needs a current task before its first wait
        (``hello`` may: the Redis client's timeouts do)."""
        return conn.role is not None

    async def received(self, conn: Connection, text: bool, data: bytes) -> None:
        """One message from a client, decoded here and nowhere else."""
        now = time.monotonic()
        conn.tokens = min(BURST, conn.tokens + (now - conn.tokens_at) * RATE)
        conn.tokens_at = now
        if conn.tokens < 1:
            conn.strikes += 1
            if conn.strikes >= STRIKES:
                conn.close(CLOSE_POLICY)
            else:
                self.refuse(conn, Refused("rate-limited", "Too many messages; slow down."))
            return
        conn.tokens -= 1
        try:
            if not text:
                raise msgspec.DecodeError("expected a JSON text frame, got binary")
            message = p.decode_client(data)
        except msgspec.DecodeError as exc:
            self.refuse(conn, Refused("malformed", str(exc)))
            return
        tag = str(type(message).__struct_config__.tag)
        self.metrics.series(self.metrics.messages, tag).inc()
        try:
            if conn.role is None:
                await self._hello(conn, message)
            else:
                await self.node.message(conn, message)
        except Refused as error:
            ref = getattr(message, "ref", None) or getattr(message, "submission", None)
            self.refuse(conn, error, ref)
        except (BackendUnavailable, TimeoutError, OSError):
            self.refuse(conn, UNAVAILABLE)

    async def _hello(self, conn: Connection, message: p.ClientMessage) -> None:
        if not isinstance(message, p.Hello):
            raise Refused("not-joined", "The first message must be hello.")
        address = conn.address or ""
        if not self.limits.may_join(address):
            self.limits.join_failed(address)
            self.refuse(conn, Refused("rate-limited", "Too many failed joins; wait a minute."))
            conn.close(CLOSE_POLICY)
            return
        try:
            await self.node.hello(conn, message)
        except Refused as error:
            if error.code in ("unknown-session", "bad-token"):
                self.limits.join_failed(address)
            raise
