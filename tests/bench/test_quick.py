"""The benchmark harness still works end to end on Attune's own targets and the two floors they are
measured against (bench/cfloor.c and the Python floor, neither needing a package): a quick run on
tiny sizes produces a well-formed result for every scenario. No timing is asserted; the figures
only have to be there. The other servers Attune is compared with (websockets, Starlette,
python-socketio) have their own command, ``bash .ci/run --peers`` (bench/test_peers.py), which
installs the ``bench`` extra."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench.__main__ import main
from bench.groups import main as groups_bench
from bench.report import median

TARGETS = "cfloor,floor,attune,attune-sqlite,attune-redis-2"


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not (isinstance(value, float) and math.isnan(value))


@pytest.mark.timeout(360)  # five servers, every scenario: minutes on a loaded 2-core machine
def test_quick_run_covers_every_scenario(tmp_path: Path) -> None:
    path = main(["--quick", "--sizes", "50", "--workers", "2", "--targets", TARGETS,
                 "--no-profile", "--no-docs", "--out", str(tmp_path)])
    results = json.loads(path.read_text())

    meta = results["meta"]
    assert meta["sizes"] == [50]
    assert meta["machine"]["nproc"] >= 1
    assert meta["frame_bytes"] > 100
    records = {r["target"]: r for r in results["results"]}
    assert meta["skipped"] == [], "these targets need no extra"
    assert set(records) == set(TARGETS.split(","))
    for name, record in records.items():
        assert "error" not in record, (name, record.get("error"))
        assert record["connect"]["connected"] == 50, name
        assert _number(record["memory"]["kib_per_connection"]), name
        fanout = record["fanout"]
        assert fanout["missing"] == 0, name
        assert all(r["received"] == r["expected"] == 50 for r in fanout["rounds"]), name
        for key in ("p50_ms", "p99_ms", "max_ms", "last_ms", "frames_per_s",
                    "server_cpu_us_per_frame", "load_cpu_us_per_frame"):
            assert _number(fanout[key]), (name, key)

    assert results["groups"]["received"] == 50 and _number(results["groups"]["form_ms"])

    attune = records["attune"]
    ingest = attune["ingest"]["rounds"][0]
    assert ingest["sent"] == ingest["acked"] == 50
    assert _number(attune["ingest"]["answers_per_s"])
    assert _number(attune["ingest"]["projector_after_last_send_ms"])
    slow = attune["slow"]
    assert slow["paused"] > 0
    assert slow["slow"]["missing"] == 0
    assert len(slow["rss_mb"]) == 4
    storm = attune["storm"]
    assert storm["attempted"] == 50
    assert storm["resumed"] == 50
    assert storm["replays"] == 50
    assert _number(storm["time_to_99_ms"])
    redis = records["attune-redis-2"]
    assert redis["redis"]["nodes"] == 2
    assert _number(redis["redis"]["publish_per_event"])
    assert redis["ingest"]["rounds"][0]["acked"] == 50

    assert _number(attune["fanout"]["command_ms"]) and _number(redis["fanout"]["command_ms"])
    sqlite = records["attune-sqlite"]
    assert sqlite["ingest"]["rounds"][0]["acked"] == 50
    restart = sqlite["restart"]
    assert restart["attempted"] == restart["resumed"] == 50
    assert _number(restart["server_ready_ms"]) and _number(restart["restart_to_all_resumed_ms"])

    for floor in ("cfloor", "floor"):
        assert records[floor]["ingest"]["rounds"][0]["acked"] == 50, floor
        assert _number(records[floor]["ingest"]["load_cpu_us_per_answer"]), floor

    checks = {(t["target"], t["check"]) for t in results["targets"]}
    assert ("attune", "frames/s vs floor") in checks
    assert ("attune", "ingest CPU per answer / floor's") in checks
    assert ("attune", "ingest CPU per answer / compiled floor's") in checks
    assert ("attune", "CPU per frame / compiled floor's") in checks
    assert ("attune-redis-2", "ingest CPU per answer vs memory backend (all nodes)") in checks
    assert ("attune", "KiB per idle participant") in checks
    assert ("attune-redis-2", "Redis publishes per event") in checks
    assert ("attune-sqlite", "ingest CPU per answer vs memory backend") in checks
    assert ("attune-redis-2", "added command-to-broadcast time vs memory backend (ms)") in checks

    # The median of three runs takes each scenario whole from the run with the middle figure.
    runs = []
    for i, last in enumerate((30.0, 10.0, 20.0)):
        run = json.loads(path.read_text())
        for record in run["results"]:
            if record["target"] == "attune":
                record["fanout"]["last_ms"] = last
                record["fanout"]["run"] = i
        runs.append(tmp_path / f"run-{i}.json")
        runs[-1].write_text(json.dumps(run))
    chosen = next(r for r in median(runs)["results"] if r["target"] == "attune")
    assert chosen["fanout"]["last_ms"] == 20.0 and chosen["fanout"]["run"] == 2


def test_groups_bench_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """``python -m bench.groups`` on a tiny room, pure and over sockets: every phone got its
    group and the figures are there (none of their timings is asserted), and a forming after
    a second of stillness was worked out ahead."""
    assert groups_bench(["--sizes", "30", "--sockets", "30", "--workers", "2",
                         "--stillness", "1.0"]) == 0
    results = json.loads(capsys.readouterr().out)
    (pure,) = results["pure"]
    assert pure["participants"] == 30 and pure["groups"] == 10
    assert all(_number(pure[key]) for key in ("fold_ms", "views_ms", "us_per_member"))
    over = results["sockets"]
    assert (over["connected"], over["received"], over["groups"]) == (30, 30, 10)
    assert all(_number(over[key]) for key in ("form_ms", "step_ms", "form_cpu_us_per_phone"))
    # A second of stillness after a change is far more than a room of 30 needs to be prepared.
    assert [(still["still_s"], still["ahead"]) for still in over["stillness"]] == [(1.0, True)]
