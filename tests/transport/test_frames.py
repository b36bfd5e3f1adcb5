"""The frame splitter: small text frames become messages, every other frame reaches
``websockets`` whole and in order, and the bytes of a frame split over reads wait for the rest."""

from __future__ import annotations

import os
import struct

from attune.transport.frames import Splitter, unmask

MAX = 64 * 1024


def frame(payload: bytes, opcode: int = 1, fin: bool = True, mask: bytes | None = None) -> bytes:
    """A client frame as a browser sends it: masked with a random key."""
    mask = os.urandom(4) if mask is None else mask
    n = len(payload)
    first = (0x80 if fin else 0) | opcode
    if n < 126:
        head = struct.pack("!BB", first, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", first, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", first, 0x80 | 127, n)
    return head + mask + unmask(payload, mask)


def test_small_and_medium_text_frames_are_decoded_with_any_mask() -> None:
    answer = b'{"type":"answer","step":4,"submission":"a","value":{"kind":"scale","value":3}}'
    text = "élan 你好 " * 40
    story = ('{"type":"answer","value":{"kind":"text","text":"' + text + '"}}').encode()
    splitter = Splitter()
    data = frame(answer) + frame(story) + frame(answer, mask=b"\x00\x00\x00\x00")
    assert splitter.feed(data, MAX) == [(True, answer), (True, story), (True, answer)]


def test_control_frames_and_fragments_go_to_websockets_in_order() -> None:
    ping, first, last = frame(b"hi", opcode=9), frame(b'{"a":', fin=False), frame(b"1}", 0)
    text = frame(b'{"type":"ping","t":1}')
    splitter = Splitter()
    out = splitter.feed(text + ping + first + text + last + text, MAX)
    # Inside a fragmented message a text frame is a protocol error that websockets must see.
    assert out == [(True, b'{"type":"ping","t":1}'), (False, ping), (False, first),
                   (False, text), (False, last), (True, b'{"type":"ping","t":1}')]


def test_a_frame_split_over_reads_waits_for_the_rest() -> None:
    data = frame(b'{"type":"ping","t":1}') * 2
    splitter = Splitter()
    got = []
    for i in range(len(data)):
        got += splitter.feed(data[i:i + 1], MAX)
    assert got == [(True, b'{"type":"ping","t":1}')] * 2


def test_invalid_utf8_binary_unmasked_and_oversized_frames_are_left_to_websockets() -> None:
    bad = frame(b"\xff\xfe")
    binary = frame(b"\x00\x01", opcode=2)
    assert Splitter().feed(bad + binary, MAX) == [(False, bad), (False, binary)]
    unmasked = b"\x81\x02hi" + frame(b"{}")
    splitter = Splitter()
    assert splitter.feed(unmasked, MAX) == [(False, unmasked)]
    assert splitter.passthrough and splitter.feed(b"more", MAX) == [(False, b"more")]
    huge = frame(b"x" * 70_000)
    assert Splitter().feed(huge[:100], MAX) == [(False, huge[:100])]


def test_one_frame_per_read_takes_the_same_rules() -> None:
    """A read holding exactly one small text frame (an answer's usual read) has a shortcut:
    the same messages come out of it as from the loop, whatever the frame."""
    answer = b'{"type":"answer","step":4,"submission":"a","value":{"kind":"scale","value":3}}'
    splitter = Splitter()
    assert splitter.feed(frame(answer), MAX) == [(True, answer)]
    assert splitter.feed(frame("élan".encode()), MAX) == [(True, "élan".encode())]
    bad = frame(b"\xff\xfe")
    assert splitter.feed(bad, MAX) == [(False, bad)]
    first, text, last = frame(b'{"a":', fin=False), frame(b"{}"), frame(b"1}", 0)
    assert [splitter.feed(f, MAX) for f in (first, text, last, text)] == [
        [(False, first)], [(False, text)], [(False, last)], [(True, b"{}")]]
    too_large = Splitter()
    assert too_large.feed(text, 1) == [(False, text)] and too_large.passthrough
