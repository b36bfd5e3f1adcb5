"""``python -m bench.capacity CLUSTER.json...``: cores, machines and shards for a million.

Reads ``bench.cluster`` results (a run with many sessions per node, ``--placement affinity``, and
a run with one session spread over the nodes) and turns the figures measured at the largest size
into the sizing in docs/capacity.md, with every assumption a named constant here. Nothing is
measured by this module; it only multiplies.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

PARTICIPANTS = 1_000_000
ROOM = 10_000
FANOUT_S = 1.0
"""A step reaches every phone within this, when every session moves at the same moment."""
ANSWER_S = 10.0
"""Every participant's answer is in within this after the step opens (a burst)."""
JOIN_S = 60.0
"""The whole crowd joins within this."""
UTILISATION = 0.5
"""Share of a core planned for the peaks; the rest is headroom (storms, collector, noise)."""
CORES_PER_MACHINE = 8
STEPS = 20
"""Answerable steps in a session, for the length of its log."""


def _mean(values: dict[str, float | None], prefix: str) -> float:
    found = [v for k, v in values.items() if k.startswith(prefix) and v is not None]
    return sum(found) / len(found)


def _largest(results: list[dict[str, Any]], placement: str, one: bool) -> dict[str, Any]:
    fitting = [r for r in results if "error" not in r and r.get("placement") == placement
               and (r["sessions"] == 1) == one]
    if not fitting:
        sys.exit(f"no {placement} run with {'one session' if one else 'several sessions'}")
    return max(fitting, key=lambda r: r["size"])


def figures(record: dict[str, Any]) -> dict[str, float]:
    c, f = record["connect"], record["fanout"]
    i = record["ingest"]["rounds"][-1]
    return {
        "size": record["size"],
        "join_node": _mean(c["join_us_per_participant"], "node"),
        "join_shard": _mean(c["join_us_per_participant"], "shard"),
        "idle_node": _mean(c["idle_us_per_participant_second"], "node"),
        "kib_node": _mean(c["rss_kib_per_participant"], "node"),
        "frame_node": _mean(f["node_us_per_frame"], "node"),
        "broadcast_shard": _mean(f["shard_us_per_broadcast"], "shard"),
        "answer_node": _mean(i["node_us_per_answer"], "node"),
        "folded_node": _mean(i["node_us_per_folded_answer"], "node"),
        "answer_shard": _mean(i["shard_us_per_answer"], "shard"),
    }


def rooms(m: dict[str, float]) -> list[tuple[str, str]]:
    """100 sessions of 10,000, each session's participants on one node (placed by join code)."""
    p = PARTICIPANTS
    fanout = p * m["frame_node"] / 1e6 / FANOUT_S
    answers = p * m["answer_node"] / 1e6 / ANSWER_S
    joins = p * m["join_node"] / 1e6 / JOIN_S
    idle = p * m["idle_node"] / 1e6
    busiest = max(fanout, answers, joins) + idle
    cores = math.ceil(busiest / UTILISATION)
    per_core = p / cores
    shard = (p * m["answer_shard"] / 1e6 / ANSWER_S + p * m["join_shard"] / 1e6 / JOIN_S
             + (p // ROOM) * m["broadcast_shard"] / 1e6 / FANOUT_S)
    shards = max(3, math.ceil(shard / UTILISATION))
    return [
        ("node CPU for a step to every phone in 1 s", f"{fanout:.1f} cores"),
        ("node CPU for every answer in 10 s", f"{answers:.1f} cores"),
        ("node CPU for everyone joining in 60 s", f"{joins:.1f} cores"),
        ("node CPU while idle (keepalive)", f"{idle:.2f} cores"),
        (f"node processes (one per core, busiest peak + idle at {UTILISATION:.0%})",
         f"{cores} ({per_core:,.0f} participants each, {per_core * m['kib_node'] / 2**20:.2f}"
         " GiB of connections)"),
        (f"machines of {CORES_PER_MACHINE} cores", f"{math.ceil(cores / CORES_PER_MACHINE)}"),
        ("Redis CPU at the peaks (answers + joins + broadcasts)", f"{shard:.2f} cores"),
        (f"Redis Cluster shards (at {UTILISATION:.0%}, at least 3)", f"{shards}"),
    ]


def one_session(m: dict[str, float], nodes_measured: int = 3) -> list[tuple[str, str]]:
    """One session over many nodes: every node folds every answer, its shard takes them all."""
    fold = m["folded_node"]
    # A node's work in an answer burst of S: fold all S, handle its own share. The fold alone,
    # at UTILISATION of a core over ANSWER_S, bounds S whatever the number of nodes.
    s_fold = UTILISATION * ANSWER_S / (fold / 1e6)
    s_shard = UTILISATION * ANSWER_S / (m["answer_shard"] / 1e6)
    per_node = UTILISATION * FANOUT_S / (m["frame_node"] / 1e6)
    largest = min(s_fold, s_shard)
    nodes = math.ceil(largest / per_node)
    log = largest * STEPS
    return [
        ("CPU per answer on every node holding the session (folded, measured over "
         f"{nodes_measured} nodes)", f"{fold:.1f} us"),
        ("largest burst every node can fold in 10 s at 50 %", f"{s_fold:,.0f} answers"),
        ("largest burst its one shard takes in 10 s at 50 %", f"{s_shard:,.0f} answers"),
        ("participants one node delivers a step to in 1 s at 50 %", f"{per_node:,.0f}"),
        ("so: the largest session", f"{largest:,.0f} participants on {nodes} nodes"),
        (f"its log after {STEPS} answered steps", f"{log:,.0f} entries, folded in "
         f"{log * fold / 1e6:,.0f} s by a node that starts serving it late"),
    ]


def markdown(rows: list[tuple[str, str]]) -> str:
    return "\n".join(["| | |", "|---|---:|", *(f"| {a} | {b} |" for a, b in rows)])


def main(argv: list[str] | None = None) -> None:
    paths = [Path(a) for a in (argv if argv is not None else sys.argv[1:])]
    results = [r for path in paths for r in json.loads(path.read_text())["results"]]
    placed = figures(_largest(results, "affinity", one=False))
    single = figures(_largest(results, "spread", one=True))
    print(f"## 100 sessions of {ROOM:,} (from the affinity run at {placed['size']:,.0f})\n")
    print(markdown(rooms(placed)))
    print(f"\n## One session (from the one-session run at {single['size']:,.0f})\n")
    print(markdown(one_session(single)))


if __name__ == "__main__":
    main()
