"""Fixed inputs for the committed screenshots.

The server draws session ids, tokens, secrets, join codes and participant ids from ``secrets``,
and a test server listens on a free port, which the join address and its QR code show. When the
committed set is regenerated (``python -m tests.support.screenshots``), those draws and the port
come from a generator seeded with the test's id instead, so the same test shows the same join
address, code and QR code and (the session secret seeding them) the same groups and characters
on every run. Only the tests do this; a server never runs on it.
"""

from __future__ import annotations

import base64
import random
import socket
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


class Seeded:
    """What the server uses of the ``secrets`` module, drawn from a seeded generator."""

    def __init__(self, seed: str) -> None:
        self._random = random.Random(seed)

    def choice(self, sequence: Sequence[T]) -> T:
        return self._random.choice(sequence)

    def token_hex(self, nbytes: int = 32) -> str:
        return self._random.randbytes(nbytes).hex()

    def token_urlsafe(self, nbytes: int = 32) -> str:
        return base64.urlsafe_b64encode(self._random.randbytes(nbytes)).rstrip(b"=").decode()


def ports(seed: str) -> Callable[[], int]:
    """Free loopback ports in the order a generator seeded with ``seed`` proposes them."""
    proposals = random.Random(seed)

    def port() -> int:
        while True:
            candidate = proposals.randrange(20_000, 30_000)
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", candidate))
                except OSError:
                    continue
                return candidate

    return port
