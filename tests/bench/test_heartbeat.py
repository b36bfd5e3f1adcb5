"""``python -m bench.heartbeat`` still works end to end on a small room: both windows measured,
every ping answered. No timing is asserted; the figures only have to be there."""

from __future__ import annotations

import json
from pathlib import Path

from bench.heartbeat import main


def test_heartbeat_bench_measures_both_windows(tmp_path: Path) -> None:
    path = main(["--phones", "40", "--seconds", "2", "--interval", "1", "--out", str(tmp_path)])
    result = json.loads(path.read_text())
    assert result["connected"] == 40
    quiet, beat = result["windows"]["quiet"], result["windows"]["heartbeat"]
    assert quiet["pings_sent"] == 0 and quiet["pongs"] == 0
    assert beat["pings_sent"] >= 40, "each of the 40 phones pinged"
    assert beat["pongs"] == beat["pings_sent"], "every ping is answered"
    assert beat["round_trip_ms"]["p50"] is not None and beat["round_trip_ms"]["p50"] >= 0
    assert beat["closed"] == 0
    assert isinstance(result["extra_us_per_ping"], float)
