"""A fast path for the frames phones send most: whole, masked, final text frames.

An answer is one small text frame. ``websockets``' sans-I/O parser reads each through a chain of
generators (about a tenth of an answer's CPU in the profiles of ``docs/benchmarks.md``), so the
``Splitter`` cuts the incoming bytes at frame boundaries itself: a complete, masked, final text
frame whose payload is valid UTF-8 becomes a message here; every other frame (control frames,
fragments, binary frames, anything malformed) is handed to ``websockets`` whole and in order, so
its parser always starts at a frame boundary and keeps every rule it enforces (close codes 1002,
1007 and 1009, the closing handshake, pings). Once a frame is too large or its header cannot be
trusted, everything from there on goes to ``websockets`` untouched.
"""

from __future__ import annotations

from typing import Final

ZERO_MASK: Final = b"\x00\x00\x00\x00"
FIN_TEXT: Final = 0x81
MASKED: Final = 0x80


def unmask(payload: bytes, mask: bytes) -> bytes:
    """RFC 6455 section 5.3: XOR with the 4-byte masking key, repeated."""
    if mask == ZERO_MASK or not payload:
        return payload
    n = len(payload)
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(payload, "big") ^ key).to_bytes(n, "big")


class Splitter:
    """Frame boundaries of one client's byte stream. ``feed`` returns, in order, ``(True,
    payload)`` for each text message it decoded and ``(False, raw)`` for bytes that must go to
    ``websockets``; an incomplete frame at the end waits for the next ``feed``."""

    __slots__ = ("_fragmented", "_rest", "passthrough")

    def __init__(self) -> None:
        self._rest = b""
        self._fragmented = False
        """A fragmented message is under way (``websockets`` assembles it)."""
        self.passthrough = False
        """Everything goes to ``websockets`` from now on."""

    def feed(self, data: bytes, max_size: int) -> list[tuple[bool, bytes]]:
        if self.passthrough:
            return [(False, data)]
        n = len(data)
        if n > 5 and data[0] == FIN_TEXT and not self._rest and not self._fragmented \
                and data[1] - MASKED == n - 6 and n - 6 < 126 and n - 6 <= max_size:
            # The common read, one whole small masked text frame: what the loop below would
            # make of it, without the loop.
            payload = unmask(data[6:], data[2:6])
            if payload.isascii() or _utf8(payload):
                return [(True, payload)]
        if self._rest:
            data = self._rest + data
            self._rest = b""
        out: list[tuple[bool, bytes]] = []
        i, n = 0, len(data)
        while n - i >= 2:
            b0, b1 = data[i], data[i + 1]
            length = b1 & 0x7F
            head = 2
            if length == 126:
                head = 4
                if n - i < head:
                    break
                length = int.from_bytes(data[i + 2:i + 4], "big")
            elif length == 127:
                head = 10
                if n - i < head:
                    break
                length = int.from_bytes(data[i + 2:i + 10], "big")
            masked = b1 & MASKED
            if length > max_size or not masked:
                # Too large, or not a client frame: ``websockets`` says so and closes.
                self.passthrough = True
                out.append((False, data[i:]))
                return out
            end = i + head + 4 + length
            if end > n:
                break
            opcode = b0 & 0x0F
            if b0 == FIN_TEXT and not self._fragmented:
                payload = unmask(data[i + head + 4:end], data[i + head:i + head + 4])
                if payload.isascii() or _utf8(payload):
                    out.append((True, payload))
                    i = end
                    continue
            elif opcode in (1, 2) and not b0 & 0x80:
                self._fragmented = True
            elif opcode == 0 and b0 & 0x80:
                self._fragmented = False
            out.append((False, data[i:end]))
            i = end
        if i < n:
            self._rest = data[i:]
        return out


def _utf8(payload: bytes) -> bool:
    try:
        payload.decode()
    except UnicodeDecodeError:
        return False
    return True
