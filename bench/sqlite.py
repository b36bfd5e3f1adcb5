"""``python -m bench.sqlite``: the SQLite backend against the memory backend, measured alternately.

    python -m bench.sqlite                       # 1,000 and 5,000 participants, 5 repeats
    python -m bench.sqlite --sizes 5000 --repeats 9

The issue's goals for the default backend are ratios to the memory backend: ingest CPU per answer
at most 1.25x, fan-out latency to the last participant within 10 %. On a shared machine one run
of each says little (a neighbour's test suite moves a figure by 20 % or more), so this runs the
two targets one after the other, memory then SQLite, ``--repeats`` times at every size, each
measurement on a fresh server and fresh load workers as ``python -m bench`` does, and reports
the median and the spread of each figure and of the ratio within each pair, with the load
average before every measurement. The results go to ``bench/results/sqlite-DATE.json``.
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
from bench.loadgen import Load
from bench.run import Bench, Plan, Run
from bench.targets import ALL, Target

TARGETS = ("attune", "attune-sqlite")
"""Memory first, then SQLite, in every repeat."""
FANOUT_ROUNDS = 10
INGEST_ROUNDS = 3


async def measure(bench: Bench, target: Target, n: int) -> dict[str, Any]:
    """One target at one size: fan-out, then one warm-up ingest round and ``INGEST_ROUNDS``."""
    bench.load = Load(bench.plan.workers, bench.load_cpus)
    run = Run(bench, target, n)
    load = os.getloadavg()[0]
    try:
        await run.start()
        await run.connect()
        fanout = await run.fanout(FANOUT_ROUNDS)
        await run.ingest(1)
        ingest = await run.ingest(INGEST_ROUNDS)
    finally:
        await run.stop()
        bench.load.stop()
    return {
        "target": target.name, "size": n, "load_average": round(load, 2),
        "ingest_us_per_answer": ingest["server_cpu_us_per_answer"],
        "ingest_rounds_us": [r["server_cpu_us_per_answer"] for r in ingest["rounds"]],
        "fanout_last_ms": fanout["last_ms"], "fanout_p50_ms": fanout["p50_ms"],
    }


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3g} ({min(values):.3g}-{max(values):.3g})"


def summary(records: list[dict[str, Any]], sizes: list[int]) -> list[dict[str, Any]]:
    rows = []
    for n in sizes:
        pairs = [(m, s) for m, s in zip(
            [r for r in records if r["size"] == n and r["target"] == TARGETS[0]],
            [r for r in records if r["size"] == n and r["target"] == TARGETS[1]], strict=True)]
        row: dict[str, Any] = {"size": n, "pairs": len(pairs),
                               "load_average": [r["load_average"] for p in pairs for r in p]}
        for key in ("ingest_us_per_answer", "fanout_last_ms", "fanout_p50_ms"):
            memory = [m[key] for m, _ in pairs]
            sqlite = [s[key] for _, s in pairs]
            row[key] = {"memory": memory, "sqlite": sqlite,
                        "ratio": [round(b / a, 3) for a, b in zip(memory, sqlite, strict=True)]}
        rows.append(row)
    return rows


def alternating(names: list[str] | tuple[str, ...], sizes: list[int], workers: int,
                out: Path) -> Bench:
    """A bench of fan-out and ingest over the named targets, ready to measure them in turn: the
    open-files limit raised and the server and load workers on their cores."""
    targets = [t for name in names for t in ALL if t.name == name]
    plan = Plan(sizes=sizes, targets=targets, scenarios={"fanout", "ingest"}, workers=workers,
                out=out)
    plan.out.mkdir(parents=True, exist_ok=True)
    bench = Bench(plan, print)
    system.raise_open_files()
    if bench.load_cpus:
        system.pin(0, bench.load_cpus)
    return bench


async def main(sizes: list[int], repeats: int, workers: int, out: Path) -> Path:
    bench = alternating(TARGETS, sizes, workers, out)
    targets = bench.plan.targets
    started = time.strftime("%Y%m%d-%H%M%S")
    records = []
    for n in sizes:
        for repeat in range(repeats):
            for target in targets:
                record = await measure(bench, target, n)
                records.append(record)
                print(f"n={n:<6} repeat {repeat + 1}/{repeats}  {target.name:14} load "
                      f"{record['load_average']:5.1f}  ingest {record['ingest_us_per_answer']} "
                      f"us/answer  fan-out last {record['fanout_last_ms']} ms", flush=True)
    rows = summary(records, sizes)
    print("\nmedian (min-max) over the repeats; ratios are SQLite / memory within each pair")
    for row in rows:
        print(f"n={row['size']}: load average {spread(row['load_average'])}")
        for key, goal in (("ingest_us_per_answer", "<= 1.25"), ("fanout_last_ms", "<= 1.10"),
                          ("fanout_p50_ms", "")):
            figures = row[key]
            print(f"  {key:22} memory {spread(figures['memory'])}  sqlite "
                  f"{spread(figures['sqlite'])}  ratio {spread(figures['ratio'])} {goal}")
    path = out / f"sqlite-{started}.json"
    path.write_text(json.dumps({
        "meta": {"started": started, "sizes": sizes, "repeats": repeats, "workers": workers,
                 "machine": system.machine(), "server_revision": system.revision(
                     str(Path(__file__).resolve().parent.parent))},
        "records": records, "summary": rows}, indent=1))
    print(f"results: {path}")
    return path


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.sqlite", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,5000", help="comma-separated participant counts")
    parser.add_argument("--repeats", type=int, default=5, help="memory/SQLite pairs per size")
    parser.add_argument("--workers", type=int, default=2, help="load generator processes")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse()
    asyncio.run(main([int(s) for s in args.sizes.split(",")], args.repeats, args.workers,
                     args.out))
