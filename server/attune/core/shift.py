"""Before/after shifts: how the room moved between two answers to the same question, with small
cells suppressed and with every cell that would give a suppressed one away by subtraction.

A shift links each participant's answer to an earlier step with their answer to a later one. The
link is made here, inside the session, from the participant ids the session already holds; what
leaves is a table of counts over the linked pairs, never a pair.

The pairs form a hidden table ``X[before][after]`` of counts over categories: the four quadrants
of a check-in, or the values of a scale (in at most 11 bands). What is published about it:

- the *cells*: for a check-in each ``X[a][b]`` (who moved from quadrant a to b), for a scale the
  change per person (``sum of X[a][a+d]`` for each change d);
- *summaries* that are sums of cells: how many stayed and moved (check-in), went down or up
  (scale).

Anyone may also know the row and column sums and the total, because the two steps' own results
are public and hold them whenever everyone answered both. So a cell is safe only if it cannot be
computed from the published numbers and those sums together.

Suppression:

1. *Primary*: a cell or summary of 1 to ``k - 1`` pairs is hidden (``k`` is the session's
   minimum responses). Zero is published: it says nothing about any one person.
2. *Complementary*: while some hidden primary value is a linear combination of the published
   numbers and the public sums, one more cell or summary is hidden: the cheapest that breaks the
   combination (smallest count first, summaries last, ties by position). A primary value that
   the two public results alone already pin down cannot be protected by anything this table
   hides; it stays hidden and the search does not spend other cells on it.

"Derived by subtraction" is checked exactly, with rational Gaussian elimination: a hidden value v
is derivable when its indicator vector lies in the span of the published vectors, after removing
the cells that a published zero forces to zero. Tables are small (16 cells for a check-in, at most
121 for a scale), so this costs milliseconds and is recomputed only when an answer changes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from fractions import Fraction
from typing import NamedTuple

from attune.core import protocol as p
from attune.core.emotions import QUADRANTS, VOCABULARY

Cell = tuple[int, int]
"""(before category, after category)."""
Group = frozenset[Cell]
"""A published number: the sum of the hidden table over these cells."""
MAX_BANDS = 11
"""Scales with more values than this are compared in bands, so the table stays small."""
SUMMARY_COST = 1_000_000
"""Summaries are hidden only when no cell will do: the headline share is what the room reads."""


class Published(NamedTuple):
    values: list[int | None]
    """One per group, in order; None where suppressed."""


# --- the exact "derivable by subtraction" test -------------------------------------------------


class _Span:
    """Row-echelon basis of some 0/1 vectors over the rationals, for membership tests."""

    def __init__(self, vectors: Iterable[dict[Cell, Fraction]]) -> None:
        self.rows: list[tuple[Cell, dict[Cell, Fraction]]] = []
        for vector in vectors:
            reduced = self._reduce(vector)
            if reduced:
                pivot = min(reduced)
                scale = reduced[pivot]
                self.rows.append((pivot, {c: v / scale for c, v in reduced.items()}))

    def _reduce(self, vector: dict[Cell, Fraction]) -> dict[Cell, Fraction]:
        v = dict(vector)
        for pivot, row in self.rows:
            factor = v.get(pivot)
            if factor:
                for cell, value in row.items():
                    new = v.get(cell, Fraction(0)) - factor * value
                    if new:
                        v[cell] = new
                    else:
                        v.pop(cell, None)
        return v

    def holds(self, vector: dict[Cell, Fraction]) -> bool:
        return not self._reduce(vector)


def _derivable(target: Group, known: Sequence[Group], values: dict[Group, int]) -> bool:
    """Whether the sum over ``target`` follows linearly from the sums over ``known``."""
    zero = {cell for group in known if values[group] == 0 for cell in group}
    one = Fraction(1)
    vector = {cell: one for cell in target if cell not in zero}
    if not vector:
        return True
    span = _Span({cell: one for cell in group if cell not in zero} for group in known)
    return span.holds(vector)


def protect(
    table: dict[Cell, int], groups: Sequence[Group], base: Sequence[Group], k: int,
    costs: Sequence[int] | None = None,
) -> Published:
    """Which of ``groups`` may be published, given that ``base`` sums are public anyway.

    Args:
        table: the hidden counts (missing cells are 0).
        groups: the cells and summaries to publish, in display order.
        base: sums anyone may know regardless (rows, columns, total).
        k: the minimum responses: values from 1 to k - 1 are hidden.
        costs: extra cost of hiding each group (added to its value); summaries weigh more.

    Returns:
        Each group's value, or None where it is suppressed.
    """
    value = {g: sum(table.get(cell, 0) for cell in g) for g in (*groups, *base)}
    extra = list(costs) if costs is not None else [0] * len(groups)
    hidden = {i for i, g in enumerate(groups) if 0 < value[g] < k}
    primary = sorted(hidden)
    lost = {i for i in primary if _derivable(groups[i], base, value)}
    while True:
        shown = [g for i, g in enumerate(groups) if i not in hidden]
        exposed = next((i for i in primary if i not in lost
                        and _derivable(groups[i], [*base, *shown], value)), None)
        if exposed is None:
            break
        candidates = sorted(
            (i for i in range(len(groups)) if i not in hidden),
            key=lambda i: (not groups[i] & groups[exposed], extra[i] + value[groups[i]], i),
        )
        if not candidates:
            break
        choice = candidates[0]
        for i in candidates:
            rest = [g for j, g in enumerate(groups) if j not in hidden and j != i]
            if not _derivable(groups[exposed], [*base, *rest], value):
                choice = i
                break
        hidden.add(choice)
    return Published([None if i in hidden else value[g] for i, g in enumerate(groups)])


def margins(categories: int) -> list[Group]:
    """Row sums, column sums and the total of a square table: public in any case."""
    cells = [(a, b) for a in range(categories) for b in range(categories)]
    rows = [frozenset(c for c in cells if c[0] == a) for a in range(categories)]
    cols = [frozenset(c for c in cells if c[1] == b) for b in range(categories)]
    return [*rows, *cols, frozenset(cells)]


# --- check-ins: movement between quadrants ---------------------------------------------------


def checkin_shift(
    pairs: Sequence[tuple[p.CheckinValue, p.CheckinValue]], k: int, compare: int,
    before: p.CheckinAggregate | None,
) -> p.CheckinShift:
    """Quadrant to quadrant flows over linked pairs, with suppression (see the module doc)."""
    shift = p.CheckinShift(compare=compare, pairs=len(pairs), before=before)
    if len(pairs) < k:
        return shift
    index = {q: i for i, q in enumerate(QUADRANTS)}
    table: dict[Cell, int] = {}
    for old, new in pairs:
        cell = (index[VOCABULARY[old.word].quadrant], index[VOCABULARY[new.word].quadrant])
        table[cell] = table.get(cell, 0) + 1
    n = len(QUADRANTS)
    cells = [frozenset({(a, b)}) for a in range(n) for b in range(n)]
    stayed = frozenset((a, a) for a in range(n))
    moved = frozenset((a, b) for a in range(n) for b in range(n) if a != b)
    groups = [*cells, stayed, moved]
    costs = [0] * len(cells) + [SUMMARY_COST, SUMMARY_COST]
    published = protect(table, groups, margins(n), k, costs).values
    shift.flows = [
        p.QuadrantFlow(before=QUADRANTS[a], after=QUADRANTS[b], count=published[a * n + b])
        for a in range(n) for b in range(n)
    ]
    shift.stayed, shift.moved = published[-2], published[-1]
    return shift


# --- scales: the change per person -----------------------------------------------------------


def band_width(low: int, high: int) -> int:
    """Values per band: 1 for scales of up to 11 values, else enough for at most 11 bands."""
    return max(1, math.ceil((high - low + 1) / MAX_BANDS))


def scale_shift(
    pairs: Sequence[tuple[float, float]], low: int, high: int, k: int, compare: int,
    before: p.ScaleAggregate | None, after: p.ScaleAggregate | None,
) -> p.ScaleShift:
    """How far each linked person moved on the scale, counted per change, with suppression.

    The change in the room's mean is the difference of the two steps' own means (over everyone
    who answered each), so it adds nothing to what the two results already say.
    """
    unit = band_width(low, high)
    shift = p.ScaleShift(compare=compare, pairs=len(pairs), unit=unit, before=before)
    if before is not None and after is not None:
        shift.mean_change = round(after.mean - before.mean, 2)
    if len(pairs) < k:
        return shift
    n = (high - low) // unit + 1
    table: dict[Cell, int] = {}
    for old, new in pairs:
        cell = ((round(old) - low) // unit, (round(new) - low) // unit)
        table[cell] = table.get(cell, 0) + 1
    deltas = range(-(n - 1), n)
    cells = [frozenset((a, a + d) for a in range(n) if 0 <= a + d < n) for d in deltas]
    down = frozenset(c for d, g in zip(deltas, cells, strict=True) if d < 0 for c in g)
    up = frozenset(c for d, g in zip(deltas, cells, strict=True) if d > 0 for c in g)
    groups = [*cells, down, up]
    costs = [0] * len(cells) + [SUMMARY_COST, SUMMARY_COST]
    published = protect(table, groups, margins(n), k, costs).values
    shift.changes = [
        p.ScaleChange(delta=d, count=published[i]) for i, d in enumerate(deltas)
        if published[i] != 0
    ]
    shift.down, shift.up = published[-2], published[-1]
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
