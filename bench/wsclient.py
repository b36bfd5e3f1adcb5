"""A lean WebSocket client for load: a non-blocking socket, one reader callback, no tasks.

Ten thousand of these must not cost more CPU than the server they measure, so each one is a plain
socket registered with the event loop's selector (``loop.add_reader``) and a hand-written frame
parser. The opening handshake is a fixed request; the ``Sec-WebSocket-Accept`` reply is not
checked (the server under test is trusted). Client frames use an all-zero masking key: RFC 6455
section 5.3 requires a mask but lets the client pick it, and a zero key leaves the payload as is,
so sending costs one header and one ``send``.

Latency is taken from the kernel: every socket asks for ``SO_TIMESTAMPNS``, so each read carries
the wall-clock time the data reached the socket's receive queue. That is the moment the server's
write was delivered, independent of how long this process took to get around to reading it; the
time this process read it is kept too (``app``), to show how far behind the clients were.

Observers receive parsed events; they decide what to record. Only the fields the benchmark needs
are extracted, by substring search for the hot frames (``step``) and with msgspec for the rare
ones (``welcome``, ``results``, ``error``).
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct
import time
from typing import Protocol

import msgspec

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
"""Linux value; Python's socket module does not export it."""
SCM_TIMESTAMPNS = SO_TIMESTAMPNS
ANCILLARY = socket.CMSG_SPACE(16)
READ_SIZE = 262_144
SLOW_RCVBUF = 4096
"""Receive buffer of the clients that play slow phones (the kernel doubles it)."""

ZERO_MASK = b"\x00\x00\x00\x00"
OP_TEXT, OP_CLOSE, OP_PING, OP_PONG = 1, 8, 9, 10

STEP_PREFIXES = (b'{"type":"step"', b'42["step"')
"""A step event from Attune and the raw peers, and a socket.io ``step`` event."""
SOCKETIO_PATH = "/socket.io/?EIO=4&transport=websocket"


class Probe(msgspec.Struct):
    """The fields of Attune's rarer server messages that the benchmark reads."""

    type: str
    seq: int = 0
    epoch: str = ""
    token: str | None = None
    replay: bool = False
    count: int = 0
    step: int | dict[str, object] = 0
    code: str = ""


probe_decoder = msgspec.json.Decoder(Probe)
ACK = Probe(type="ack")


class Observer(Protocol):
    def on_open(self, client: Client) -> None: ...
    def on_step(self, client: Client, seq: int, started_at: float, kernel: float,
                app: float) -> None: ...
    def on_message(self, client: Client, probe: Probe, kernel: float) -> None: ...
    def on_close(self, client: Client, code: int | None) -> None: ...


def frame(payload: bytes, opcode: int = OP_TEXT) -> bytes:
    """A masked client frame (zero key) carrying ``payload``."""
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return header + ZERO_MASK + payload


def _number_after(payload: bytes, key: bytes) -> float:
    i = payload.find(key)
    if i < 0:
        return 0.0
    i += len(key)
    end = i
    n = len(payload)
    while end < n and payload[end] not in b",}]":
        end += 1
    return float(payload[i:end])


class Client:
    """One WebSocket connection. ``kind`` is ``attune``, ``raw`` or ``socketio``."""

    __slots__ = (
        "_buf", "_handshaking", "_out", "_writing", "close_code", "epoch", "index", "kind", "loop",
        "observer", "open", "opened", "paused", "seq", "slow", "sock", "token", "welcomed",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop, observer: Observer, kind: str,
                 index: int = 0, slow: bool = False) -> None:
        self.loop = loop
        self.observer = observer
        self.kind = kind
        self.index = index
        self.slow = slow
        self.sock: socket.socket | None = None
        self._buf = b""
        self._out = b""
        self._writing = False
        self._handshaking = True
        self.open = False
        self.paused = False
        self.opened: asyncio.Future[None] = loop.create_future()
        self.welcomed: asyncio.Future[float] = loop.create_future()
        self.close_code: int | None = None
        self.seq = 0
        self.epoch = ""
        self.token: str | None = None

    async def connect(self, host: str, port: int, path: str, source: str = "127.0.0.1") -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.slow:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SLOW_RCVBUF)
        sock.bind((source, 0))
        self.sock = sock
        try:
            await self.loop.sock_connect(sock, (host, port))
        except OSError:
            self.abort()
            raise
        self.loop.add_reader(sock.fileno(), self._readable)
        key = base64.b64encode(os.urandom(16)).decode()
        self._write((
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode())
        await self.opened

    # --- writing -------------------------------------------------------------------------------

    def send(self, payload: bytes) -> None:
        if self.open:
            self._write(frame(payload))

    def _write(self, data: bytes) -> None:
        if self.sock is None:
            return
        if self._out:
            self._out += data
            return
        try:
            sent = self.sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._lost(None)
            return
        if sent < len(data):
            self._out = data[sent:]
            self.loop.add_writer(self.sock.fileno(), self._writable)

    def _writable(self) -> None:
        assert self.sock is not None
        try:
            sent = self.sock.send(self._out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._lost(None)
            return
        self._out = self._out[sent:]
        if not self._out:
            self.loop.remove_writer(self.sock.fileno())

    # --- reading -------------------------------------------------------------------------------

    def pause(self) -> None:
        """Stop reading: the kernel buffers fill and the server sees a slow consumer."""
        if self.sock is not None and not self.paused:
            self.loop.remove_reader(self.sock.fileno())
            self.paused = True

    def resume(self) -> None:
        if self.sock is not None and self.paused:
            self.loop.add_reader(self.sock.fileno(), self._readable)
            self.paused = False

    def _readable(self) -> None:
        sock = self.sock
        if sock is None:
            return
        try:
            data, ancillary, _, _ = sock.recvmsg(READ_SIZE, ANCILLARY)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._lost(None)
            return
        app = time.time() * 1000
        if not data:
            self._lost(None)
            return
        kernel = app
        for level, kind, cdata in ancillary:
            if level == socket.SOL_SOCKET and kind == SCM_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", cdata[:16])
                kernel = sec * 1000 + nsec / 1e6
        if self._buf:
            data = self._buf + data
            self._buf = b""
        if self._handshaking:
            end = data.find(b"\r\n\r\n")
            if end < 0:
                self._buf = data
                return
            status = data[:end].split(b"\r\n", 1)[0]
            if b" 101 " not in status:
                self._fail(ConnectionRefusedError(status.decode(errors="replace")))
                return
            self._handshaking = False
            self.open = True
            data = data[end + 4:]
            if self.kind != "socketio":
                self._opened()
        self._frames(data, kernel, app)

    def _opened(self) -> None:
        if not self.opened.done():
            self.opened.set_result(None)
        self.observer.on_open(self)

    def _frames(self, data: bytes, kernel: float, app: float) -> None:
        i, n = 0, len(data)
        while n - i >= 2:
            b0, b1 = data[i], data[i + 1] & 0x7F
            head = 2
            if b1 == 126:
                if n - i < 4:
                    break
                b1 = int.from_bytes(data[i + 2:i + 4], "big")
                head = 4
            elif b1 == 127:
                if n - i < 10:
                    break
                b1 = int.from_bytes(data[i + 2:i + 10], "big")
                head = 10
            if n - i < head + b1:
                break
            payload = data[i + head:i + head + b1]
            i += head + b1
            opcode = b0 & 0x0F
            if opcode == OP_TEXT:
                self._text(payload, kernel, app)
            elif opcode == OP_PING:
                self._write(frame(payload, OP_PONG))
            elif opcode == OP_CLOSE:
                code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                self._lost(code)
                return
        if i < n:
            self._buf = data[i:]

    def _text(self, payload: bytes, kernel: float, app: float) -> None:
        if payload.startswith(STEP_PREFIXES):
            seq = int(_number_after(payload, b'"seq":'))
            self.seq = max(self.seq, seq)
            self.observer.on_step(self, seq, _number_after(payload, b'"started_at":'), kernel, app)
            return
        if self.kind == "socketio":
            if payload == b"2":
                self._write(frame(b"3"))
            elif payload.startswith(b"0{"):
                self._write(frame(b"40"))
            elif payload.startswith(b"40"):
                self._opened()
            return
        if self.kind != "attune":
            if payload.startswith(b'{"type":"ack"'):
                self.observer.on_message(self, ACK, kernel)
            return
        probe = probe_decoder.decode(payload)
        if probe.type == "welcome":
            self.seq = probe.seq
            self.epoch = probe.epoch
            if probe.token is not None:
                self.token = probe.token
            if not self.welcomed.done():
                self.welcomed.set_result(kernel)
        elif probe.seq > self.seq:  # a groups event, say: the highest seq seen, as for steps
            self.seq = probe.seq
        self.observer.on_message(self, probe, kernel)

    # --- closing -------------------------------------------------------------------------------

    def abort(self) -> None:
        """Drop the connection with a TCP reset: no closing handshake, no TIME_WAIT left behind,
        as when a phone loses its network."""
        sock, self.sock = self.sock, None
        self.open = False
        if sock is None:
            return
        if sock.fileno() >= 0:
            self.loop.remove_reader(sock.fileno())
            self.loop.remove_writer(sock.fileno())
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()

    def _fail(self, exc: BaseException) -> None:
        self.abort()
        for future in (self.opened, self.welcomed):
            if not future.done():
                future.set_exception(exc)
                future.exception()  # retrieved: nobody may be waiting any more

    def _lost(self, code: int | None) -> None:
        if self.close_code is None:
            self.close_code = code if code is not None else 1006
        was_open = self.sock is not None
        self._fail(ConnectionResetError(f"closed with {self.close_code}"))
        if was_open:
            self.observer.on_close(self, code)
