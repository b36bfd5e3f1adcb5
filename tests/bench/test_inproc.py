"""``python -m bench.inproc`` still drives the real application: every answer of a tiny room is
acknowledged through in-memory transports, in the shuffled order and in join order (no timing
is asserted)."""

from __future__ import annotations

from bench.inproc import main


def test_inproc_acknowledges_every_answer() -> None:
    results = main(["--participants", "40", "--rounds", "2"])
    assert len(results["floor"]) == len(results["attune"]) == 2
    assert all(cost > 0 for costs in results.values() for cost in costs)


def test_inproc_in_join_order_too() -> None:
    results = main(["--participants", "40", "--rounds", "1", "--join-order"])
    assert len(results["floor"]) == len(results["attune"]) == 1
