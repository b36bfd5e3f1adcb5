"""Checklist ticks of a ``groups`` step, folded into the room's totals for the debrief.

A role may carry a checklist: what its holder notices during a round ("the listener gave
advice", or a speaker's "yes, that's it"). Whoever holds the role ticks what they noticed on
their phone, and each tick is an answer like any other: it reaches the log under the
participant's id (so every node folds the same totals, and leaving the session withdraws it)
and leaves it only as a count. The room learns, for each item, in how many groups someone in
that role ticked it, out of the groups in which the role was held: "in 9 of 12 triads the
observer noticed advice-giving".

A group is counted once however many rounds it ran (ticking an item in two rounds still makes
it one group that noticed it); a forming starts new groups, so the totals of an exercise formed
twice cover the groups of both formings. Like every aggregate, the totals are shown only once at
least ``min_responses`` people have ticked something; the number of people who did is always
known to the facilitator.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

Group = tuple[int, int]
"""A group of one forming: (forming, group number)."""


class Tick(NamedTuple):
    role: int
    item: int
    forming: int
    number: int
    round: int


class Total(NamedTuple):
    role: int
    groups: int
    """Groups in which someone held the role."""
    noticed: list[int]
    """Per item: groups in which someone holding the role ticked it."""


class Checklists:
    """The checklist ticks of one ``groups`` step, and where each role was held."""

    def __init__(self, items: Sequence[int]) -> None:
        """``items``: how many checklist items each role has (0 for none), by role index."""
        self.items = tuple(items)
        self.held: list[set[Group]] = [set() for _ in self.items]
        self.ticks: dict[str, set[Tick]] = {}
        """Participant to their ticks; someone with no tick left has no entry, so the number of
        people who ticked is the length."""

    def hold(self, role: int, forming: int, number: int) -> None:
        """Someone holds ``role`` in a group this round: the group counts for its totals."""
        if self.items[role]:
            self.held[role].add((forming, number))

    def hold_all(self, role: int, groups: Sequence[Group]) -> None:
        """``hold`` for many groups at once (a forming's, worked out ahead)."""
        if self.items[role]:
            self.held[role].update(groups)

    def set(self, participant: str, tick: Tick, ticked: bool) -> bool:
        """Tick or untick; True if anything changed."""
        mine = self.ticks.get(participant)
        if ticked:
            if mine is None:
                mine = self.ticks[participant] = set()
            elif tick in mine:
                return False
            mine.add(tick)
            return True
        if mine is None or tick not in mine:
            return False
        mine.discard(tick)
        if not mine:
            del self.ticks[participant]
        return True

    def ticked(self, participant: str, role: int, forming: int, number: int,
               round_: int) -> list[int]:
        """The items a participant ticked in this role, group and round, in order."""
        mine = self.ticks.get(participant)
        if not mine:  # most people, and everyone at forming: no work per member
            return []
        return sorted(t.item for t in mine
                      if (t.role, t.forming, t.number, t.round) == (role, forming, number, round_))

    def forget(self, participant: str) -> bool:
        """A participant left the session: their ticks are withdrawn, like their answers."""
        return self.ticks.pop(participant, None) is not None

    @property
    def reporters(self) -> int:
        """How many people have ticked at least one item."""
        return len(self.ticks)

    def totals(self) -> list[Total]:
        """For each role with a checklist, in role order: groups held, and groups per item."""
        noticed: dict[tuple[int, int], set[Group]] = {}
        for ticks in self.ticks.values():
            for tick in ticks:
                noticed.setdefault((tick.role, tick.item), set()).add((tick.forming, tick.number))
        return [
            Total(role, len(self.held[role]),
                  [len(noticed.get((role, item), ())) for item in range(count)])
            for role, count in enumerate(self.items) if count
        ]
