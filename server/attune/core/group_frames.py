"""Everyone's private group view, encoded from parts the room shares.

Forming groups, and every new round, changes the view of every participant at once: 10,000
phones each get a ``group`` message of their own. Built one at a time (a ``GroupView``, then
msgspec), those messages cost more than writing them. But they are made of few distinct parts:

- a head the whole room shares: type, seq, step, status, round;
- a part per group: its number, colour, word and how many others to look for;
- a part per role: the role with its private prompt and checklist, and the next role's name.

So each part is encoded once, by msgspec from a ``GroupView`` holding only those fields, and a
member's message is the join of their three parts: byte for byte what encoding their
``GroupView`` gives (tests/core/test_group_frames.py checks every member of random rooms).
Whoever is not seated in a group of two or more, or has ticked something, is encoded from their
view as before; they are few.

Privacy is unchanged: a member's bytes hold their own group's part and their own role's part,
never another participant's id or another role's prompt.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import msgspec

from attune.core import groups as g
from attune.core import protocol as p

_BARE = p.GroupView(seq=0, step=0, status="grouped")
_AFTER_HEAD = len(p.encoder.encode(_BARE)) - 1
"""Where the fields after ``status`` start in a round-zero view's bytes (before its ``}``)."""


def _part(view: p.GroupView) -> bytes:
    """The bytes of a view's fields after the head: ``view`` holds only those (round zero), so
    what follows the bare head up to the closing brace is exactly them, with their commas."""
    return p.encoder.encode(view)[_AFTER_HEAD:-1]


class Pieces:
    """The encoded parts of one groups step's views. Group and role parts depend only on the
    step and the session's language, so they are kept for the step's life; the head, which
    holds the seq, is encoded once per call."""

    __slots__ = ("_groups", "_roles", "roles")

    def __init__(self, roles: Sequence[p.RoleView]) -> None:
        self.roles = roles
        """The step's roles as their holders see them (with their private prompts)."""
        self._groups: dict[tuple[int, int], bytes] = {}
        self._roles: dict[tuple[int, int | None], bytes] = {}

    def seated(self, seq: int, state: g.GroupsState) -> dict[str, bytes]:
        """The encoded view of each participant in a group of two or more who has ticked
        nothing, at ``seq``: everyone after forming and at each new round."""
        head = p.encoder.encode(p.GroupView(seq=seq, step=state.step, status="grouped",
                                            round=state.round))[:-1]
        ticks = state.checklists.ticks
        roles_of = state.roles
        groups, roles = self._groups, self._roles
        frames: dict[str, bytes] = {}
        for number, members, nexts in state.seats():
            size = len(members)
            group = groups.get((number, size))
            if group is None:
                group = groups[number, size] = _part(msgspec.structs.replace(
                    _BARE, number=number, colour=g.colour(number), word=g.word(number),
                    others=size - 1,
                ))
            for who, after in zip(members, nexts, strict=True):
                if who in ticks:
                    continue
                role = roles_of[who]
                held = roles.get((role, after))
                if held is None:
                    held = roles[role, after] = _part(msgspec.structs.replace(
                        _BARE, role=self.roles[role],
                        next_role=None if after is None else self.roles[after].name,
                    ))
                frames[who] = b"".join((head, group, held, b"}"))
        return frames


class Frames:
    """Every participant's encoded group view at one point of the log: from the shared parts
    when they are seated, else encoded from their view."""

    __slots__ = ("_seated", "_view")

    def __init__(self, seated: dict[str, bytes],
                 view: Callable[[str], p.GroupView | None]) -> None:
        self._seated = seated
        self._view = view

    def of(self, participant: str) -> bytes | None:
        """The bytes of ``participant``'s ``GroupView``; None if they have none."""
        frame = self._seated.get(participant)
        if frame is not None:
            return frame
        view = self._view(participant)
        return None if view is None else p.encoder.encode(view)
