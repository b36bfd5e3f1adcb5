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
Whoever is not seated in a group of two or more, or has ticked something in their current role,
group and round, is encoded from their view as before; they are few.

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

    def seated(self, seq: int, state: g.GroupsState) -> tuple[list[bytes], dict[str, bytes]]:
        """The encoded view of each participant in a group of two or more who has ticked
        nothing, at ``seq`` (everyone after forming and at each new round), in two halves:
        the lead of their group (the head and the group's part) by group index, and their
        end (their role's part) by participant. Ticks of an earlier round or forming do not
        show in a view, so only whoever ticked something in their current role, group and round
        is left out. Nothing is copied per member here, and one
        table is keyed by participant: their bytes are joined once, where they are written
        (``Frames``)."""
        head = p.encoder.encode(p.GroupView(seq=seq, step=state.step, status="grouped",
                                            round=state.round))[:-1]
        ticks = state.checklists.ticks
        groups = self._groups
        leads = [b""] * len(state.groups)
        ends: dict[str, bytes] = {}
        tails: dict[tuple[Sequence[int], Sequence[int | None]], list[bytes]] = {}
        for number, members, roles, nexts in state.seats():
            leads[number - 1] = head + (groups.get((number, len(members)))
                                        or self._group(number, len(members)))
            if isinstance(roles, tuple):  # a size's pattern: the same ends for every group
                parts = tails.get((roles, nexts))
                if parts is None:
                    parts = tails[roles, nexts] = [self._role(role, after) for role, after
                                                   in zip(roles, nexts, strict=True)]
            else:
                parts = [self._role(role, after)
                         for role, after in zip(roles, nexts, strict=True)]
            if ticks:
                for who, part in zip(members, parts, strict=True):
                    if who not in ticks or not state.ticked(who):
                        ends[who] = part
            else:
                ends.update(zip(members, parts, strict=True))
        return leads, ends

    def _group(self, number: int, size: int) -> bytes:
        part = self._groups.get((number, size))
        if part is None:
            part = self._groups[number, size] = _part(msgspec.structs.replace(
                _BARE, number=number, colour=g.colour(number), word=g.word(number),
                others=size - 1,
            ))
        return part

    def _role(self, role: int, after: int | None) -> bytes:
        """A role's part with the view's closing brace (it is the last part)."""
        part = self._roles.get((role, after))
        if part is None:
            part = self._roles[role, after] = _part(msgspec.structs.replace(
                _BARE, role=self.roles[role],
                next_role=None if after is None else self.roles[after].name,
            )) + b"}"
        return part


class Frames:
    """Every participant's encoded group view at one point of the log: from the shared parts
    when they are seated, else encoded from their view."""

    __slots__ = ("_view", "ends", "leads", "where")

    def __init__(self, seated: tuple[list[bytes], dict[str, bytes]], where: dict[str, int],
                 view: Callable[[str], p.GroupView | None]) -> None:
        self.leads, self.ends = seated
        """Everyone seated in a group of two or more who ticked nothing (nearly everyone):
        their bytes are ``leads[where[who]] + ends[who]``, so the node's fan-out joins them
        straight into the frame it writes, and calls ``of`` for the rest."""
        self.where = where
        """Participant to group index (``GroupsState.where``)."""
        self._view = view

    def of(self, participant: str) -> bytes | None:
        """The bytes of ``participant``'s ``GroupView``; None if they have none."""
        end = self.ends.get(participant)
        if end is not None:
            return self.leads[self.where[participant]] + end
        view = self._view(participant)
        return None if view is None else p.encoder.encode(view)


class Prepared:
    """A forming worked out before the facilitator asks for it (``Session.prepare_forming``):
    the groups (``plan``), the ``groups`` event it will broadcast at ``seq``, and every
    participant's view after it, encoded. When the command comes and nothing has changed in
    between (the plan's ``changes`` and the seq still hold), the fold adopts the plan and the
    node writes frames joined ahead: forming 10,000 people then costs what one step's fan-out
    does. Whatever changed, forming gives the same groups and bytes without it
    (tests/core/test_group_frames.py).

    Read it only until the forming's fan-out is written: once adopted, its plan's groups are the
    state's own, and the late joins and dropouts that follow change them."""

    __slots__ = ("ends", "event", "leads", "plan", "seq", "step", "unready")

    def __init__(self, step: int, seq: int, plan: g.Plan, event: p.GroupsEvent,
                 seated: tuple[list[bytes], dict[str, bytes]], unready: bytes) -> None:
        self.step = step
        self.seq = seq
        self.plan = plan
        self.event = event
        self.leads, self.ends = seated
        """Everyone the plan seats (``Pieces.seated``): their view is the lead of their group
        and their own end."""
        self.unready = unready
        """The view of anyone joined but not ready: the same bytes for each of them."""

    def parts(self, participant: str) -> tuple[bytes, bytes]:
        """A joined participant's view after the forming, in two parts to be joined once."""
        end = self.ends.get(participant)
        if end is None:
            return self.unready, b""
        return self.leads[self.plan.where[participant]], end
