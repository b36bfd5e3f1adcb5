"""Before/after shifts: how the room moved between two answers to the same question, with small
cells suppressed and with every cell that would give a suppressed one away by subtraction.

A shift links each participant's answer to an earlier step with their answer to a later one. The
link is made here, inside the session, from the participant ids the session already holds; what
leaves is counts over the linked pairs, never a pair.

**Check-ins.** The pairs form a table ``X[before quadrant][after quadrant]``. Its row and column
sums are taken as public, because the two steps' own results are public and equal them whenever
everyone answered both. Published: each cell (who moved from quadrant a to b), after
suppression:

1. *Primary*: a cell of 1 to ``k - 1`` pairs is hidden (``k`` is the session's minimum
   responses). Zero is shown: it says nothing about any one person.
2. *Complementary*: while a hidden primary cell could be worked out from the shown cells and the
   public sums, the cheapest cells that prevent it are hidden too (see ``protect``). "Worked
   out" is tested exactly, by subtraction or any other reasoning from those numbers: the cell
   must take another value in some other table of whole numbers with the same sums and shown
   cells.
3. How many stayed and moved is given exactly only when no cell on the diagonal is hidden;
   otherwise as "at least", from the shown cells alone, so the headline adds nothing either.

**Scales.** Published: how many linked people went down, stayed and went up, all three hidden
together when any is from 1 to ``k - 1`` (with both distributions public, even a shown zero can
pin a small part: the brute-force test found such rooms); the change in the room's mean is the
difference of the two steps' own means, so it adds nothing to the two results.

A cell that the two public results alone already pin down (everyone who was high-energy then is
calm now, and only one person was) cannot be protected by hiding anything here; it is hidden all
the same, and nothing else is spent on it.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence

from attune.core import protocol as p
from attune.core.emotions import QUADRANTS, VOCABULARY

Cell = tuple[int, int]
"""(before category, after category)."""


# --- the exact test: can a hidden cell be worked out? ----------------------------------------


def _cheapest_cycle(
    table: dict[Cell, int], size: int, hidden: set[Cell], target: Cell,
) -> tuple[float, list[Cell]] | None:
    """The cheapest alternating cycle through ``target`` (see ``protect``), as the cells on it
    other than ``target``, with its cost: nothing for a cell already hidden, its count plus one
    for a shown one (so small cells go first and zeros are not free). None if there is none.

    Taking 1 from ``target`` (it is at least 1) needs a path from its column back to its row
    whose steps alternate "add 1 to a cell" (column to row) and "take 1 from a cell of at least
    1" (row to column); adding 1 needs the same kind of path from its row to its column. Found
    with Dijkstra's algorithm, so ties are broken the same way on every node.
    """
    a, b = target

    def cost(cell: Cell) -> float:
        return 0 if cell in hidden else table.get(cell, 0) + 1

    def search(start: tuple[int, int], goal: tuple[int, int]) -> tuple[float, list[Cell]] | None:
        # A node is (0, row) or (1, column).
        best: dict[tuple[int, int], float] = {start: 0}
        came: dict[tuple[int, int], tuple[tuple[int, int], Cell]] = {}
        queue: list[tuple[float, tuple[int, int]]] = [(0, start)]
        while queue:
            spent, node = heapq.heappop(queue)
            if node == goal:
                path: list[Cell] = []
                while node != start:
                    node, cell = came[node]
                    path.append(cell)
                return spent, path
            if spent > best[node]:
                continue
            side, i = node
            if side == 1:
                steps = [((0, r), (r, i)) for r in range(size)]
            else:
                steps = [((1, c), (i, c)) for c in range(size) if table.get((i, c), 0) >= 1]
            for nxt, cell in steps:
                if cell == target:
                    continue
                total = spent + cost(cell)
                if total < best.get(nxt, math.inf):
                    best[nxt] = total
                    came[nxt] = (node, cell)
                    heapq.heappush(queue, (total, nxt))
        return None

    found = [f for f in (search((1, b), (0, a)), search((0, a), (1, b))) if f is not None]
    return min(found) if found else None


def protect(table: dict[Cell, int], size: int, k: int) -> dict[Cell, int | None]:
    """The cells of a ``size`` x ``size`` table that may be shown (None where hidden), when its
    row and column sums are public anyway.

    Primary: cells of 1 to k - 1 are hidden. Complementary: a hidden primary cell is safe when
    another table of whole numbers with the same sums and the same shown cells gives it another
    value. Such tables differ from the true one by moves along alternating cycles of hidden cells
    (+1, -1, +1, ... around rows and columns); because these tables form a transportation
    polytope, whose corners are whole numbers, a change is possible exactly when one such cycle
    through the cell exists. So for each primary cell the cheapest cycle is found and its cells
    are hidden. A primary cell with no cycle even when everything is hidden is pinned by the
    public sums alone: it stays hidden and costs nothing more.
    """
    cells = [(x, y) for x in range(size) for y in range(size)]
    hidden = {c for c in cells if 0 < table.get(c, 0) < k}
    for cell in sorted(hidden):
        cycle = _cheapest_cycle(table, size, hidden, cell)
        if cycle is not None:
            hidden.update(cycle[1])
    return {c: None if c in hidden else table.get(c, 0) for c in cells}


def partition(counts: list[int], k: int) -> list[int | None]:
    """A split of a public total into parts (went down, stayed, went up; or one per character):
    parts of 1 to k - 1 are hidden, and when only one is, the next smallest too, since the total
    minus the shown parts would give it away."""
    hidden = {i for i, n in enumerate(counts) if 0 < n < k}
    if len(hidden) == 1:
        rest = sorted((n, i) for i, n in enumerate(counts) if i not in hidden and n > 0)
        if rest:
            hidden.add(rest[0][1])
    return [None if i in hidden else n for i, n in enumerate(counts)]


# --- check-ins: movement between quadrants ---------------------------------------------------


def checkin_shift(
    pairs: Sequence[tuple[p.CheckinValue, p.CheckinValue]], k: int, compare: int,
    before: p.CheckinAggregate | None,
) -> p.CheckinShift:
    """Quadrant to quadrant flows over linked pairs, with suppression (see the module doc).

    How many stayed and moved is given exactly when every cell on the diagonal is shown (it is
    then their sum, and adds nothing); otherwise as lower bounds from the shown cells alone."""
    shift = p.CheckinShift(compare=compare, pairs=len(pairs), before=before)
    if len(pairs) < k:
        return shift
    index = {q: i for i, q in enumerate(QUADRANTS)}
    table: dict[Cell, int] = {}
    for old, new in pairs:
        cell = (index[VOCABULARY[old.word].quadrant], index[VOCABULARY[new.word].quadrant])
        table[cell] = table.get(cell, 0) + 1
    n = len(QUADRANTS)
    shown = protect(table, n, k)
    shift.flows = [
        p.QuadrantFlow(before=QUADRANTS[a], after=QUADRANTS[b], count=shown[(a, b)])
        for a in range(n) for b in range(n)
    ]
    diagonal = [shown[(a, a)] for a in range(n)]
    off = [v for (a, b), v in shown.items() if a != b]
    if None not in diagonal:
        shift.stayed = sum(v for v in diagonal if v is not None)
        shift.moved = len(pairs) - shift.stayed
    else:
        shift.stayed_at_least = sum(v for v in diagonal if v is not None)
        shift.moved_at_least = sum(v for v in off if v is not None)
    return shift


# --- scales: the change per person -----------------------------------------------------------


def scale_shift(
    pairs: Sequence[tuple[float, float]], k: int, compare: int,
    before: p.ScaleAggregate | None, after: p.ScaleAggregate | None,
) -> p.ScaleShift:
    """How many linked people went down, stayed and went up, with suppression.

    The change in the room's mean is the difference of the two steps' own means (over everyone
    who answered each), so it adds nothing to what the two results already say. Finer cells
    (each size of change) are not published: with both distributions public they are a
    different table from the one ``protect`` reasons about, and down/same/up is what a room
    reads anyway.
    """
    shift = p.ScaleShift(compare=compare, pairs=len(pairs), before=before)
    if before is not None and after is not None:
        shift.mean_change = round(after.mean - before.mean, 2)
    if len(pairs) < k:
        return shift
    counts = [0, 0, 0]
    for old, new in pairs:
        counts[(round(new) > round(old)) - (round(new) < round(old)) + 1] += 1
    if any(0 < n < k for n in counts):
        # With both distributions public, any part shown (even a zero) can pin a small one: a
        # room where nobody went up and whose distributions allow only one way down. All three
        # are hidden together; the distributions and the mean change still show the shift.
        return shift
    shift.down, shift.same, shift.up = counts
    return shift


def own_shift(step: int, compare: int, before: p.AnswerValue, after: p.AnswerValue
              ) -> p.OwnShift:
    """One participant's own movement, for their phone only."""
    own = p.OwnShift(seq=0, step=step, compare=compare, before=before, after=after)
    match before, after:
        case p.CheckinValue(), p.CheckinValue():
            own.before_quadrant = VOCABULARY[before.word].quadrant
            own.after_quadrant = VOCABULARY[after.word].quadrant
            own.moved = own.before_quadrant != own.after_quadrant
        case p.ScaleValue(), p.ScaleValue():
            own.change = after.value - before.value
            own.moved = own.change != 0
    return own
