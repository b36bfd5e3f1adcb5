"""Per-address limits that stop join-code guessing and connection hoarding.

Addresses live here only, in memory, as counters: never next to an answer, never in a log or a
backend. Limits are generous because a whole class or office often shares one address behind NAT:
they stop a script, not a room.
"""

from __future__ import annotations

import time

MAX_CONNECTIONS_PER_ADDRESS = 2000
"""Open sockets from one address (a town hall behind one NAT still fits)."""
JOIN_FAILURE_BURST = 60.0
JOIN_FAILURE_REFILL = 1.0
"""Failed joins (wrong or ended code) per address: a burst of 60, then one a second. A
six-character code has 32**6 (about a billion) values, so guessing at this rate is hopeless.
Attempts refused for the limit count as failures too, so hammering keeps an address out."""


class AddressLimits:
    def __init__(self) -> None:
        self.connections: dict[str, int] = {}
        self._failures: dict[str, tuple[float, float]] = {}

    def connect(self, address: str) -> bool:
        """Count a new socket; False if the address already holds too many."""
        count = self.connections.get(address, 0)
        if count >= MAX_CONNECTIONS_PER_ADDRESS:
            return False
        self.connections[address] = count + 1
        return True

    def disconnect(self, address: str) -> None:
        count = self.connections.get(address, 1) - 1
        if count:
            self.connections[address] = count
        else:
            self.connections.pop(address, None)

    def may_join(self, address: str) -> bool:
        return self._tokens(address, time.monotonic()) >= 1

    def join_failed(self, address: str) -> None:
        now = time.monotonic()
        tokens = max(self._tokens(address, now) - 1, -JOIN_FAILURE_BURST)
        self._failures[address] = (tokens, now)
        if len(self._failures) > 100_000:
            self._forget_rested(now)

    def _tokens(self, address: str, now: float) -> float:
        tokens, then = self._failures.get(address, (JOIN_FAILURE_BURST, now))
        return min(JOIN_FAILURE_BURST, tokens + (now - then) * JOIN_FAILURE_REFILL)

    def _forget_rested(self, now: float) -> None:
        for address in [a for a in self._failures if self._tokens(a, now) >= JOIN_FAILURE_BURST]:
            del self._failures[address]
