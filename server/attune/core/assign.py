"""Assigned perspectives: every participant is privately given one character to answer as.

A step with ``characters: [sam, noor]`` and ``assign: each`` hands each participant one of them.
The hand-out is part of the session rules, so it is a pure function of the log: it happens while
folding (when such a step is entered, everyone present is given a character; whoever joins while
it is current is given one on joining), in the log's order, so every node derives the same.

- **Balanced within one**: each new assignment goes to a character with the fewest people so far.
  Among those, the choice is a keyed hash of the participant, so neither the order of joining nor
  the participant id predicts it. If people leave, the smallest group is filled first by whoever
  comes next; nobody already given a character is moved, since they may have answered as them.
- **Kept**: a participant keeps their character for the whole session, on refresh and on
  reconnection, and on every later step that hands out the same characters, so "You are Noor" in
  a check-in is still Noor in the perspective step that follows.
- **Private**: the character reaches only that participant (``assigned``); every other message
  is the same for the whole room, so nobody learns who plays whom.
"""

from __future__ import annotations

import hashlib
from collections import Counter

Pool = tuple[str, ...]
"""The characters of a step, in the scenario's order (their keys)."""


class Assignments:
    """Who answers as whom, per pool of characters."""

    __slots__ = ("_counts", "_given", "_key")

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(f"assign/{secret}".encode()).digest()
        self._given: dict[Pool, dict[str, str]] = {}
        self._counts: dict[Pool, Counter[str]] = {}

    def give(self, pool: Pool, participant: str) -> str:
        """The participant's character in ``pool``, handing one out if they have none yet."""
        given = self._given.setdefault(pool, {})
        if participant in given:
            return given[participant]
        counts = self._counts.setdefault(pool, Counter())
        fewest = min(counts[c] for c in pool)
        open_ = [c for c in pool if counts[c] == fewest]
        digest = hashlib.blake2s(f"{participant}/{'/'.join(pool)}".encode(), key=self._key,
                                 digest_size=8).digest()
        character = open_[int.from_bytes(digest, "big") % len(open_)]
        given[participant] = character
        counts[character] += 1
        return character

    def of(self, pool: Pool, participant: str) -> str | None:
        return self._given.get(pool, {}).get(participant)

    def forget(self, participant: str) -> None:
        """A participant left: their place is free for whoever joins next."""
        for pool, given in self._given.items():
            character = given.pop(participant, None)
            if character is not None:
                self._counts[pool][character] -= 1

    def counts(self, pool: Pool) -> dict[str, int]:
        counts = self._counts.get(pool, Counter())
        return {c: counts[c] for c in pool}
