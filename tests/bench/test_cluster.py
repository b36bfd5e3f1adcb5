"""``python -m bench.cluster`` still works end to end on a tiny room: a 3-shard Redis Cluster,
three nodes, three sessions. No timing is asserted; the figures only have to be there."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench.cluster import NODES, main

pytestmark = pytest.mark.cluster


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not (isinstance(value, float) and math.isnan(value))


def test_cluster_bench_measures_every_node_and_shard(tmp_path: Path) -> None:
    path = main(["--sizes", "30", "--sessions", "3", "--rounds", "1", "--ingest-rounds", "1",
                 "--out", str(tmp_path)])
    (record,) = json.loads(path.read_text())["results"]
    assert "error" not in record, record.get("error")
    assert sorted(record["shards_of_sessions"]) == [0, 1, 2], "one session on every shard"
    connect = record["connect"]
    assert connect["connected"] == 30 and connect["participants_per_node"] == [10, 10, 10]
    assert all(_number(connect["join_us_per_participant"][f"node{i}"]) for i in range(NODES))
    fanout = record["fanout"]
    assert fanout["received"] == fanout["expected"] == 30
    assert fanout["publishes_per_event_per_session"] == 1.0
    assert all(_number(fanout["shard_us_per_broadcast"][f"shard{i}"]) for i in range(NODES))
    (ingest,) = record["ingest"]["rounds"]
    assert ingest["acked"] == 30 and not ingest["errors"]
    assert all(_number(ingest["node_us_per_answer"][f"node{i}"]) for i in range(NODES))
    assert all(_number(ingest["shard_us_per_answer"][f"shard{i}"]) for i in range(NODES))
    assert _number(ingest["projector_after_last_send_ms"])
