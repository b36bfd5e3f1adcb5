"""One client socket from its WebSocket handshake on: frames in, frames out.

uvicorn accepts the TCP connection and hands it here (``attune.transport.uvicorn_glue``) when it
asks for ``/ws``. The handshake is answered by ``attune.transport.handshake``; after it the
``websockets`` library's sans-I/O ``ServerProtocol`` parses frames and handles control frames, the
closing handshake and the 64 KiB limit, and ``attune.transport.outbox`` decides what is written
when. There is no ASGI between the socket and the node: measured in ``bench/`` (see
``docs/benchmarks.md``), the ASGI scope, receive queue and task per socket cost about 20 KiB per
idle phone and most of the time a resume takes. A socket here is this object, its outbox, the
``websockets`` parser and asyncio's transport; its messages are handled in its read callback, and
one that must wait for the store waits as a callback, not a task (only a ``hello`` has one).

A connection knows nothing of who its client is or how fast it may talk: it reports to a
``Listener`` (``attune.transport.ws.Endpoint``), which decides what the bytes mean.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
from collections import deque
from http import HTTPStatus
from typing import Any, Protocol, cast

from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.server import ServerProtocol

from attune.core.errors import CLOSE_GOING_AWAY, CLOSE_INTERNAL, CLOSE_TOO_SLOW
from attune.transport import handshake
from attune.transport.frames import Splitter
from attune.transport.outbox import Outbox, Outgoing

READ_AHEAD = 4
"""Messages a socket may have waiting for the node before reading from it pauses (4 x 64 KiB)."""
SEND_BUFFER = 64 * 1024
"""Kernel send buffer per socket. Left to autotune, a phone that stops reading can pin 4 MiB
of kernel memory until its ping times out; frames are small, so 64 KiB costs nothing."""
WRITE_BUFFER = 16 * 1024
"""Bytes asyncio may hold for a socket whose kernel buffer is full before the socket counts as
paused and its events queue in its outbox instead (as shared ``Outgoing`` objects, not copies).
asyncio's default, 64 KiB, made 500 stalled phones cost 35 MB of copies at 10,000 participants."""
CLOSE_TIMEOUT = 10.0
"""Seconds a client has to answer our close frame before the socket is dropped."""

_log = logging.getLogger("attune.ws")
_frames_log = logging.getLogger("attune.ws.frames")
_frames_log.setLevel(logging.WARNING)
"""``websockets`` logs every frame's content at DEBUG: answers must never reach a log, so its
logger stays above DEBUG whatever the root logger says."""


class Listener(Protocol):
    """What a connection calls on whoever decides what its socket means."""

    max_size: int
    """Largest message a client may send: 1009 beyond."""
    ping_interval: float
    """A quiet client is pinged after 0.5 to 1 times this many seconds."""

    def made(self, conn: Connection) -> None:
        """A socket was handed over; its handshake and first message are due."""

    def handshake(self, conn: Connection, head: handshake.Head) -> bytes:
        """The 101 response to a request head, or ``BadHandshake`` saying why not."""

    def received(self, conn: Connection, text: bool, data: bytes) -> bool:
        """One whole message, in the order they came, in the socket's read callback. True when
        it has been handled; False when its handling goes on, and ``conn.handled`` will be
        called once it is (never before this returns). The next message waits until then."""

    def lost(self, conn: Connection) -> None:
        """The socket is gone, and every message it brought has been handled."""

    def closing(self, code: int) -> None:
        """The connection closes (or refused a handshake) with ``code``, for the metrics."""


class Connection(asyncio.Protocol):
    """A socket's frames, its inbox and its outbox. uvicorn constructs it (through
    ``uvicorn_glue.websocket``) and its ``Listener`` decides what it means."""

    __slots__ = (
        "_fragments",
        "_head",
        "_server_connections",
        "arrived",
        "closing",
        "frames",
        "heard",
        "inbox",
        "listener",
        "loop",
        "lost",
        "outbox",
        "ping_after",
        "pinged",
        "taking",
        "timer",
        "transport",
        "waiting",
        "ws",
    )

    def __init__(self, listener: Listener, server_connections: set[Any]) -> None:
        self.listener = listener
        self._server_connections = server_connections
        """The server's live protocols: it tells each to ``shutdown`` and waits for the set to
        empty."""
        self.ws: ServerProtocol | None = None
        """Frames once the handshake has opened the socket; ``None`` before."""
        self.taking = False
        """``websockets``' state was OPEN when last looked at: its state changes only when it
        is fed or sends a close frame, so it is read then and not on every read."""
        self._head = b""
        """The request head while it arrives."""
        self.transport: asyncio.Transport | None = None
        self.outbox = Outbox()
        self.closing: int | None = None
        """The code this side is closing with, once it is."""
        self.lost = False
        self.inbox: deque[tuple[bool, bytes]] | None = None
        self.waiting = False
        """A message's handling goes on (the listener calls ``handled``); the rest wait."""
        self.timer: asyncio.TimerHandle | None = None
        """The deadline for the closing handshake."""
        self.arrived = 0.0
        """When the socket was handed over: handshake and ``hello`` are due within the hello
        timeout (the listener checks)."""
        self.heard = 0.0
        self.pinged = 0.0
        self.ping_after = 0.0
        self._fragments: list[bytes] | None = None
        self.frames = Splitter()
        """Cuts the bytes at frame boundaries; small text frames skip ``websockets``' parser."""

    @property
    def open(self) -> bool:
        """The handshake is done and neither side has started closing."""
        return self.ws is not None and self.ws.state is State.OPEN

    @property
    def address(self) -> str:
        """The address the socket comes from (a proxy's, behind one)."""
        assert self.transport is not None
        peer = self.transport.get_extra_info("peername")
        return str(peer[0]) if peer else ""

    # --- asyncio protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's TCPTransport has every method of asyncio.Transport but is not a subclass.
        self.transport = transport = cast(asyncio.Transport, transport)
        self._server_connections.add(self)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        transport.set_write_buffer_limits(high=WRITE_BUFFER)
        self.loop = asyncio.get_running_loop()
        """Kept: ``asyncio.get_running_loop()`` costs a ``getpid`` system call every time."""
        self.arrived = self.heard = self.loop.time()
        self.listener.made(self)

    def data_received(self, data: bytes) -> None:
        try:
            self._received(data)
        except Exception:
            # A bug must cost this socket, not the log's sanity or the process's bookkeeping.
            _log.exception("unexpected error reading a WebSocket")
            self.outbox.end()
            if self.transport is not None:
                self.transport.abort()

    def _received(self, data: bytes) -> None:
        self.heard = self.loop.time()
        self.pinged = 0.0
        ws = self.ws
        if ws is None:
            data = self._handshake(data)
            ws = self.ws
            if ws is None or not data:
                return
        taking = self.taking
        failed: Exception | None = None
        fed = False
        for decoded, chunk in self.frames.feed(data, self.listener.max_size):
            if decoded:
                if not taking:
                    continue
                if self.inbox or self.waiting:
                    self._message(True, chunk)
                elif self.closing is None:
                    self._handle(True, chunk)  # nothing waits before it: no queue
                continue
            if not fed:
                failed = ws.parser_exc
                fed = True
            ws.receive_data(chunk)
            for event in ws.events_received():
                if isinstance(event, Frame):
                    self._frame(event)
            taking = self.taking = ws.state is State.OPEN
        if fed:
            # Only ``websockets`` can have changed state or have something to say.
            if not taking:
                # The client closed, or broke the protocol: nothing more may be written but
                # what ``websockets`` has to say. Messages already received are still handled.
                self.outbox.end()
            elif self.outbox.paused:
                ws.data_to_send()  # pongs to a client that is not reading anyway are dropped
            self._flush_protocol()
            if failed is None and ws.parser_exc is not None and ws.close_sent is not None:
                self.listener.closing(ws.close_sent.code)
        if self.inbox and not self.waiting and self.closing is None:
            self._hand_over()

    def eof_received(self) -> bool | None:
        return None  # the transport closes itself

    def pause_writing(self) -> None:
        self.outbox.pause()

    def resume_writing(self) -> None:
        self.outbox.resume()
        self._drain()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.outbox.end()
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self._server_connections.discard(self)
        if self.ws is not None:
            # The parser is a generator that refers to its protocol. Ended, the socket's objects
            # are freed now rather than by the cyclic collector (10,000 at once in a storm).
            self.ws.parser.close()
        if not self.waiting:
            self.listener.lost(self)
        # else the messages already received are still handled (an answer that arrived is
        # never dropped, nor a `leave` sent just before closing), and ``handled`` reports it.

    def shutdown(self) -> None:
        """uvicorn is shutting down: tell the client to come back (another node resumes it)."""
        if self.open:
            self.close(CLOSE_GOING_AWAY)
        elif self.transport is not None:
            self.transport.close()

    # --- opening ---------------------------------------------------------------------------

    def _handshake(self, data: bytes) -> bytes:
        """Read the request head; once it is complete, answer it. Returns what followed it."""
        assert self.transport is not None
        head = self._head + data
        end = head.find(handshake.END)
        if end < 0:
            if len(head) > handshake.MAX_HEAD:
                self._refuse(handshake.BadHandshake(
                    HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "request head too large"))
            else:
                self._head = head
            return b""
        end += len(handshake.END)
        self._head = b""
        try:
            if end > handshake.MAX_HEAD:
                raise handshake.BadHandshake(
                    HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "request head too large")
            response = self.listener.handshake(self, handshake.parse(head[:end]))
        except handshake.BadHandshake as refusal:
            self._refuse(refusal)
            return b""
        self.ws = ServerProtocol(state=State.OPEN, max_size=self.listener.max_size,
                                 logger=_frames_log)
        self.taking = True
        self.transport.write(response)
        self.outbox.opened()
        self.ping_after = random.uniform(0.5, 1.0) * self.listener.ping_interval
        return head[end:]

    def _refuse(self, refusal: handshake.BadHandshake) -> None:
        assert self.transport is not None
        self._head = b""
        self.listener.closing(refusal.status.value)
        self.transport.write(refusal.response)
        self.transport.close()

    # --- receiving -------------------------------------------------------------------------

    def _frame(self, event: Frame) -> None:
        opcode = event.opcode
        if opcode is Opcode.TEXT or opcode is Opcode.BINARY:
            if event.fin:
                self._message(opcode is Opcode.TEXT, bytes(event.data))
            else:
                self._fragments = [bytes([opcode is Opcode.TEXT]), bytes(event.data)]
        elif opcode is Opcode.CONT and self._fragments is not None:
            self._fragments.append(bytes(event.data))
            if event.fin:
                first, *parts = self._fragments
                self._fragments = None
                self._message(first == b"\x01", b"".join(parts))
        # Pings are answered by ``websockets`` (the pong is in its output); pongs and any other
        # frame already proved the client alive in ``data_received``; a close is echoed.

    def _message(self, text: bool, data: bytes) -> None:
        if self.closing is not None:
            return  # the server is closing this socket: it said why, and takes no more
        if self.inbox is None:
            self.inbox = deque()
        self.inbox.append((text, data))
        if len(self.inbox) >= READ_AHEAD and self.transport is not None:
            self.transport.pause_reading()

    def _hand_over(self) -> None:
        """Hand the waiting messages to the listener one at a time, in order, until one must
        wait (``handled`` then goes on from there)."""
        inbox = self.inbox
        assert inbox is not None and self.transport is not None
        while inbox and self.closing is None and not self.waiting:
            text, data = inbox.popleft()
            if len(inbox) == READ_AHEAD - 1 and not self.lost:
                self.transport.resume_reading()
            self._handle(text, data)

    def _handle(self, text: bool, data: bytes) -> None:
        """One message to the listener, in this callback; one whose handling must wait (a
        ``hello``, an answer waiting for its SQLite or Redis batch) holds the rest back until
        ``handled``. No task or coroutine per socket or per message: an answer folded into the
        memory backend's log is acknowledged here, and one that waits is a callback (measured
        in ``bench/``, docs/benchmarks.md)."""
        try:
            if not self.listener.received(self, text, data):
                self.waiting = True
        except Exception:
            _log.exception("unexpected error handling a client message")
            self.close(CLOSE_INTERNAL)

    def handled(self, failure: BaseException | None = None) -> None:
        """The message whose handling went on is done (``failure``: the bug it ran into, which
        closes the socket): hand over the messages behind it, or report the socket lost."""
        self.waiting = False
        if failure is not None:
            _log.error("unexpected error handling a client message", exc_info=failure)
            self.close(CLOSE_INTERNAL)
        if self.inbox and self.closing is None:
            self._hand_over()  # even once the socket is gone: what arrived is still handled
        if self.lost and not self.waiting:
            self.listener.lost(self)

    # --- sending ---------------------------------------------------------------------------

    def send(self, message: Outgoing) -> None:
        """Send a message that must arrive (events, replies), in order. The fan-out fast path:
        a ready socket is written at once, with the frame every other socket shares."""
        if self.outbox.ready:
            self.transport.write(message.frame)  # type: ignore[union-attr]
        elif not self.outbox.queue(message):
            self.close(CLOSE_TOO_SLOW)

    def push(self, kind: str, message: Outgoing) -> None:
        """Send the latest state of a kind; an unsent older one is replaced."""
        if self.outbox.ready:
            self.transport.write(message.frame)  # type: ignore[union-attr]
        else:
            self.outbox.keep(kind, message)

    def _drain(self) -> None:
        """The socket takes data again: write what the outbox says is due; then, if closing,
        the close frame."""
        transport = self.transport
        assert transport is not None
        if self.lost or not self.open:
            return
        for message in self.outbox.due():
            transport.write(message.frame)
        if self.closing is not None and not self.outbox.paused and not self.lost:
            self._send_close()

    def _flush_protocol(self) -> None:
        """Write what ``websockets`` has to say (handshake, pongs, close frames); an empty chunk
        is its signal to end the TCP connection."""
        assert self.transport is not None and self.ws is not None
        chunks = self.ws.data_to_send()
        if chunks:
            self.transport.write(b"".join(chunks))
            if not chunks[-1]:
                self.transport.close()

    # --- closing ---------------------------------------------------------------------------

    def close(self, code: int) -> None:
        """Close after sending what is queued (the client should learn why), unless the client
        is too slow to take it."""
        if self.closing is not None or self.transport is None:
            return
        self.closing = code
        self.listener.closing(code)
        if code == CLOSE_TOO_SLOW:
            # Its buffers are full: a close frame would never be read. Drop it now.
            self.outbox.close(hopeless=True)
            self.transport.abort()
            return
        self.outbox.close()
        # Whether or not the socket drains and the client answers, it is gone by then.
        loop = asyncio.get_running_loop()
        self.timer = loop.call_later(CLOSE_TIMEOUT, self.transport.abort)
        if not self.outbox.paused:
            self._drain()

    def time_out(self, code: int) -> None:
        """A deadline passed before the client said what it is: close with ``code`` if the
        socket is open, or drop a handshake that never finished."""
        if self.closing is not None:
            return
        if self.open:
            self.close(code)
        elif self.transport is not None:
            self.transport.abort()

    def _send_close(self) -> None:
        assert self.transport is not None
        if self.ws is None or self.ws.state is not State.OPEN:
            return
        self.ws.send_close(self.closing)
        self.taking = self.ws.state is State.OPEN
        self._flush_protocol()
        self.transport.resume_reading()  # the client's close frame must be read

    def keepalive(self, now: float, timeout: float) -> None:
        """Ping a client that has been quiet a while; drop one that did not answer in time."""
        if self.closing is not None or self.lost or not self.open:
            return
        assert self.transport is not None and self.ws is not None
        if self.pinged:
            if now - self.pinged > timeout:
                self.closing = CLOSE_INTERNAL
                self.outbox.close(hopeless=True)
                self.listener.closing(CLOSE_INTERNAL)
                self.transport.abort()  # the client is gone; nothing written would arrive
        elif now - self.heard > self.ping_after:
            self.pinged = now
            self.ws.send_ping(b"")
            self._flush_protocol()
