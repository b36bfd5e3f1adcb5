"""The WebSocket opening handshake (RFC 6455 section 4.2): a request head read, checked and
answered.

``websockets`` parses a handshake with a generator step per line, builds a case-insensitive
header map and validates it with regular expressions, then keeps the request alive inside its
parser for as long as the socket is open: about 150 us of CPU and a dozen objects for the cyclic
collector per phone, a third of what a reconnect storm of 10,000 cost (measured, see
"Optimisation log" in ``docs/benchmarks.md``). A phone's handshake is a few hundred bytes in one
read, so here it is split once, the handful of headers the server reads are checked, and the
answer is a fixed string. ``websockets`` takes over for the frames once the socket is open.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from http import HTTPStatus

MAX_HEAD = 16 * 1024
"""A request head larger than this is refused (431); a browser's is under 1 KiB."""
END = b"\r\n\r\n"
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_SEPARATORS = frozenset(' \t"(),/:;<=>?@[\\]{}')


class BadHandshake(Exception):
    """A request that does not open a WebSocket, and the HTTP answer that says why."""

    def __init__(self, status: HTTPStatus, reason: str, headers: str = "") -> None:
        super().__init__(reason)
        body = f"Failed to open a WebSocket connection: {reason}.\n".encode()
        self.status = status
        self.response = (
            f"HTTP/1.1 {status.value} {status.phrase}\r\n{headers}"
            f"Content-Type: text/plain; charset=utf-8\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        ).encode() + body


@dataclass(frozen=True, slots=True)
class Head:
    """A request line and its header fields, names lower-cased, every value kept in order."""

    method: str
    target: str
    fields: dict[str, list[str]]

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    def get_all(self, name: str) -> list[str]:
        return self.fields.get(name, [])


def parse(head: bytes) -> Head:
    """A request head up to and including its blank line (``END``)."""
    lines = head.decode("latin-1").split("\r\n")[:-2]
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise BadHandshake(HTTPStatus.BAD_REQUEST, "malformed request line")
    method, target, version = parts
    if version != "HTTP/1.1":
        raise BadHandshake(HTTPStatus.BAD_REQUEST, "a WebSocket handshake is HTTP/1.1")
    fields: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or not _SEPARATORS.isdisjoint(name) or not name.isascii():
            raise BadHandshake(HTTPStatus.BAD_REQUEST, "malformed header line")
        fields.setdefault(name.lower(), []).append(value.strip(" \t"))
    return Head(method, target, fields)


def _tokens(head: Head, name: str) -> list[str]:
    return [t.strip(" \t").lower() for value in head.get_all(name) for t in value.split(",")]


def accept(head: Head) -> bytes:
    """The 101 response that opens the WebSocket, if ``head`` asks for one correctly. No
    extension (compression) and no subprotocol is ever agreed."""
    if head.method != "GET":
        raise BadHandshake(HTTPStatus.METHOD_NOT_ALLOWED, "a WebSocket opens with GET",
                           "Allow: GET\r\n")
    if "upgrade" not in _tokens(head, "connection") or "websocket" not in _tokens(head, "upgrade"):
        raise BadHandshake(HTTPStatus.UPGRADE_REQUIRED,
                           "this address is Attune's WebSocket endpoint, not a page",
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n")
    if head.get_all("sec-websocket-version") != ["13"]:
        raise BadHandshake(HTTPStatus.UPGRADE_REQUIRED, "only WebSocket version 13 is spoken",
                           "Sec-WebSocket-Version: 13\r\n")
    keys = head.get_all("sec-websocket-key")
    try:
        if len(keys) != 1 or len(base64.b64decode(keys[0], validate=True)) != 16:
            raise ValueError
    except ValueError:  # binascii.Error is one
        raise BadHandshake(HTTPStatus.BAD_REQUEST, "invalid Sec-WebSocket-Key") from None
    digest = base64.b64encode(hashlib.sha1(keys[0].encode() + _GUID).digest())
    return (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + digest + END)
