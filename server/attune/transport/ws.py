"""The ``/ws`` endpoint: who may open a socket, how fast it may talk, what its messages mean.

``attune.transport.connection`` moves the bytes; this decides. The ``Origin`` header is checked
*before* the handshake completes, because CORS does not cover WebSocket handshakes and a foreign
page could otherwise ride a facilitator's browser. Frames over 64 KiB close with 1009 and
permessage-deflate is never negotiated (no compression bombs, no per-socket zlib memory). Deadlines
are one sweep a second over all sockets rather than timers per socket: the handshake and ``hello``
are due within the hello timeout; a quiet client is pinged after 10-20 s (each socket draws its own
delay, so a room that joined together does not ping together) and dropped if nothing comes back
within the ping timeout.

What the endpoint keeps about a socket (its address, its rate-limit bucket, who it joined as)
is a ``Client`` here, never on the connection: the connection moves bytes for whoever listens.
"""

from __future__ import annotations

import asyncio
import contextlib
from functools import partial
from http import HTTPStatus
from urllib.parse import urlsplit

import msgspec

from attune.config import Settings
from attune.core import protocol as p
from attune.core.errors import CLOSE_HELLO_TIMEOUT, CLOSE_POLICY, BackendUnavailable, Refused
from attune.metrics import Count
from attune.node import Handled, Member, Node
from attune.transport.connection import Connection
from attune.transport.handshake import BadHandshake, Head, accept
from attune.transport.limits import AddressLimits
from attune.transport.outbox import Outgoing
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


class Client:
    """What the endpoint knows of one socket, from its handshake until it is lost."""

    __slots__ = ("address", "member", "pending", "strikes", "then", "tokens", "tokens_at")

    def __init__(self) -> None:
        self.address: str | None = None
        """The client's address while it counts against the per-address limit; never stored
        anywhere else."""
        self.member: Member | None = None
        """Who the node attached it as, once its ``hello`` was welcomed."""
        self.tokens = BURST
        self.tokens_at = 0.0
        """The message rate bucket: ``tokens`` left at ``tokens_at`` (the loop's clock, when the
        socket's data arrived)."""
        self.strikes = 0
        """Messages refused for flooding so far."""
        self.pending: p.ClientMessage | None = None
        """The message being handled: the connection hands over one at a time, and one whose
        handling goes on is refused by ``Endpoint._handled`` from here."""
        self.then: Handled | None = None
        """``Endpoint._handled`` for this socket, made once it joined rather than per message."""

    def take_token(self, now: float) -> bool:
        """Spend a token on a message; False (and a strike) if the bucket is empty."""
        self.tokens = min(BURST, self.tokens + (now - self.tokens_at) * RATE)
        self.tokens_at = now
        if self.tokens < 1:
            self.strikes += 1
            return False
        self.tokens -= 1
        return True


class Endpoint:
    """One per server process; every ``Connection`` reports to it (it is their ``Listener``)."""

    def __init__(self, node: Node, limits: AddressLimits, settings: Settings) -> None:
        self.node = node
        self.limits = limits
        self.settings = settings
        self.metrics = node.metrics
        self._counted: dict[type, Count] = {}
        """``attune_messages`` by message class, so counting one is a lookup and an addition."""
        self.proxies: TrustedProxies | None = None
        """Addresses whose ``X-Forwarded-For`` is believed: uvicorn's ``forwarded_allow_ips``, as
        for HTTP (set by ``configure`` when the first socket opens)."""
        self.max_size = 64 * 1024
        """Largest message a client may send (uvicorn's ``ws_max_size``): 1009 beyond."""
        self.ping_interval = 20.0
        self.ping_timeout = 20.0
        self.sockets: dict[Connection, Client] = {}
        self._hellos: set[asyncio.Task[None]] = set()
        """``hello``s under way (the loop keeps only weak references to tasks)."""
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

    # --- opening and closing (the Listener a Connection calls) -----------------------------

    def made(self, conn: Connection) -> None:
        self.sockets[conn] = Client()

    def handshake(self, conn: Connection, head: Head) -> bytes:
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
        client = self.sockets[conn]
        client.address = address
        client.tokens, client.tokens_at = BURST, conn.heard
        return response

    def _address(self, conn: Connection, headers: Head) -> str:
        address = conn.address
        if self.proxies is None:
            return address
        return self.proxies.client(address, headers.get_all("x-forwarded-for"))

    def lost(self, conn: Connection) -> None:
        client = self.sockets.pop(conn, None)
        if client is None:
            return
        if client.member is not None:
            self.node.detach(client.member)
        if client.address is not None:
            self.limits.disconnect(client.address)

    def closing(self, code: int) -> None:
        self.metrics.series(self.metrics.closes, str(code)).inc()

    async def _sweep(self) -> None:
        """Deadlines for every socket in one pass a second, rather than timers per socket."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(SWEEP)
            now = loop.time()
            hello_by = now - self.hello_timeout
            for conn, client in list(self.sockets.items()):
                if client.member is None:
                    if conn.arrived < hello_by and not conn.waiting:  # not mid-hello
                        # No ``hello`` in time: close with 4001, or drop an unfinished handshake.
                        conn.time_out(CLOSE_HELLO_TIMEOUT)
                else:
                    conn.keepalive(now, self.ping_timeout)

    # --- messages --------------------------------------------------------------------------

    def refuse(self, conn: Connection, client: Client, error: Refused,
               ref: str | None = None) -> None:
        self.metrics.series(self.metrics.errors, error.code).inc()
        conn.send(Outgoing(self.node.error(client.member, error, ref)))

    def received(self, conn: Connection, text: bool, data: bytes) -> bool:
        """One message from a client, decoded here and nowhere else. True when it has been
        handled; False when it goes on (a ``hello``, an append waiting for its batch), and the
        connection hears ``handled`` once it is."""
        client = self.sockets[conn]
        if not client.take_token(conn.heard):
            if client.strikes >= STRIKES:
                conn.close(CLOSE_POLICY)
            else:
                self.refuse(conn, client, Refused("rate-limited", "Too many messages; slow down."))
            return True
        try:
            if not text:
                raise msgspec.DecodeError("expected a JSON text frame, got binary")
            message = p.decode_client(data)
        except msgspec.DecodeError as exc:
            self.refuse(conn, client, Refused("malformed", str(exc)))
            return True
        counted = self._counted.get(type(message))
        if counted is None:
            tag = str(type(message).__struct_config__.tag)
            counted = self._counted[type(message)] = self.metrics.series(self.metrics.messages,
                                                                          tag)
        counted.value += 1
        client.pending = message
        then, member = client.then, client.member
        if then is None or member is None:
            # A ``hello`` waits for the backend more than once, and the Redis client's timeouts
            # need a current task: it gets one.
            task = asyncio.get_running_loop().create_task(self._hello_then(conn, client, message))
            self._hellos.add(task)
            task.add_done_callback(self._hellos.discard)
            return False
        try:
            return self.node.message(member, message, then)
        except Exception as error:
            if not self._refused(conn, client, message, error):
                raise  # a bug: the connection logs it and closes
            return True

    def _handled(self, conn: Connection, error: BaseException | None) -> None:
        """The message that went on (``Client.pending``) is done: refuse it if it must be, then
        the connection hands over the next."""
        client = self.sockets.get(conn)
        message = None
        if client is not None:
            message, client.pending = client.pending, None
        if error is None or client is None or (
                message is not None and self._refused(conn, client, message, error)):
            conn.handled()
        else:
            conn.handled(error)

    def _refused(self, conn: Connection, client: Client, message: p.ClientMessage,
                 error: BaseException) -> bool:
        """Tell the client why its message was refused; False for an error that is a bug
        (the connection logs it and closes)."""
        if isinstance(error, Refused):
            ref = getattr(message, "ref", None) or getattr(message, "submission", None)
            self.refuse(conn, client, error, ref)
        elif isinstance(error, (BackendUnavailable, TimeoutError, OSError)):
            self.refuse(conn, client, UNAVAILABLE)
        else:
            return False
        return True

    async def _hello_then(self, conn: Connection, client: Client,
                          message: p.ClientMessage) -> None:
        error: Exception | None = None
        try:
            await self._hello(conn, client, message)
        except Exception as failed:
            error = failed
        finally:  # cancelled too: the socket's loss must still be reported
            if client.member is not None:
                client.then = partial(self._handled, conn)
            self._handled(conn, error)

    async def _hello(self, conn: Connection, client: Client, message: p.ClientMessage) -> None:
        if not isinstance(message, p.Hello):
            raise Refused("not-joined", "The first message must be hello.")
        address = client.address or ""
        if not self.limits.may_join(address):
            self.limits.join_failed(address)
            self.refuse(conn, client, Refused("rate-limited",
                                              "Too many failed joins; wait a minute."))
            conn.close(CLOSE_POLICY)
            return
        try:
            client.member = await self.node.hello(conn, message)
        except Refused as error:
            if error.code in ("unknown-session", "bad-token"):
                self.limits.join_failed(address)
            raise
