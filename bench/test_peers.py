"""The peer comparison still works end to end: a quick run of the harness against the servers
Attune is compared with (``websockets.broadcast()``, plain Starlette, python-socketio, in
``bench/peers.py``) beside Attune and the Python floor produces a well-formed result for each,
and the comparisons of docs/benchmarks.md are made. No timing is asserted.

Outside the product suite (``python -m pytest`` collects ``tests/`` only): it needs the
``bench`` extra, which brings the competitors. Run it with ``bash .ci/run --peers``, or, with
that extra installed, ``python -m pytest bench/test_peers.py``.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

from bench.__main__ import main

PEERS = ["floor", "websockets", "starlette", "socketio"]


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not (isinstance(value, float) and math.isnan(value))


def test_every_peer_runs_beside_attune(tmp_path: Path) -> None:
    assert importlib.util.find_spec("socketio") is not None, (
        "the peer comparison needs the bench extra: pip install -e '.[test,bench]'")
    targets = ",".join([*PEERS, "attune"])
    path = main(["--quick", "--sizes", "50", "--workers", "2", "--targets", targets,
                 "--scenarios", "fanout", "--no-profile", "--no-docs",
                 "--out", str(tmp_path)])
    results = json.loads(path.read_text())
    assert results["meta"]["skipped"] == []
    records = {r["target"]: r for r in results["results"]}
    assert set(records) == {*PEERS, "attune"}
    for name, record in records.items():
        assert "error" not in record, (name, record.get("error"))
        assert record["connect"]["connected"] == 50, name
        fanout = record["fanout"]
        assert fanout["missing"] == 0, name
        for key in ("p50_ms", "last_ms", "frames_per_s", "server_cpu_us_per_frame"):
            assert _number(fanout[key]), (name, key)
    checks = {t["check"] for t in results["targets"] if t["target"] == "attune"}
    assert {"frames/s vs floor", "frames/s vs websockets.broadcast()",
            "speed-up over plain Starlette (last participant)",
            "speed-up over python-socketio (last participant)"} <= checks
