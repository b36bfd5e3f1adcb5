"""Shift tables and their suppression, as pure code: no socket, no event loop, no backend.

The strongest check here does not trust the suppression's own reasoning: for small rooms it
enumerates every table of counts an onlooker could believe in (the same public row and column
sums, the same published cells and summaries) and asserts that every hidden primary value takes
at least two values among them, so it cannot be worked out by subtraction or by any other
reasoning from what is shown.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from attune.core import protocol as p
from attune.core import shift
from attune.core.emotions import QUADRANTS

# One word per quadrant, in QUADRANTS order.
WORD = {"high-unpleasant": "stressed", "high-pleasant": "excited", "low-unpleasant": "tired",
        "low-pleasant": "calm"}
Q: dict[str, int] = {q: i for i, q in enumerate(QUADRANTS)}


def pairs_of(table: dict[tuple[int, int], int]) -> list[tuple[p.CheckinValue, p.CheckinValue]]:
    out = []
    for (a, b), n in table.items():
        out += [(p.CheckinValue(word=WORD[QUADRANTS[a]]),
                 p.CheckinValue(word=WORD[QUADRANTS[b]]))] * n
    return out


def flows(result: p.CheckinShift) -> dict[tuple[int, int], int | None]:
    return {(Q[f.before], Q[f.after]): f.count for f in result.flows}


def tables(rows: list[int], cols: list[int]) -> Iterator[dict[tuple[int, int], int]]:
    """Every table of non-negative counts with these row and column sums."""
    n = len(rows)

    def fill(cell: int, table: dict[tuple[int, int], int], rows: list[int], cols: list[int]
             ) -> Iterator[dict[tuple[int, int], int]]:
        if cell == n * n:
            if not any(rows) and not any(cols):
                yield dict(table)
            return
        a, b = divmod(cell, n)
        if b == n - 1:
            choices: range = range(rows[a], rows[a] + 1) if rows[a] <= cols[b] else range(0)
        else:
            choices = range(min(rows[a], cols[b]) + 1)
        for v in choices:
            table[(a, b)] = v
            rows[a] -= v
            cols[b] -= v
            yield from fill(cell + 1, table, rows, cols)
            rows[a] += v
            cols[b] += v
        table.pop((a, b), None)

    yield from fill(0, {}, list(rows), list(cols))


def assert_protected(table: dict[tuple[int, int], int], k: int) -> p.CheckinShift:
    """Every hidden small cell takes two values or more among the tables an onlooker could
    believe in, unless the public sums alone already pin it."""
    result = shift.checkin_shift(pairs_of(table), k, 0, None)
    shown = flows(result)
    n = len(QUADRANTS)
    rows = [sum(table.get((a, b), 0) for b in range(n)) for a in range(n)]
    cols = [sum(table.get((a, b), 0) for a in range(n)) for b in range(n)]
    stayed = sum(table.get((a, a), 0) for a in range(n))
    for cell, count in shown.items():
        value = table.get(cell, 0)
        assert count is None or count == value, "a shown count is the true count"
        if 0 < value < k:
            assert count is None, f"a cell of {value} < {k} is shown"
    if result.stayed is not None:
        assert (result.stayed, result.moved) == (stayed, sum(rows) - stayed)
    else:
        assert result.stayed_at_least is not None and result.stayed_at_least <= stayed

    def diagonal(t: dict[tuple[int, int], int]) -> int:
        return sum(t.get((a, a), 0) for a in range(n))

    public = list(tables(rows, cols))
    consistent = [
        t for t in public
        if all(c is None or t.get(cell, 0) == c for cell, c in shown.items())
        and (result.stayed is None or diagonal(t) == result.stayed)
    ]
    assert any(all(t.get(c, 0) == v for c, v in table.items()) for t in consistent)
    for cell, count in shown.items():
        if count is None and 0 < table.get(cell, 0) < k:
            possible = {t.get(cell, 0) for t in consistent}
            pinned_by_public = len({t.get(cell, 0) for t in public}) == 1
            assert len(possible) > 1 or pinned_by_public, (
                f"hidden cell {cell} = {table.get(cell)} can be worked out: {table} -> {shown}"
            )
    return result


def test_large_cells_are_all_shown() -> None:
    table = {(0, 0): 4, (0, 3): 5, (2, 3): 3, (3, 3): 6}
    result = shift.checkin_shift(pairs_of(table), 3, 1, None)
    assert result.pairs == 18 and result.compare == 1
    assert flows(result)[(0, 3)] == 5 and flows(result)[(1, 1)] == 0
    assert (result.stayed, result.moved) == (10, 8)
    assert result.stayed_at_least is None


def test_a_small_cell_is_hidden_with_one_that_would_give_it_away() -> None:
    """Row 'high-unpleasant' is 5 then: 4 moved to calm and 1 stayed. Hiding the 1 alone is
    not enough: the row's sum (public, it is the first step's result) minus the 4 gives it."""
    table = {(0, 0): 1, (0, 3): 4, (1, 1): 5, (3, 3): 5}
    result = assert_protected(table, 3)
    shown = flows(result)
    assert shown[(0, 0)] is None
    hidden = [cell for cell, count in shown.items() if count is None]
    assert len(hidden) >= 2, "a complementary cell is hidden too"
    row = [shown[(0, b)] for b in range(4)]
    assert row.count(None) >= 2, "no row shows all but one of its cells"


def test_complements_are_the_cheapest_cells_not_the_big_flow() -> None:
    """A breathing session: 6 moved from high-energy unpleasant to calm, and small groups
    elsewhere. The small ones are protected by hiding zeros and small cells, and the 6, the
    movement the room came to see, stays on the screen."""
    hu, lu, lp = Q["high-unpleasant"], Q["low-unpleasant"], Q["low-pleasant"]
    table = {(hu, lp): 6, (hu, hu): 1, (lu, lp): 2, (lu, lu): 1, (lp, lp): 2}
    result = assert_protected(table, 3)
    assert flows(result)[(hu, lp)] == 6
    assert result.moved_at_least == 6


def test_the_headline_share_never_gives_a_small_cell_away() -> None:
    """One person stayed, everyone else moved: 'moved' = pairs - 1 would reveal the stayer,
    so the share who moved is given as a lower bound from the shown cells."""
    table = {(0, 3): 4, (1, 2): 4, (2, 2): 1, (3, 0): 4}
    result = assert_protected(table, 3)
    assert result.stayed is None and result.moved is None
    assert result.moved_at_least is not None and result.moved_at_least <= 12


def test_below_the_threshold_of_pairs_nothing_but_the_count() -> None:
    result = shift.checkin_shift(pairs_of({(0, 1): 2}), 3, 0, None)
    assert result.pairs == 2 and result.flows == [] and result.moved is None


@pytest.mark.parametrize("seed", range(60))
def test_random_rooms_never_expose_a_small_cell(seed: int) -> None:
    rng = random.Random(seed)
    k = rng.choice([2, 3, 4])
    people = rng.randint(k, 9)
    table: dict[tuple[int, int], int] = {}
    for _ in range(people):
        a = rng.randrange(4)
        b = a if rng.random() < 0.4 else rng.randrange(4)
        table[(a, b)] = table.get((a, b), 0) + 1
    assert_protected(table, k)


def test_suppression_is_deterministic() -> None:
    table = {(0, 0): 1, (0, 3): 4, (1, 1): 5, (3, 3): 5, (2, 1): 2}
    first = shift.checkin_shift(pairs_of(table), 3, 0, None)
    for _ in range(3):
        assert shift.checkin_shift(list(reversed(pairs_of(table))), 3, 0, None) == first


def scale_pairs(moves: list[tuple[int, int, int]]) -> list[tuple[float, float]]:
    return [(float(a), float(b)) for a, b, n in moves for _ in range(n)]


def test_scale_down_same_up_and_mean_change() -> None:
    before = p.ScaleAggregate(count=9, min=1, max=5, histogram=[0, 0, 0, 6, 3], mean=4.33,
                              median=4, stdev=0.47)
    after = p.ScaleAggregate(count=9, min=1, max=5, histogram=[3, 6, 0, 0, 0], mean=1.67,
                             median=2, stdev=0.47)
    result = shift.scale_shift(scale_pairs([(4, 2, 3), (4, 1, 3), (5, 2, 3)]), 3, 2,
                               before, after)
    assert result.mean_change == -2.66
    assert (result.down, result.same, result.up) == (9, 0, 0)


def test_scale_small_part_hides_all_three() -> None:
    """Eight went down and one went up: showing 'down' 8 would give 'up' away (pairs - 8), and
    showing 'same' 0 could too, with the two public distributions: all three are hidden."""
    result = shift.scale_shift(scale_pairs([(5, 3, 4), (4, 2, 4), (2, 3, 1)]), 3, 0, None, None)
    assert (result.pairs, result.down, result.same, result.up) == (9, None, None, None)


def test_partition() -> None:
    assert shift.partition([5, 4], 3) == [5, 4]
    assert shift.partition([2, 9], 3) == [None, None], "9 = total - 2 would give it away"
    assert shift.partition([2, 1, 9], 3) == [None, None, 9]
    assert shift.partition([0, 9], 3) == [0, 9]


def scale_tables(rows: list[int], cols: list[int]) -> Iterator[dict[tuple[int, int], int]]:
    yield from tables(rows, cols)


@pytest.mark.parametrize("seed", range(40))
def test_random_scale_rooms_never_expose_a_small_part(seed: int) -> None:
    """Against every from-to table with the same two public distributions (values 1 to 4)."""
    rng = random.Random(1000 + seed)
    k = rng.choice([2, 3])
    moves: dict[tuple[int, int], int] = {}
    for _ in range(rng.randint(k, 8)):
        a = rng.randrange(4)
        b = min(3, max(0, a + rng.choice([-2, -1, 0, 0, 1])))
        moves[(a, b)] = moves.get((a, b), 0) + 1
    result = shift.scale_shift(scale_pairs([(a, b, n) for (a, b), n in moves.items()]), k, 0,
                               None, None)
    rows = [sum(n for (a, _), n in moves.items() if a == r) for r in range(4)]
    cols = [sum(n for (_, b), n in moves.items() if b == c) for c in range(4)]

    def parts(t: dict[tuple[int, int], int]) -> tuple[int, int, int]:
        return (sum(n for (a, b), n in t.items() if b < a),
                sum(n for (a, b), n in t.items() if b == a),
                sum(n for (a, b), n in t.items() if b > a))

    truth = parts(moves)
    shown = (result.down, result.same, result.up)
    public = list(scale_tables(rows, cols))
    consistent = [t for t in public
                  if all(s is None or v == s for v, s in zip(parts(t), shown, strict=True))]
    for i, (value, seen) in enumerate(zip(truth, shown, strict=True)):
        assert seen is None or seen == value
        if 0 < value < k:
            assert seen is None
            pinned_by_public = len({parts(t)[i] for t in public}) == 1
            possible = {parts(t)[i] for t in consistent}
            assert len(possible) > 1 or pinned_by_public, (moves, shown)


def test_own_shift() -> None:
    own = shift.own_shift(5, 1, p.CheckinValue(word="stressed"), p.CheckinValue(word="calm"))
    assert (own.before_quadrant, own.after_quadrant, own.moved) == (
        "high-unpleasant", "low-pleasant", True
    )
    same = shift.own_shift(5, 1, p.ScaleValue(value=3), p.ScaleValue(value=3))
    assert (same.change, same.moved) == (0, False)


def test_protect_on_a_bare_table() -> None:
    """Two rows and two columns: one small cell forces all four to be hidden, since any shown
    cell and the public sums give the rest."""
    shown = shift.protect({(0, 0): 1, (0, 1): 7, (1, 0): 5, (1, 1): 6}, 2, 3)
    assert set(shown.values()) == {None}
    roomy = shift.protect({(0, 0): 4, (0, 1): 7, (1, 0): 5, (1, 1): 6}, 2, 3)
    assert roomy == {(0, 0): 4, (0, 1): 7, (1, 0): 5, (1, 1): 6}
