"""``python -m bench.ab``: two versions of the server on the same targets, measured alternately.

    mkdir /tmp/old && git archive <old commit> server web scenarios | tar -x -C /tmp/old
    python -m bench.ab --old /tmp/old/server --targets attune,attune-sqlite --sizes 5000

On a shared machine a change worth 10 % cannot be seen by running the old code one hour and the
new one the next: the neighbours' load moves every figure by more than that. So this measures the
old code and this checkout's one after the other, ``--repeats`` times for every target and size,
each on a fresh server and fresh load workers (``bench.sqlite.measure``: fan-out, then ingest),
and prints for each target the medians, the spread and the new / old ratio within each pair, with
the load average of every measurement. The old code is the ``attune`` package found in ``--old``
(put first on the server process's ``PYTHONPATH``; the harness is this checkout's). Results go to
``bench/results/ab-DATE.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

from bench import system
from bench.sqlite import alternating, measure, spread

FIGURES = ("ingest_us_per_answer", "fanout_last_ms")


async def main(old: Path, targets: list[str], sizes: list[int], repeats: int, workers: int,
               out: Path) -> Path:
    bench = alternating(targets, sizes, workers, out)
    chosen = bench.plan.targets
    started = time.strftime("%Y%m%d-%H%M%S")
    here = os.environ.get("PYTHONPATH", "")
    records: list[dict[str, Any]] = []
    for n in sizes:
        for repeat in range(repeats):
            for target in chosen:
                for version in ("old", "new"):
                    os.environ["PYTHONPATH"] = (os.pathsep.join(p for p in (str(old), here) if p)
                                                if version == "old" else here)
                    record = await measure(bench, target, n)
                    record["version"] = version
                    records.append(record)
                    print(f"n={n:<6} repeat {repeat + 1}/{repeats}  {target.name:14} {version}  "
                          f"load {record['load_average']:5.1f}  ingest "
                          f"{record['ingest_us_per_answer']} us/answer  fan-out last "
                          f"{record['fanout_last_ms']} ms", flush=True)
    os.environ["PYTHONPATH"] = here
    names = [t.name for t in chosen]
    rows = summary(records, names, sizes)
    print("\nmedian (min-max) over the repeats; ratios are new / old within each pair")
    for row in rows:
        print(f"n={row['size']} {row['target']}: load average {spread(row['load_average'])}")
        for key in FIGURES:
            figures = row[key]
            print(f"  {key:22} old {spread(figures['old'])}  new {spread(figures['new'])}  "
                  f"ratio {spread(figures['ratio'])}")
    path = out / f"ab-{started}.json"
    path.write_text(json.dumps({
        "meta": {"started": started, "old": str(old), "targets": names, "sizes": sizes,
                 "repeats": repeats, "workers": workers, "machine": system.machine(),
                 "server_revision": system.revision(str(Path(__file__).resolve().parent.parent))},
        "records": records, "summary": rows}, indent=1))
    print(f"results: {path}")
    return path


def summary(records: list[dict[str, Any]], targets: list[str],
            sizes: list[int]) -> list[dict[str, Any]]:
    rows = []
    for n in sizes:
        for name in targets:
            mine = [r for r in records if r["size"] == n and r["target"] == name]
            pairs = list(zip([r for r in mine if r["version"] == "old"],
                             [r for r in mine if r["version"] == "new"], strict=True))
            row: dict[str, Any] = {"size": n, "target": name, "pairs": len(pairs),
                                   "load_average": [r["load_average"] for p in pairs for r in p]}
            for key in FIGURES:
                old = [o[key] for o, _ in pairs]
                new = [m[key] for _, m in pairs]
                row[key] = {"old": old, "new": new, "ratio": [
                    round(b / a, 3) for a, b in zip(old, new, strict=True)],
                    "median_ratio": round(statistics.median(new) / statistics.median(old), 3)}
            rows.append(row)
    return rows


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old", type=Path, required=True,
                        help="the folder holding the old code's attune package")
    parser.add_argument("--targets", default="attune,attune-sqlite")
    parser.add_argument("--sizes", default="5000", help="comma-separated participant counts")
    parser.add_argument("--repeats", type=int, default=3, help="old/new pairs per target and size")
    parser.add_argument("--workers", type=int, default=2, help="load generator processes")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse()
    asyncio.run(main(args.old.resolve(), args.targets.split(","),
                     [int(s) for s in args.sizes.split(",")], args.repeats, args.workers,
                     args.out))
