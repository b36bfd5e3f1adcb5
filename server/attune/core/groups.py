"""Small-group rules: forming pairs, triads and circles, late joins, dropouts and rotating roles.

A ``groups`` step puts people in small groups for a few timed rounds, each person in a role
(speaker, listener, observer). Everything here is a pure function of what the session's log
holds: who said they are ready, in which order, the session secret and the facilitator's
commands. Every node folds the same entries through ``GroupsState`` and so derives the same
groups, with nothing shared but the log.

The rules, in the words a facilitator would use:

- **Forming.** Only people who tapped "I'm ready" are grouped, so someone who left the room is
  not waited for. They are shuffled by a keyed hash (the session secret, the step, the how-many-th
  forming), which is fair, unpredictable to participants and the same on every node, then cut
  into groups as even as possible: ``leftover: join`` gives groups of ``size`` and ``size + 1``,
  ``leftover: own`` groups of ``size`` and smaller. No group is ever smaller than two.
- **Late joiners** (ready after forming) go to the smallest group while it has room (up to
  ``size + 1``), in the last role; when every group is full they wait for the next round.
- **Dropouts** (leaving the session, or "I stepped out") leave their group at once. A group left
  with one person is not kept: that person is told, and at the next round joins another group.
- **Next round.** First the people waiting and the people left alone are placed (smallest group
  with room first; two or more left over make new groups; a single one left over when every group
  is full pairs with the newest member of the largest group), then roles rotate.
- **Roles.** Member ``p`` of a group of ``n`` holds slot ``(p - round) mod n`` (or ``p`` without
  rotation): slot 0 the first role, 1 the second, and every slot past the last role shares the
  last role. A pair in a triad exercise is a speaker and a listener.
- **Checklists.** Whoever holds a role with a checklist ticks what they noticed, for their group
  and round; the room sees only totals per item, in how many groups it was noticed
  (``core/checklist.py``).

Nothing here names anyone to anyone else: a participant learns their own group's number, colour,
word and size, never who is in it.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Literal, NamedTuple

from attune.core.checklist import Checklists, Tick

Phase = Literal["gathering", "grouped", "debrief"]
Status = Literal["unready", "ready", "grouped", "waiting", "alone"]

COLOURS = ("green", "blue", "orange", "purple", "red", "teal", "yellow", "pink")
"""Group colours, never the only cue: each group also has a number and a word."""
WORDS = (
    "otter", "heron", "fox", "owl", "panda", "whale", "robin", "tiger", "koala", "swan",
    "bear", "lynx", "crane", "seal", "deer", "hare", "wren", "bison", "moth", "gecko",
    "camel", "eagle", "lemur", "zebra",
)
"""Group words; 24 is not a multiple of 8, so colour and word repeat together only every 24."""


def colour(number: int) -> str:
    """The colour of group ``number`` (1-based); a pure function of the number."""
    return COLOURS[(number - 1) % len(COLOURS)]


def word(number: int) -> str:
    return WORDS[(number - 1) % len(WORDS)]


def sizes(count: int, size: int, leftover: Literal["join", "own"]) -> list[int]:
    """The sizes of the groups that ``count`` people form, as even as possible.

    Args:
        count: people to group, at least two.
        size: the size aimed for (2-7).
        leftover: ``join`` never makes a group smaller than ``size`` unless there are fewer
            people than that; ``own`` never makes one larger unless a group would be alone.

    Every size is between 2 and ``size + 1``.
    """
    if count < 2:
        raise ValueError("at least two people form a group")
    if leftover == "join":
        groups = max(count // size, -(-count // (size + 1)), 1)
    else:
        groups = min(-(-count // size), count // 2)
    small, extra = divmod(count, groups)
    return [small + 1] * extra + [small] * (groups - extra)


def shuffle_key(secret: str, step: int, forming: int) -> Callable[[str], bytes]:
    """Each participant's place in the shuffle of one forming: a keyed hash (the session secret),
    so nobody can aim for a group.

    The key of ``participant`` is the 8-byte BLAKE2s of ``step/forming/participant`` keyed with
    the secret's first 32 bytes. Logs outlive versions, so this must never change: a session
    replayed by a newer node must form the same groups (tests/core/test_groups.py pins values).
    The hash of the key and ``step/forming/`` is set up once per forming and copied per
    participant, which halves the cost of hashing 10,000 people.
    """
    keyed = hashlib.blake2s(f"{step}/{forming}/".encode(), key=secret.encode()[:32],
                            digest_size=8)

    def key(participant: str) -> bytes:
        hashed = keyed.copy()
        hashed.update(participant.encode())
        return hashed.digest()

    return key


def role_slot(position: int, members: int, round_: int, rotate: bool) -> int:
    return (position - round_) % members if rotate else position


class Plan(NamedTuple):
    """The next forming, worked out without changing anything (``GroupsState.plan``): what
    ``form`` does, computed ahead so that the command itself only adopts it. It holds while the
    state's ``changes`` is still the one it was worked out at."""

    changes: int
    groups: list[list[str]]
    where: dict[str, int]
    roles: dict[str, int]
    held: dict[int, list[tuple[int, int]]]
    """For every role with a checklist, the groups that hold it, as the checklists count
    them: (forming, group number)."""


class GroupsState:
    """The groups of one ``groups`` step, folded from ready entries, leaves and commands.

    Methods that change who is where return the participants whose private view changed, so the
    caller can tell exactly them; formation and rounds change everyone's.
    """

    def __init__(self, step: int, size: int, leftover: Literal["join", "own"], roles: int,
                 rounds: int, rotate: bool, seconds: int, checklists: Sequence[int] = (),
                 secret: str = "") -> None:
        self.step = step
        self.secret = secret
        """The session secret, which keys the shuffle."""
        self.seconds = seconds
        self.extra = 0
        """Seconds added to the current round (+30 s)."""
        self.started_at: float | None = None
        """Server clock (ms) when the round timer last started; None while it is stopped."""
        self.elapsed = 0.0
        """Seconds the current round ran before its last pause."""
        self.size = size
        self.leftover = leftover
        self.role_count = roles
        self.rounds = rounds
        self.rotate = rotate
        self.phase: Phase = "gathering"
        self.round = 0
        self.formings = 0
        self.ready: dict[str, None] = {}
        """Ready participants in the order they said so (a dict as an ordered set)."""
        self.groups: list[list[str]] = []
        """Members of group ``n`` at index ``n - 1``, in their order; an emptied group stays
        empty so numbers never change meaning."""
        self.where: dict[str, int] = {}
        """Participant to index in ``groups``."""
        self.roles: dict[str, int] = {}
        """Participant to role index for the current round."""
        self.waiting: list[str] = []
        """Ready after forming, every group full: placed at the next round."""
        self.checklists = Checklists(checklists or [0] * roles)
        """Checklist items per role, the ticks and where each role was held (core/checklist.py)."""
        self.places: dict[str, bytes] = {}
        """Each ready participant's place in the next forming's shuffle (``shuffle_key``),
        worked out as they say they are ready, so forming 10,000 people only sorts.
        Valid for forming number ``places_for``: a forming makes it stale, and forming again
        hashes everyone at once (``form``)."""
        self.places_for = 0
        self._keys: Callable[[str], bytes] | None = None
        """``shuffle_key`` of forming number ``_keys_for``, set up once for everyone's "ready"."""
        self._keys_for = -1
        self.patterned = False
        """Roles are exactly the pattern of each group's size and the round (``_pattern``), as
        ``_assign_roles`` left them: no late joiner or dropout has changed a group since."""
        self.changes = 0
        """Bumped by every change to who is ready or where anyone is (ready, stepping out,
        leaving, forming, a round, the end): a ``Plan`` worked out at another count is stale."""

    @property
    def largest(self) -> int:
        return self.size + 1

    # --- what the log says ---------------------------------------------------------------------

    def set_ready(self, participant: str, ready: bool) -> set[str]:
        """A participant says they are ready (or stepped out). Returns whose view changed."""
        if ready == (participant in self.ready):
            return set()
        if not ready:
            return self.remove(participant)
        self.changes += 1
        self.ready[participant] = None
        if self.places_for == self.formings:
            self.places[participant] = self._place(participant)
        if self.phase != "grouped":
            return {participant}
        return self._late(participant)

    def remove(self, participant: str) -> set[str]:
        """A participant left the session or stepped out: out of the ready set and their group."""
        self.changes += 1
        self.ready.pop(participant, None)
        self.places.pop(participant, None)
        changed = {participant}
        if participant in self.waiting:
            self.waiting.remove(participant)
        index = self.where.pop(participant, None)
        self.roles.pop(participant, None)
        if index is not None:
            group = self.groups[index]
            group.remove(participant)
            changed.update(group)
            self.patterned = False
        return changed

    def form(self, plan: Plan | None = None) -> None:
        """Group every ready participant afresh (the facilitator's "form groups"), adopting
        ``plan`` when it was worked out at this very state (by ``GroupsState.plan``, ahead),
        else working it out now: the groups are the same either way."""
        if plan is None or plan.changes != self.changes:
            plan = self.plan()
        self._adopt(plan)
        for role, groups in plan.held.items():
            self.checklists.hold_all(role, groups)

    def plan(self) -> Plan:
        """The groups, where everyone is and their roles that forming now gives, without
        changing anything.

        On a first forming everyone's place in the shuffle is known already (``places``,
        from their "I'm ready"), so this only sorts; forming again hashes everyone first. The
        groups, where everyone is and their roles are then built group by group, not person
        by person (10,000 people in one command)."""
        people = list(self.ready)
        if len(people) < 2:
            raise ValueError("fewer than two ready")
        if self.places_for == self.formings:
            people.sort(key=self.places.__getitem__)
        else:  # forming again: nobody's place is known yet
            people.sort(key=shuffle_key(self.secret, self.step, self.formings))
        groups = []
        start = 0
        for count in sizes(len(people), self.size, self.leftover):
            groups.append(people[start:start + count])
            start += count
        where = {who: index for index, group in enumerate(groups) for who in group}
        roles, holds = self._roles_of(groups, 0)
        forming = self.formings + 1
        held: dict[int, list[tuple[int, int]]] = {}
        for role, number in holds:
            held.setdefault(role, []).append((forming, number))
        return Plan(self.changes, groups, where, roles, held)

    def after(self, plan: Plan) -> GroupsState:
        """A copy of this state as forming with ``plan`` would leave it, to read from (every
        member's view, worked out ahead). It shares this state's ready set and checklists and
        changes neither: the copy's checklists do not count the plan's groups."""
        state = copy.copy(self)
        state._adopt(plan)
        return state

    def _adopt(self, plan: Plan) -> None:
        self.formings += 1
        self.changes += 1
        self.groups, self.where, self.roles = plan.groups, plan.where, plan.roles
        self.waiting = []
        self.phase, self.round = "grouped", 0
        self.patterned = True
        self._reset_timer(None)

    def _place(self, participant: str) -> bytes:
        """A participant's place in the shuffle of forming number ``formings`` (its key)."""
        key = self._keys
        if key is None or self._keys_for != self.formings:
            key = self._keys = shuffle_key(self.secret, self.step, self.formings)
            self._keys_for = self.formings
        return key(participant)

    def next_round(self, at: float) -> None:
        """Place who waits or stands alone, rotate roles, and start the new round's timer."""
        if self.round + 1 >= self.rounds:
            raise ValueError("no more rounds")
        self.changes += 1
        self.round += 1
        self._regroup()
        self._assign_roles()
        self._reset_timer(at)

    def end(self, at: float) -> None:
        self.changes += 1
        self.pause(at)
        self.phase = "debrief"

    # --- the round timer, on the server clock ------------------------------------------------

    def start(self, at: float) -> bool:
        """Start or resume the timer; False if it was already running."""
        if self.started_at is not None:
            return False
        self.started_at = at
        return True

    def pause(self, at: float) -> bool:
        if self.started_at is None:
            return False
        self.elapsed += max(0.0, at - self.started_at) / 1000
        self.started_at = None
        return True

    def extend(self, seconds: int) -> None:
        self.extra += seconds

    def left(self, now: float) -> float:
        """Seconds left in the round at server time ``now`` (negative once over)."""
        running = max(0.0, now - self.started_at) / 1000 if self.started_at is not None else 0.0
        return self.seconds + self.extra - self.elapsed - running

    def _reset_timer(self, at: float | None) -> None:
        self.extra, self.elapsed, self.started_at = 0, 0.0, at

    # --- reading -----------------------------------------------------------------------------

    def status(self, participant: str) -> Status:
        if participant not in self.ready:
            return "unready"
        if self.phase != "grouped":
            return "ready"
        if participant in self.waiting:
            return "waiting"
        index = self.where.get(participant)
        if index is None:
            return "waiting"
        return "alone" if len(self.groups[index]) < 2 else "grouped"

    def group_of(self, participant: str) -> int | None:
        """The 1-based number of a participant's group, if they are in one."""
        index = self.where.get(participant)
        return None if index is None else index + 1

    def members(self, number: int) -> int:
        return len(self.groups[number - 1])

    def role(self, participant: str) -> int | None:
        return self.roles.get(participant)

    def next_role(self, participant: str) -> int | None:
        """The role this participant will hold next round, if roles rotate and one is left."""
        index = self.where.get(participant)
        if index is None or not self.rotate or self.round + 1 >= self.rounds:
            return None
        group = self.groups[index]
        slot = role_slot(group.index(participant), len(group), self.round + 1, True)
        return min(slot, self.role_count - 1)

    def seats(self) -> Iterator[tuple[int, list[str], Sequence[int], Sequence[int | None]]]:
        """``(group number, members, role of each, next role of each)`` for every group of two
        or more while the groups run: what forming and every new round tell each member. The
        same as ``group_of``, ``members``, ``role`` and ``next_role`` one person at a time,
        without their lookups: right after forming or a new round, roles are the pattern of the
        group's size (``patterned``), one tuple shared by every group of that size."""
        if self.phase != "grouped":
            return
        upcoming = self.rotate and self.round + 1 < self.rounds
        last = self.role_count - 1
        patterns: dict[int, tuple[tuple[int, ...], tuple[int | None, ...]]] = {}
        patterned = self.patterned
        roles = self.roles
        for index, group in enumerate(self.groups):
            members = len(group)
            if members < 2:
                continue
            pattern = patterns.get(members)
            if pattern is None:
                pattern = patterns[members] = (self._pattern(members, self.round)[0], tuple(
                    min(role_slot(position, members, self.round + 1, True), last)
                    if upcoming else None
                    for position in range(members)
                ))
            now, after = pattern
            yield index + 1, group, now if patterned else [roles[who] for who in group], after

    def live_groups(self) -> list[int]:
        """Numbers of the groups that have anyone in them."""
        return [i + 1 for i, group in enumerate(self.groups) if group]

    def tick(self, participant: str, item: int) -> Tick | None:
        """Where a tick of ``item`` by this participant belongs (their role, group and round),
        or None if they are not in a group of two or more with a role whose checklist has it."""
        index = self.where.get(participant)
        role = self.roles.get(participant)
        if index is None or role is None or self.status(participant) != "grouped" \
                or not 0 <= item < self.checklists.items[role]:
            return None
        return Tick(role, item, self.formings, index + 1, self.round)

    def ticked(self, participant: str) -> list[int]:
        """The items this participant ticked in their current role, group and round."""
        index = self.where.get(participant)
        role = self.roles.get(participant)
        if index is None or role is None:
            return []
        return self.checklists.ticked(participant, role, self.formings, index + 1, self.round)

    def counts(self) -> tuple[int, int, int, int]:
        """Ready, in a group of two or more, waiting, alone: counts only, never who."""
        alone = sum(1 for group in self.groups if len(group) == 1)
        grouped = sum(len(group) for group in self.groups if len(group) >= 2)
        return len(self.ready), grouped, len(self.waiting), alone

    # --- the rules ---------------------------------------------------------------------------

    def _add_group(self, members: Iterable[str]) -> None:
        group = list(members)
        self.groups.append(group)
        for who in group:
            self.where[who] = len(self.groups) - 1

    def _smallest_with_room(self) -> int | None:
        """The index of the smallest group of two or more that can take one more, lowest first."""
        best: int | None = None
        for index, group in enumerate(self.groups):
            if 2 <= len(group) < self.largest and (
                best is None or len(group) < len(self.groups[best])
            ):
                best = index
        return best

    def _late(self, participant: str) -> set[str]:
        index = self._smallest_with_room()
        if index is None:
            self.waiting.append(participant)
            return {participant}
        group = self.groups[index]
        group.append(participant)
        self.where[participant] = index
        self.roles[participant] = self.role_count - 1
        self.patterned = False
        self.checklists.hold(self.role_count - 1, self.formings, index + 1)
        return set(group)

    def _regroup(self) -> None:
        pool = list(self.waiting)
        self.waiting = []
        for group in self.groups:
            if len(group) == 1:
                pool.append(group.pop())
        for who in pool:
            self.where.pop(who, None)
        rest: list[str] = []
        for who in pool:
            index = self._smallest_with_room()
            if index is None:
                rest.append(who)
                continue
            self.groups[index].append(who)
            self.where[who] = index
        if len(rest) == 1:
            # Every group is full (size + 1 >= 3): take the newest member of the largest one.
            # With no group at all, this is the only person left: they wait, and are told.
            largest = max(range(len(self.groups)), key=lambda i: (len(self.groups[i]), -i),
                          default=None)
            if largest is None or not self.groups[largest]:
                self.waiting = rest
                return
            moved = self.groups[largest].pop()
            rest.insert(0, moved)
        if rest:
            start = 0
            for count in sizes(len(rest), self.size, self.leftover):
                self._add_group(rest[start:start + count])
                start += count

    def _assign_roles(self) -> None:
        """Every member's role this round, and the groups each checklist role is held in."""
        self.roles, held = self._roles_of(self.groups, self.round)
        for role, number in held:
            self.checklists.hold(role, self.formings, number)
        self.patterned = True

    def _roles_of(self, groups: list[list[str]], round_: int) -> tuple[dict[str, int],
                                                                      list[tuple[int, int]]]:
        """Every member's role in round ``round_``, and (role, group number) for each role
        with a checklist a group holds. Roles depend only on a member's place in their group
        and the group's size, so each size's roles are worked out once and given group by
        group."""
        roles: dict[str, int] = {}
        held: list[tuple[int, int]] = []
        patterns: dict[int, tuple[tuple[int, ...], tuple[int, ...]]] = {}
        for index, group in enumerate(groups):
            members = len(group)
            pattern = patterns.get(members)
            if pattern is None:
                pattern = patterns[members] = self._pattern(members, round_)
            now, holds = pattern
            roles.update(zip(group, now, strict=True))
            held += [(role, index + 1) for role in holds]
        return roles, held

    def _pattern(self, members: int, round_: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The roles in a group of ``members`` in round ``round_``, by place, and the roles with
        a checklist it holds (a group of one holds none: it is not counted)."""
        last = self.role_count - 1
        roles = tuple(min(role_slot(position, members, round_, self.rotate), last)
                      for position in range(members))
        held = tuple(sorted({role for role in roles if self.checklists.items[role]})) \
            if members >= 2 else ()
        return roles, held
